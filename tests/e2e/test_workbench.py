"""The workbench in a real browser: a liaison opens an engagement from the timeline, corrects its date, voids a
duplicate with a reason, marks a follow-up done and undoes it, marks two done at once, edits a next step; programme
staff merge two counterparts and see the merge in the history of the one kept. axe-core checks every page."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from countries.models import Counterpart
from countries.services import counterpart_create
from engagements.models import Engagement, FollowUp
from engagements.services import engagement_log, follow_up_create
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def _clean(page, name):
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_a_liaison_corrects_voids_and_follows_up_and_staff_merge_counterparts(page):
    staff = factories.staff(username="staff-bench", first_name="Sam", last_name="Staff")
    liaison = factories.liaison("NO", username="no-bench", first_name="Nora", last_name="Liaison")
    norway = factories.country("NO")
    partnership_create(actor=staff, country=norway)
    today = timezone.localdate()
    ada = counterpart_create(actor=liaison, country=norway, name="Ada Lovelace", title="Minister of Digitalisation")
    again = counterpart_create(actor=liaison, country=norway, name="Lovelace, Ada", title="Minister")
    workshop = engagement_log(
        actor=liaison, country=norway, occurred_on=today - datetime.timedelta(days=3), kind="meeting",
        summary="Skills workshop with the ministry", counterparts=[ada],
    )  # fmt: skip
    engagement_log(
        actor=liaison, country=norway, occurred_on=today - datetime.timedelta(days=2), kind="call",
        summary="Skills workshop, logged twice by mistake", counterparts=[again],
    )  # fmt: skip
    for text, due in (("Send the minutes", -1), ("Book the hall", 3), ("Draft the agenda", 5)):
        follow_up_create(actor=liaison, country=norway, description=text, due_on=today + datetime.timedelta(days=due),
                         owner=liaison)  # fmt: skip
    rollup_countries()

    # The liaison opens the engagement from the country's timeline and corrects its date.
    sign_in(page, "no-bench")
    page.get_by_role("link", name="Norway").first.click()
    timeline = page.locator("ol.timeline")
    timeline.locator("li", has_text="Skills workshop with the ministry").get_by_role("link", name="Meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Meeting of")
    _clean(page, "workbench-engagement")
    page.get_by_role("link", name="Correct this engagement").click()
    corrected = today - datetime.timedelta(days=4)
    page.locator("#id_occurred_on").fill(corrected.isoformat())
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator(f'time[datetime="{corrected.isoformat()}"]').first).to_be_visible()
    assert Engagement.objects.get(pk=workshop.pk).occurred_on == corrected
    # Its change history says who changed the date.
    expect(page.get_by_role("heading", name="Changes")).to_be_visible()
    _clean(page, "workbench-engagement-corrected")

    # The duplicate is voided with a reason and leaves the timeline.
    page.get_by_role("link", name="Norway").first.click()
    page.locator("ol.timeline li", has_text="logged twice by mistake").get_by_role("link", name="Call").click()
    page.get_by_label("Why is it void?").fill("Logged twice: the same workshop")
    page.get_by_role("button", name="Void the engagement").click()
    expect(page.get_by_text("The engagement was voided.")).to_be_visible()
    assert "logged twice by mistake" not in page.locator("ol.timeline").inner_text()
    assert Engagement.objects.get(summary__contains="logged twice").void_reason == "Logged twice: the same workshop"
    _clean(page, "workbench-voided")

    # The next step of a track is set from the country page, with its date.
    card = page.get_by_role("article", name="Workforce training")
    card.get_by_text("Set a next step").click()
    card.get_by_label("Next step").fill("Agree the training plan")
    card.get_by_label("By").fill((today + datetime.timedelta(days=10)).isoformat())
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_role("article", name="Workforce training")).to_contain_text("Agree the training plan")
    ct = CountryTrack.objects.get(country=norway, track__key="workforce")
    assert ct.next_step == "Agree the training plan" and ct.next_step_due == today + datetime.timedelta(days=10)

    # A follow-up marked done by mistake is undone; two others are marked done at once.
    page.get_by_role("link", name="Follow-ups").first.click()
    page.get_by_role("button", name="Mark “Send the minutes” as done").click()
    expect(page.locator("#live-region")).to_have_text("✓ Done: Send the minutes")
    page.get_by_role("button", name="Undo: open “Send the minutes” again").click()
    expect(page.get_by_role("button", name="Mark “Send the minutes” as done")).to_be_visible()
    assert FollowUp.objects.get(description="Send the minutes").done_at is None
    _clean(page, "workbench-follow-ups")
    page.get_by_label("Select “Book the hall”").check()
    page.get_by_label("Select “Draft the agenda”").check()
    page.get_by_role("button", name="Mark selected done").click()
    expect(page.get_by_text("2 follow-ups marked done.")).to_be_visible()
    assert set(FollowUp.objects.filter(done_at__isnull=False).values_list("description", flat=True)) == {
        "Book the hall", "Draft the agenda",
    }  # fmt: skip
    _clean(page, "workbench-follow-ups-bulk")

    # Programme staff merge the two records of Ada Lovelace and see the merge in the history of the one kept.
    page.context.clear_cookies()
    sign_in(page, "staff-bench")
    page.goto("/countries/no/counterparts/")
    expect(page.get_by_role("heading", name="Likely duplicates (1)")).to_be_visible()
    _clean(page, "workbench-duplicates")
    page.get_by_role("button", name="Keep Ada Lovelace, merge the other into it").click()
    expect(page.get_by_text("Lovelace, Ada was merged into Ada Lovelace.")).to_be_visible()
    assert Counterpart.objects.get(pk=again.pk).merged_into_id == ada.pk
    page.get_by_role("link", name="Edit Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Records merged into this one")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("merged Lovelace, Ada into this record")
    _clean(page, "workbench-merged")
