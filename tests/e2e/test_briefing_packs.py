"""Briefing packs in a real browser: programme staff make a grouping, ask for a pack of it and of a selection, and
see it ready with its download; axe-core checks each page at 390 and 1366 px; screenshots are saved."""

import pytest

from partnerships.models import BriefingPack
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def _check(page, name):
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
        screenshot(page, f"{name}-{width}")
        assert serious_accessibility_violations(page) == [], name


def test_staff_make_a_grouping_and_get_a_pack_of_it(page):
    staff = factories.staff(username="staff-packs")
    for code in ("NO", "KE", "FR"):
        partnership_create(actor=staff, country=factories.country(code))

    sign_in(page, "staff-packs")
    page.get_by_role("link", name="Briefing packs").first.click()
    page.get_by_role("link", name="Manage country groupings").click()
    page.get_by_role("link", name="New grouping").click()
    page.get_by_label("Name").fill("Northern partners")
    page.get_by_label("Countries").select_option(label=["Norway", "France"])
    _check(page, "grouping-form")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Grouping “Northern partners” created.").is_visible()
    _check(page, "groupings")

    page.get_by_role("link", name="Briefing packs").first.click()
    # An empty request is refused on the page, before anything is built.
    page.get_by_role("button", name="Build the pack").click()
    assert page.get_by_text("the pack would be empty").first.is_visible()
    assert not BriefingPack.objects.exists()

    page.get_by_label("Grouping").select_option(label="Northern partners")
    page.get_by_label("Countries").select_option(label=["Kenya"])
    _check(page, "packs")
    page.get_by_role("button", name="Build the pack").click()
    # Tasks run in-process here: the pack is built by the time its page opens (a worker would poll with htmx).
    assert page.get_by_text("3 of 3 countries done").is_visible()
    download = page.get_by_role("link", name="Download the PDF")
    assert download.is_visible()
    _check(page, "pack-ready")
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.startswith("briefing-pack-")

    page.get_by_role("link", name="Notifications").first.click()
    page.get_by_role("link", name="Your briefing pack of 3 countries is ready.").click()
    assert page.get_by_role("link", name="Download the PDF").is_visible()
