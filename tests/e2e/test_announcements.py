"""Announcements in a real browser: staff draft one, schedule it under embargo, and the public page shows it
only once its time has come. axe-core checks every page; screenshots go to test-artifacts/."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from announcements.models import Announcement
from announcements.services import announcement_release_due
from partnerships.services import partnership_create
from tests import factories

from .conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def check_page(page, name: str) -> None:
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_staff_draft_and_schedule_an_announcement_that_the_public_sees_only_after_its_embargo(page, browser, live_server):
    staff = factories.staff(username="staff-news", first_name="Nia", last_name="News")
    partnership_create(actor=staff, country=factories.country("KE"))

    sign_in(page, "staff-news")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Announcements").click()
    page.get_by_role("link", name="Manage announcements").click()
    check_page(page, "announcements-manage-empty")
    page.get_by_role("link", name="Draft an announcement").click()
    page.get_by_label("Title").fill("Kenya and the programme open a <b>national</b> AI skills academy")
    page.get_by_label("Text").fill("The academy trains 5,000 civil servants.\n\nDetails: https://example.org/academy")
    page.get_by_label("Countries").select_option(label="Kenya")
    page.get_by_label("Workforce training").check()
    check_page(page, "announcements-draft-form")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved:")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kenya and the programme open a <b>national</b> AI skills academy")

    embargo = timezone.localtime(timezone.now() + datetime.timedelta(hours=3)).replace(second=0, microsecond=0)
    page.get_by_label("Embargo until").fill(embargo.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("Scheduled: published automatically on")).to_be_visible()
    expect(page.locator(".subtitle")).to_contain_text("under embargo until")
    expect(page.locator(".subtitle")).to_contain_text("(UTC)")  # the time zone is shown with the time
    check_page(page, "announcements-scheduled")
    announcement = Announcement.objects.get()
    assert announcement.status == Announcement.Status.SCHEDULED and announcement.embargo_until == embargo

    # The public, signed out, sees nothing before the embargo ends.
    public = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    public.goto("/announcements/")
    expect(public.get_by_text("Nothing has been announced here yet.")).to_be_visible()
    assert public.goto(f"/announcements/{announcement.pk}/").status == 404
    check_page(public, "announcements-public-before")

    # The embargo ends (as if three hours had passed): the minute sweep releases it.
    Announcement.objects.filter(pk=announcement.pk).update(embargo_until=timezone.now() - datetime.timedelta(seconds=1))
    assert announcement_release_due() == 1
    public.goto("/announcements/?country=ke")
    public.get_by_role("link", name="Kenya and the programme open a <b>national</b> AI skills academy").click()
    expect(public.get_by_role("heading", level=1)).to_have_text(
        "Kenya and the programme open a <b>national</b> AI skills academy"
    )
    expect(public.get_by_role("link", name="https://example.org/academy")).to_have_attribute("rel", "nofollow")
    check_page(public, "announcements-public-after")
    feed = public.request.get("/announcements/feed/countries/ke/")
    assert feed.ok and "Kenya and the programme open a &lt;b&gt;national&lt;/b&gt; AI skills academy" in feed.text()
    public.context.close()
