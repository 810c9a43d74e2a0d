"""The ISO 3166-1 data shipped by the data migration."""

import pytest
from django.utils import translation

from countries.models import Country
from countries.regions import Region

pytestmark = pytest.mark.django_db


def test_every_iso_3166_1_entry_is_loaded():
    assert Country.objects.count() == 249
    assert Country.objects.values("iso3").distinct().count() == 249
    assert Country.objects.values("numeric").distinct().count() == 249


def test_united_kingdom():
    gb = Country.objects.get(iso2="GB")
    assert (gb.iso3, gb.numeric, gb.name_en, gb.name_fr) == ("GBR", "826", "United Kingdom", "Royaume-Uni")
    assert gb.region == Region.EUROPE and gb.get_region_display() == "Europe"
    assert gb.get_subregion_display() == "Northern Europe"


def test_accented_names_are_intact():
    ci = Country.objects.get(iso2="CI")
    assert ci.name_en == "Côte d'Ivoire"
    assert Country.objects.get(iso2="AX").name_en == "Åland Islands"
    assert Country.objects.get(iso2="RE").name_en == "Réunion"
    assert Country.objects.get(iso2="US").name_fr == "États-Unis"


def test_regions_of_the_programmes_named_countries():
    expected = {
        "FR": ("Europe", "Western Europe", ""),
        "KE": ("Africa", "Sub-Saharan Africa", "Eastern Africa"),
        "BR": ("Americas", "Latin America and the Caribbean", "South America"),
        "AE": ("Asia", "Western Asia", ""),
        "IN": ("Asia", "Southern Asia", ""),
        "JP": ("Asia", "Eastern Asia", ""),
        "NZ": ("Oceania", "Australia and New Zealand", ""),
    }
    for code, (region, subregion, intermediate) in expected.items():
        c = Country.objects.get(iso2=code)
        assert (c.get_region_display(), c.get_subregion_display(), c.get_intermediate_region_display()) == (
            region,
            subregion,
            intermediate,
        ), code


def test_only_antarctica_has_no_region():
    assert list(Country.objects.filter(region="").values_list("iso2", flat=True)) == ["AQ"]


def test_name_follows_the_active_language():
    de = Country.objects.get(iso2="DE")
    with translation.override("fr"):
        assert de.name == "Allemagne"
    with translation.override("en"):
        assert de.name == "Germany"
