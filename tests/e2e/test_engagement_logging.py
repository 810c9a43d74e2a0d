"""Logging an engagement in a real browser, the liaison's main job.

The liaison's logging flow: a liaison signs in, logs an engagement with a new counterpart and a
follow-up (after a first attempt the form refuses, keeping what was typed), sees it on the country
timeline and in their follow-ups, moves a track forward, and switches to French. Also: the draft
survives a reload, and the whole form can be filled and sent with the keyboard alone. axe-core scans
every page visited; screenshots go to test-artifacts/.
"""

import datetime
import re

import pytest
from playwright.sync_api import expect

from countries.models import Counterpart
from engagements.models import Engagement, FollowUp
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def norway():
    staff = factories.staff(username="staff-log")
    liaison = factories.liaison("NO", username="no-liaison", first_name="Nora", last_name="Liaison")
    partnership_create(actor=staff, country=factories.country("NO"))
    factories.CounterpartFactory(country=factories.country("NO"), name="Ola Minister", title="Minister of Digitalisation")
    rollup_countries()
    return liaison


def check_page(page, name: str) -> None:
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_a_liaison_logs_an_engagement_with_a_new_counterpart_and_a_follow_up(page, norway):
    due = datetime.date.today() + datetime.timedelta(days=7)
    sign_in(page, "no-liaison")
    check_page(page, "log-home")
    page.get_by_role("link", name="Log an engagement with Norway").click()
    expect(page.get_by_role("heading", name="Log an engagement with Norway")).to_be_visible()
    assert page.get_by_label("Date").input_value() == datetime.date.today().isoformat()
    expect(page.get_by_role("group", name=re.compile(r"^Follow-up \d"))).to_have_count(1)
    check_page(page, "log-form")

    page.get_by_label("Kind").select_option("visit")
    page.get_by_label("AI safety standards").check()
    page.get_by_label("Ola Minister (Minister of Digitalisation)").check()
    # Quick-add of someone new, without leaving the form (htmx).
    quick_add = page.get_by_role("group", name="Someone new")
    quick_add.get_by_label("Name").fill("Kari Nordmann")
    quick_add.get_by_label("Title").fill("Director of AI Safety")
    quick_add.get_by_role("button", name="Add").click()
    expect(page.locator("#counterpart-picker").get_by_text("Kari Nordmann added and ticked.")).to_be_visible()
    expect(page.locator("#live-region")).to_have_text("Kari Nordmann added and ticked.")
    expect(page.get_by_label("Kari Nordmann (Director of AI Safety)")).to_be_checked()
    expect(page.get_by_label("Ola Minister (Minister of Digitalisation)")).to_be_checked()
    assert quick_add.get_by_label("Name").input_value() == ""

    page.get_by_label("Outcome").fill("Agreed to share the national evaluation framework.")
    row = page.get_by_role("group", name="Follow-up 1")
    row.get_by_label("What to do").fill("Send the evaluation framework")
    row.get_by_label("Due on").fill(due.isoformat())
    page.get_by_role("button", name="Add another follow-up").click()
    expect(page.get_by_role("group", name="Follow-up 2")).to_be_visible()

    # The summary is forgotten: the form comes back with the error next to it, everything else kept.
    page.get_by_role("button", name="Save the engagement").click()
    expect(page.locator("#id_summary_error")).to_have_text("Summarise what was discussed.")
    assert page.get_by_label("Outcome").input_value() == "Agreed to share the national evaluation framework."
    expect(page.get_by_label("Kari Nordmann (Director of AI Safety)")).to_be_checked()
    assert (
        page.get_by_role("group", name="Follow-up 1").get_by_label("What to do").input_value() == "Send the evaluation framework"
    )
    assert page.get_by_label("Kind").input_value() == "visit"
    assert Engagement.objects.count() == 0
    check_page(page, "log-form-error")

    page.get_by_label("Summary").fill("Visit to the AI safety institute in Oslo.")
    page.get_by_role("button", name="Save the engagement").click()
    expect(page.get_by_text("logged for Norway.")).to_be_visible()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Visit to the AI safety institute in Oslo.")
    expect(timeline).to_contain_text("AI safety standards")
    expect(page.locator("#counterparts-title + p + .table-scroll table")).to_contain_text("Kari Nordmann")
    check_page(page, "log-country-after")

    engagement = Engagement.objects.get()
    assert engagement.kind == "visit"
    assert sorted(engagement.counterparts.values_list("name", flat=True)) == ["Kari Nordmann", "Ola Minister"]
    assert Counterpart.objects.get(name="Kari Nordmann").title == "Director of AI Safety"
    follow_up = FollowUp.objects.get()
    assert (follow_up.description, follow_up.due_on, follow_up.owner) == ("Send the evaluation framework", due, norway)

    # The counterparts: Ola leaves the post and Kari's colleague takes it over.
    page.get_by_role("link", name="Manage counterparts").click()
    expect(page.get_by_role("heading", name="Counterparts in Norway")).to_be_visible()
    check_page(page, "log-counterparts")
    page.get_by_role("link", name="Edit Ola Minister").click()
    page.get_by_label("Successor's name").fill("Ingrid Successor")
    page.get_by_role("button", name="Record the departure").click()
    expect(page.get_by_text("Ingrid Successor holds it now.")).to_be_visible()
    in_post = page.locator("#current-title + .table-scroll table")
    expect(in_post.get_by_role("row").filter(has_text="Ingrid Successor")).to_contain_text("Ola Minister")
    # Leaving today: still in post until tonight, marked as leaving.
    expect(in_post.get_by_role("row").filter(has_text="leaving on")).to_contain_text("Ola Minister")
    check_page(page, "log-counterparts-after-departure")
    page.get_by_role("link", name="Edit Ola Minister").click()
    expect(page.get_by_role("button", name="Record the departure")).to_have_count(0)
    expect(page.locator("#history-title + ol")).to_contain_text("left the post on")
    check_page(page, "log-counterpart-history")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Follow-ups").click()
    expect(page.get_by_role("row").filter(has_text="Send the evaluation framework")).to_contain_text("Norway")
    check_page(page, "log-follow-ups")

    page.get_by_role("link", name="Norway").first.click()
    card = page.get_by_role("article", name="AI safety standards")
    card.get_by_text("Change the stage").click()
    card.get_by_label("Stage", exact=True).select_option("exploring")
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_text("AI safety standards: saved.")).to_be_visible()
    expect(page.get_by_role("article", name="AI safety standards").locator('[aria-current="step"]')).to_have_text("Exploring")

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="Chronologie")).to_be_visible()
    expect(page.get_by_role("link", name="Consigner un échange")).to_be_visible()
    page.get_by_role("link", name="Consigner un échange").click()
    expect(page.get_by_role("heading", name="Consigner un échange – Norvège")).to_be_visible()
    check_page(page, "log-form-fr")


