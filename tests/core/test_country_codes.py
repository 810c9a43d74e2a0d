"""Country codes, one rule (core.country_codes): two ASCII letters in either case. Pages and feeds redirect upper
case to lower case, the API accepts either case, and anything else is a 404 in a path and a 400 in a body, never
folded into some other country's code ("ß".upper() is "SS", South Sudan)."""

import pytest
from django.utils import timezone

from core import country_codes
from engagements.models import Engagement
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories
from tests.api.conftest import token_client

API = "/api/v1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("gb", "GB"), ("GB", "GB"), ("Gb", "GB"), (" gb ", "GB"), ("ß", None), ("gbı", None), ("ı", None), ("g", None),
     ("gbr", None), ("g1", None), ("ǅ", None), ("ｇｂ", None), ("", None), (None, None), (12, None), ("g\x00", None)],
)  # fmt: skip
def test_only_two_ascii_letters_are_a_country_code(value, expected):
    assert country_codes.parse(value) == expected


@pytest.fixture
def staff_api(db, staff_user):
    for code in ("GB", "SS"):
        partnership_create(actor=staff_user, country=factories.country(code))
    rollup_countries()
    return token_client(staff_user)


@pytest.mark.parametrize("code", ["ß", "gbı", "GBR", "g", " ", "ss\n"])
def test_an_api_body_with_anything_but_a_code_is_refused_and_writes_nothing(staff_api, code):
    body = {"country": code, "occurred_on": timezone.localdate().isoformat(), "kind": "call", "summary": "Met"}
    response = staff_api.post(f"{API}/engagements/", body, format="json")
    assert response.status_code == 400, response.content
    assert [e["attr"] for e in response.json()["errors"]] == ["country"]
    assert "two-letter ISO code" in response.json()["errors"][0]["detail"]
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("code", ["gb", "GB", "gB"])
def test_an_api_body_takes_either_case(staff_api, code):
    body = {"country": code, "occurred_on": timezone.localdate().isoformat(), "kind": "call", "summary": "Met"}
    assert staff_api.post(f"{API}/engagements/", body, format="json").status_code == 201
    assert Engagement.objects.get().country.iso2 == "GB"


def test_api_addresses_take_either_case_and_nothing_else(staff_api):
    for path in ("countries/gb/", "countries/GB/", "countries/gb/status/", "countries/GB/status/", "partnerships/gb/"):
        assert staff_api.get(f"{API}/{path}").status_code == 200, path
    for path in ("countries/%C3%9F/", "countries/gb%C4%B1/", "countries/%C3%9F/status/", "partnerships/%C3%9F/"):
        assert staff_api.get(f"{API}/{path}").status_code == 404, path


def test_api_filters_refuse_what_is_not_a_code(staff_api):
    assert staff_api.get(f"{API}/engagements/", {"country": "gb"}).status_code == 200
    response = staff_api.get(f"{API}/engagements/", {"country": "ß"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "country"
    assert staff_api.get(f"{API}/announcements/", {"country": "ß"}).status_code == 400


@pytest.fixture
def staff_client(client, staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    partnership_create(actor=staff_user, country=factories.country("SS"))
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("path", ["/countries/%C3%9F/", "/countries/gb%C4%B1/", "/countries/gbr/", "/countries/g/",
                                  "/countries/%C3%9F/counterparts/", "/announcements/feed/countries/%C3%9F/"])  # fmt: skip
def test_a_page_address_with_anything_but_a_code_is_not_found(staff_client, path):
    assert staff_client.get(path).status_code == 404


def test_an_upper_case_page_address_redirects_to_lower_case(staff_client):
    response = staff_client.get("/countries/GB/?as_of=2026-01-01")
    assert response.status_code == 301
    assert response["Location"] == "/countries/gb/?as_of=2026-01-01"
    assert staff_client.get("/countries/Gb/counterparts/")["Location"] == "/countries/gb/counterparts/"
    assert staff_client.get("/announcements/feed/countries/GB/")["Location"] == "/announcements/feed/countries/gb/"
    assert staff_client.get("/countries/gb/").status_code == 200
    # A form sent to the upper-case address keeps its method (308), and nothing is written on the way.
    response = staff_client.post("/countries/GB/follow-ups/new/", {"description": "Call back"})
    assert response.status_code == 308
    assert response["Location"] == "/countries/gb/follow-ups/new/"


def test_the_public_list_does_not_fold_a_stray_character_into_a_country(client, staff_user):
    partnership_create(actor=staff_user, country=factories.country("SS"))
    response = client.get("/announcements/", {"country": "ß"})
    assert response.status_code == 200
    assert response.context["country"] is None
    assert response.context["unknown_filter"] is True
