"""Names sort as readers expect in both languages, accents and case set aside, the same on SQLite and PostgreSQL:
in French "Égypte" comes before "Espagne", not after "Viêt Nam" (where a byte order puts it)."""

import pytest
from django.urls import reverse
from django.utils import translation

from core.i18n import name_order, sort_key
from countries.models import Country
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

CODES = ["VN", "EG", "ES", "AE", "EE", "DE"]


def test_the_key_sets_accents_and_case_aside():
    assert sort_key("Égypte") == "egypte" and sort_key("Viêt Nam") == "viet nam" and sort_key("Côte d’Ivoire") == "cote d'ivoire"
    assert sorted(["Viêt Nam", "Égypte", "Espagne", "estonie"], key=sort_key) == ["Égypte", "Espagne", "estonie", "Viêt Nam"]


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", ["Allemagne", "Égypte", "Émirats arabes unis", "Espagne", "Estonie", "Viêt Nam"]),
        ("en", ["Egypt", "Estonia", "Germany", "Spain", "United Arab Emirates", "Viet Nam"]),
    ],
)
def test_the_database_orders_by_the_readers_language(language, expected):
    with translation.override(language):
        names = [c.name for c in Country.objects.filter(iso2__in=CODES).order_by(name_order())]
    assert names == expected


def test_a_renamed_country_gets_its_new_key():
    country = Country.objects.get(iso2="VN")
    country.name_fr = "Vietnam"
    country.save(update_fields=["name_fr"])
    assert Country.objects.get(iso2="VN").sort_fr == "vietnam"


def test_a_page_lists_countries_in_french_order(client, staff_user):
    for code in CODES:
        partnership_create(actor=staff_user, country=factories.country(code))
    client.force_login(staff_user)
    html = client.get(reverse("follow-ups"), {"show": "all"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    options = html.split('name="country" id="id_country"')[1].split("</select>")[0]
    assert options.index("Égypte") < options.index("Espagne") < options.index("Viêt Nam")
