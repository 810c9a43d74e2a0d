"""Programme staff in a real browser: the pipeline dashboard, a region filter, the world map, a CSV download.
axe-core checks every page; screenshots go to test-artifacts/."""

import csv
import io

import pytest
from playwright.sync_api import expect

from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def programme():
    staff = factories.staff(username="staff-dash", first_name="Sam", last_name="Staff")
    for code in ("GB", "FR", "KE", "BR"):
        partnership_create(actor=staff, country=factories.country(code))
    safety = CountryTrack.objects.get(country__iso2="FR", track__key="safety_standards")
    country_track_move(actor=staff, country_track=safety, to_stage=factories.stage("safety_standards", "exploring"), note="")
    rollup_countries()
    return staff


def check_page(page, name: str) -> None:
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_staff_filter_the_pipeline_open_the_map_and_download_the_matrix(page, programme):
    sign_in(page, "staff-dash")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Programme pipeline")).to_be_visible()
    expect(page.get_by_role("heading", name="4 countries")).to_be_visible()
    check_page(page, "dashboard-pipeline")

    page.get_by_label("Region").select_option(label="Europe")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="2 countries")).to_be_visible()
    matrix = page.locator("table.matrix")
    expect(matrix).to_contain_text("France")
    expect(matrix).to_contain_text("United Kingdom")
    expect(matrix).not_to_contain_text("Kenya")
    expect(matrix.get_by_role("row").filter(has_text="France")).to_contain_text("Exploring")
    check_page(page, "dashboard-pipeline-europe")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV of pipeline matrix").click()
    download = download_info.value
    assert download.suggested_filename.startswith("pipeline-matrix-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as downloaded:
        rows = list(csv.reader(io.StringIO(downloaded.read())))
    assert rows[0][:3] == ["Country", "ISO code", "Region"]
    assert sorted(row[1] for row in rows[1:]) == ["FR", "GB"]  # the filter on screen applies to the download
    france = next(row for row in rows if row[1] == "FR")
    assert "Exploring" in france

    page.get_by_role("link", name="World map").click()
    expect(page.get_by_role("heading", name="World map")).to_be_visible()
    svg = page.locator("figure.world-map svg")
    expect(svg.locator("title").first).to_have_text("Countries shaded by the furthest stage reached on any track")
    expect(svg.locator("path title", has_text="Kenya:")).to_have_count(1)
    table = page.locator("#map-table-title ~ .table-scroll table")
    expect(table.get_by_role("row")).to_have_count(5)  # the header and the four countries
    check_page(page, "dashboard-map")

    for name in ("Funnels", "Needs attention", "Infrastructure", "History"):
        page.get_by_role("navigation", name="Dashboards").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        check_page(page, f"dashboard-{name.lower().replace(' ', '-')}")
