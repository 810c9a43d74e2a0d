"""A liaison in a real browser: opens their country from the home page, moves a track forward with the
keyboard-reachable form, sees the move in the history and on the timeline, checks their follow-ups,
and reads the country page in French. axe-core checks each page; screenshots are saved."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements.services import follow_up_create
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def test_a_liaison_moves_a_track_forward_and_checks_follow_ups(page):
    staff = factories.staff(username="staff-flow")
    liaison = factories.liaison("NO", username="no-liaison", first_name="Nora", last_name="Liaison")
    partnership_create(actor=staff, country=factories.country("NO"))
    follow_up_create(
        actor=liaison,
        country=factories.country("NO"),
        description="Send the safety standard draft",
        due_on=timezone.localdate() - datetime.timedelta(days=1),
        owner=liaison,
    )
    rollup_countries()

    sign_in(page, "no-liaison")
    page.get_by_role("link", name="Norway").first.click()
    assert page.get_by_role("heading", name="Norway NO").is_visible()
    screenshot(page, "liaison-country")
    assert serious_accessibility_violations(page) == []

    card = page.get_by_role("article", name="AI safety standards")
    card.get_by_text("Change the stage").click()
    card.get_by_label("Stage", exact=True).select_option("exploring")
    card.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_text("AI safety standards: saved.").is_visible()
    card = page.get_by_role("article", name="AI safety standards")
    assert card.locator('[aria-current="step"]').inner_text() == "Exploring"
    timeline = page.locator("ol.timeline")
    assert "AI safety standards, Not started → Exploring" in timeline.inner_text()
    screenshot(page, "liaison-moved")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Follow-ups").click()
    assert page.get_by_role("heading", name="Follow-ups", exact=True).is_visible()
    assert page.get_by_text("Send the safety standard draft").is_visible()
    screenshot(page, "liaison-follow-ups")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Mark “Send the safety standard draft” as done").click()
    # htmx swaps the row in place: the page is not reloaded, the row says it is done.
    expect(page.get_by_role("status").filter(has_text="Done: Send the safety standard draft")).to_be_visible()
    assert page.get_by_role("button", name="Mark “Send the safety standard draft” as done").count() == 0
    # Focus does not fall back to the top of the page, and the change is announced.
    expect(page.locator("td[tabindex='-1']")).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("✓ Done: Send the safety standard draft")
    # Done by mistake: "Undo" puts the row back, with its "Done" button.
    page.get_by_role("button", name="Undo: open “Send the safety standard draft” again").click()
    expect(page.get_by_role("button", name="Mark “Send the safety standard draft” as done")).to_be_visible()
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Home").click()
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.get_by_role("link", name="Norvège").first.click()
    assert page.get_by_role("heading", name="Chronologie").is_visible()
    screenshot(page, "liaison-country-fr")
    assert serious_accessibility_violations(page) == []
