"""Importing a spreadsheet in a real browser: staff upload an XLSX whose date column has a header the portal does
not know, match it by hand, see the dry run with its error row, apply, and find the engagement on the country page.
axe-core scans every step; screenshots at 390 and 1366 px go to test-artifacts/."""

import pytest
from playwright.sync_api import expect

from engagements.models import Engagement
from partnerships.services import partnership_create
from tests import factories
from tests.imports.helpers import xlsx_bytes

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def check(page, name: str) -> None:
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")
        assert serious_accessibility_violations(page) == [], (name, width)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"


def test_staff_import_an_xlsx_fixing_a_column_and_see_the_rows(page, tmp_path):
    staff = factories.staff(username="staff-import")
    partnership_create(actor=staff, country=factories.country("NO"))
    sheet = tmp_path / "meetings.xlsx"
    sheet.write_bytes(
        xlsx_bytes(
            [
                ["Pays", "Jour", "Résumé", "Volets"],
                ["NO", "2026-02-03", "Imported workshop on safety testing", "safety_standards"],
                ["Atlantis", "2026-02-04", "A meeting nowhere", ""],
            ]
        )
    )
    sign_in(page, "staff-import")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import a spreadsheet")).to_be_visible()
    check(page, "import-start")
    page.get_by_label("What the file holds").select_option("engagements")
    page.get_by_label("Spreadsheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and match the columns").click()
    expect(page.get_by_role("heading", name="Import of meetings.xlsx")).to_be_visible()
    assert page.get_by_label("Date").input_value() == ""  # "Jour" is not a header it knows
    check(page, "import-mapping")
    page.get_by_label("Date").select_option(label="Jour")
    page.get_by_role("button", name="Run the dry run").click()
    expect(page.get_by_text("Dry run done: nothing written yet")).to_be_visible()
    assert Engagement.objects.count() == 0
    error_row = page.locator("tr.import-error")
    expect(error_row).to_contain_text("Atlantis")
    expect(error_row).to_contain_text("Pays")
    check(page, "import-dry-run")
    page.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_text("Applied: 1 created, 0 updated, 0 unchanged, 1 refused.")).to_be_visible()
    check(page, "import-applied")
    page.goto("/countries/no/")
    expect(page.locator("main :not(option):not(select)", has_text="Imported workshop on safety testing").last).to_be_visible()