def test_the_draft_survives_a_reload_and_is_gone_once_saved(page, norway):
    sign_in(page, "no-liaison")
    page.goto("/countries/no/engagements/new/")
    expect(page.get_by_text("Your unsaved draft was restored.")).to_be_hidden()
    page.get_by_label("Summary").fill("Call with the ministry about the data centre site")
    page.get_by_label("Confidential").check()
    page.get_by_label("Data centres and supercomputers").check()
    page.get_by_role("button", name="Add another follow-up").click()
    page.get_by_role("group", name="Follow-up 2").get_by_label("What to do").fill("Ask for the grid study")

    page.reload()
    expect(page.get_by_text("Your unsaved draft was restored.")).to_be_visible()
    expect(page.get_by_label("Summary")).to_have_value("Call with the ministry about the data centre site")
    expect(page.get_by_label("Confidential")).to_be_checked()
    expect(page.get_by_label("Data centres and supercomputers")).to_be_checked()
    expect(page.get_by_role("group", name="Follow-up 2").get_by_label("What to do")).to_have_value("Ask for the grid study")
    check_page(page, "log-draft-restored")

    page.get_by_role("group", name="Follow-up 2").get_by_label("Due on").fill(
        (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    )
    page.get_by_role("button", name="Save the engagement").click()
    expect(page.get_by_text("logged for Norway.")).to_be_visible()
    assert Engagement.objects.get().is_confidential
    assert FollowUp.objects.get().description == "Ask for the grid study"

    # The saved engagement's draft was dropped: a new form starts empty (give a restore time to run first).
    page.goto("/countries/no/engagements/new/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Summary")).to_have_value("")
    expect(page.get_by_text("Your unsaved draft was restored.")).to_be_hidden()
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('portal-draft:'))") == []


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (fails if it is never reached)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_an_engagement_can_be_logged_with_the_keyboard_alone(page, norway):
    sign_in(page, "no-liaison")
    page.goto("/countries/no/")
    tab_to(page, "a[href='/countries/no/engagements/new/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log an engagement with Norway")).to_be_visible()
    tab_to(page, "input[name=tracks][value]:not([value=''])")
    page.keyboard.press("Space")
    tab_to(page, "#id_new_counterpart_name")
    page.keyboard.type("Per Keyboard")
    page.keyboard.press("Enter")  # in the quick-add fields, Enter adds the person (it does not send the form)
    expect(page.get_by_label("Per Keyboard")).to_be_checked()
    expect(page.locator("#live-region")).to_have_text("Per Keyboard added and ticked.")
    assert Engagement.objects.count() == 0
    tab_to(page, "#id_summary")
    page.keyboard.type("Logged without a mouse")
    tab_to(page, "#id_fu-0-description")
    page.keyboard.type("Write up the visit")
    tab_to(page, "#id_fu-0-due_on")
    page.keyboard.type((datetime.date.today() + datetime.timedelta(days=2)).strftime("%m%d%Y"))
    tab_to(page, "button[type=submit].primary")
    page.keyboard.press("Enter")
    expect(page.get_by_text("logged for Norway.")).to_be_visible()
    engagement = Engagement.objects.get()
    assert engagement.summary == "Logged without a mouse"
    assert engagement.tracks.count() == 1
    assert list(engagement.counterparts.values_list("name", flat=True)) == ["Per Keyboard"]
    assert FollowUp.objects.get().description == "Write up the visit"
