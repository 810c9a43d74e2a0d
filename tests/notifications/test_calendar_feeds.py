"""Personal calendar feeds (iCalendar at a secret address) and the one-off .ics downloads.

Each feed is parsed with the icalendar library, as a calendar client would read it."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from announcements import services as announcement_services
from countries.services import liaison_unassign
from engagements import services as engagement_services
from notifications.models import CalendarFeed
from notifications.services import calendar_feed_create, calendar_feed_digest, calendar_feed_revoke
from partnerships import services as partnership_services
from tests import factories

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Budget line for the sovereign compute deal"


@pytest.fixture
def world(staff_user, gb_liaison, fr_liaison):
    today = timezone.localdate()
    gb, fr = factories.country("GB"), factories.country("FR")
    for country in (gb, fr):
        partnership_services.partnership_create(actor=staff_user, country=country, started_on=None)
    w = type("World", (), {})()
    w.gb, w.fr, w.today = gb, fr, today
    w.mine = engagement_services.follow_up_create(
        actor=gb_liaison, country=gb, description="Send the skills plan", due_on=today + datetime.timedelta(days=3),
        owner=gb_liaison,
    )  # fmt: skip
    w.colleagues = engagement_services.follow_up_create(
        actor=staff_user, country=gb, description="Book the hall", due_on=today + datetime.timedelta(days=4), owner=staff_user
    )
    w.confidential_engagement = engagement_services.engagement_log(
        actor=gb_liaison, country=gb, occurred_on=today, kind="meeting", summary=f"{SECRET_TEXT} (GB)",
        sensitivity="confidential",
        follow_ups=[{"description": SECRET_TEXT, "due_on": today + datetime.timedelta(days=5), "owner": gb_liaison}],
    )  # fmt: skip
    w.confidential = w.confidential_engagement.follow_ups.get()
    w.fr_engagement = engagement_services.engagement_log(
        actor=fr_liaison, country=fr, occurred_on=today, kind="call", summary=f"{SECRET_TEXT} (FR)",
        sensitivity="confidential",
        follow_ups=[{"description": "FR task", "due_on": today + datetime.timedelta(days=6), "owner": fr_liaison}],
    )  # fmt: skip
    w.fr_follow_up = w.fr_engagement.follow_ups.get()
    w.cell = gb.country_tracks.get(track__key="workforce")
    partnership_services.country_track_update(
        actor=gb_liaison, country_track=w.cell, next_step="Call the permanent secretary",
        next_step_due=today + datetime.timedelta(days=8),
    )  # fmt: skip
    w.agreement = engagement_services.agreement_create(
        actor=staff_user, country=gb, kind="mou", title="MoU on compute, text not to leave",
        signed_on=today - datetime.timedelta(days=10), expires_on=today + datetime.timedelta(days=300),
    )  # fmt: skip
    w.embargoed = announcement_services.announcement_create(actor=staff_user, title="Embargoed headline", countries=[gb])
    w.embargo_at = (timezone.now() + datetime.timedelta(days=2)).replace(microsecond=0)
    announcement_services.announcement_schedule(actor=staff_user, announcement=w.embargoed, embargo_until=w.embargo_at)
    return w


def feed_path(user, scope=CalendarFeed.Scope.MINE, name="Work calendar") -> str:
    _feed, secret = calendar_feed_create(actor=user, name=name, scope=scope)
    return reverse("calendar-feed", args=[secret])


def fetch(path: str):
    response = Client().get(path)  # no session: a calendar server
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def events(path: str) -> dict:
    """UID -> event of the feed, parsed with the icalendar library."""
    cal = Calendar.from_ical(fetch(path).content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def uid(kind, obj) -> str:
    return f"{kind}-{obj.pk}@ai-partnership-programme.example"


def test_a_liaisons_feed_holds_their_follow_ups_next_steps_and_agreement_expiries_as_all_day_events(world, gb_liaison):
    found = events(feed_path(gb_liaison))
    assert set(found) == {uid("followup", world.mine), uid("followup", world.confidential), uid("nextstep", world.cell),
                          uid("agreement-expiry", world.agreement)}  # fmt: skip
    mine = found[uid("followup", world.mine)]
    assert str(mine["SUMMARY"]) == "Follow-up due: United Kingdom"
    assert mine.decoded("DTSTART") == world.mine.due_on and mine["DTSTART"].params.get("VALUE") == "DATE"
    assert mine.decoded("DTEND") == world.mine.due_on + datetime.timedelta(days=1)
    assert str(mine["URL"]) == "http://127.0.0.1:8000/countries/gb/#follow-ups-title"
    assert str(found[uid("nextstep", world.cell)]["SUMMARY"]) == "Next step due: United Kingdom — Workforce training"
    assert found[uid("nextstep", world.cell)].decoded("DTSTART") == world.cell.next_step_due
    assert str(found[uid("agreement-expiry", world.agreement)]["SUMMARY"]) == (
        "Agreement expires: United Kingdom — Memorandum of understanding"
    )


def test_a_feed_carries_no_text_of_the_portal_only_neutral_titles_and_links(world, gb_liaison, staff_user):
    """Third parties' servers fetch feeds: no follow-up text, next step, agreement or announcement title, nothing of a
    confidential engagement, not even to the liaison who may read it in the portal."""
    body = fetch(feed_path(gb_liaison, CalendarFeed.Scope.MY_COUNTRIES)).content.decode()
    body += fetch(feed_path(staff_user, CalendarFeed.Scope.MY_COUNTRIES)).content.decode()
    for text in (SECRET_TEXT, "Send the skills plan", "Book the hall", "permanent secretary", "MoU on compute",
                 "Embargoed headline", "FR task"):  # fmt: skip
        assert text not in body.replace("\r\n ", ""), text


def test_uids_are_stable_and_a_change_updates_the_same_event(world, gb_liaison):
    path = feed_path(gb_liaison)
    first, second = events(path), events(path)
    assert set(first) == set(second)
    assert [first[u]["SEQUENCE"] for u in first] == [second[u]["SEQUENCE"] for u in first]
    new_due = world.today + datetime.timedelta(days=20)
    engagement_services.follow_up_update(actor=gb_liaison, follow_up=world.mine, due_on=new_due)
    after = events(path)
    assert set(after) == set(first)
    changed = after[uid("followup", world.mine)]
    assert changed.decoded("DTSTART") == new_due
    assert changed["SEQUENCE"] > first[uid("followup", world.mine)]["SEQUENCE"]


def test_a_completed_follow_up_and_a_cleared_next_step_leave_the_feed(world, gb_liaison):
    path = feed_path(gb_liaison)
    engagement_services.follow_up_complete(actor=gb_liaison, follow_up=world.mine)
    partnership_services.country_track_update(actor=gb_liaison, country_track=world.cell, next_step="", next_step_due=None)
    found = events(path)
    assert uid("followup", world.mine) not in found
    assert uid("nextstep", world.cell) not in found
    assert uid("followup", world.confidential) in found


def test_a_voided_engagements_follow_ups_leave_the_feed(world, gb_liaison):
    path = feed_path(gb_liaison)
    engagement_services.engagement_void(actor=gb_liaison, engagement=world.confidential_engagement, reason="Logged twice")
    assert uid("followup", world.confidential) not in events(path)


def test_mine_holds_only_my_follow_ups_and_my_countries_all_of_them_but_never_another_countrys(world, gb_liaison):
    mine = events(feed_path(gb_liaison, CalendarFeed.Scope.MINE, name="mine"))
    countries = events(feed_path(gb_liaison, CalendarFeed.Scope.MY_COUNTRIES, name="countries"))
    assert uid("followup", world.colleagues) not in mine
    assert uid("followup", world.colleagues) in countries
    for found in (mine, countries):
        assert uid("followup", world.fr_follow_up) not in found  # FR's (confidential) follow-up: never GB's liaison's


def test_another_liaisons_feed_shows_none_of_mine(world, gb_liaison, fr_liaison):
    found = events(feed_path(fr_liaison, CalendarFeed.Scope.MY_COUNTRIES))
    assert set(found) == {uid("followup", world.fr_follow_up)}


def test_a_viewer_sees_nothing_confidential_and_has_nothing_to_put_in_a_calendar(world, viewer_user):
    assert events(feed_path(viewer_user, CalendarFeed.Scope.MY_COUNTRIES)) == {}


def test_a_liaison_taken_off_a_country_stops_seeing_it_at_the_next_fetch(world, gb_liaison, staff_user):
    path = feed_path(gb_liaison)
    assert events(path)
    liaison_unassign(actor=staff_user, user=gb_liaison, country=world.gb)
    assert events(path) == {}


def test_staff_see_when_an_embargo_lifts_as_a_moment_in_utc(world, staff_user, gb_liaison):
    found = events(feed_path(staff_user))
    event = found[uid("embargo", world.embargoed)]
    assert str(event["SUMMARY"]) == f"Embargo lifts: announcement #{world.embargoed.pk}"
    assert event.decoded("DTSTART") == world.embargo_at
    assert event.decoded("DTSTART").utcoffset() == datetime.timedelta(0) and "DTEND" not in event
    assert uid("embargo", world.embargoed) not in events(feed_path(gb_liaison))
    # Released at its moment: it leaves the feed.
    assert announcement_services.announcement_release(
        announcement_id=world.embargoed.pk, now=world.embargo_at + datetime.timedelta(seconds=1)
    )
    assert uid("embargo", world.embargoed) not in events(feed_path(staff_user, name="again"))


def test_a_revoked_feed_an_unknown_secret_and_a_deactivated_user_all_answer_404(world, gb_liaison):
    feed, secret = calendar_feed_create(actor=gb_liaison, name="Phone", scope="mine")
    path = reverse("calendar-feed", args=[secret])
    fetch(path)
    assert Client().get(reverse("calendar-feed", args=["x" + secret[1:]])).status_code == 404
    calendar_feed_revoke(actor=gb_liaison, feed=feed)
    assert Client().get(path).status_code == 404
    feed2, secret2 = calendar_feed_create(actor=gb_liaison, name="Phone", scope="mine")
    gb_liaison.is_active = False
    gb_liaison.save()
    assert Client().get(reverse("calendar-feed", args=[secret2])).status_code == 404


def test_only_a_digest_of_the_secret_is_stored_and_a_fetch_records_its_use(world, gb_liaison):
    feed, secret = calendar_feed_create(actor=gb_liaison, name="Phone", scope="mine")
    stored = CalendarFeed.objects.values().get(pk=feed.pk)
    assert secret not in repr(stored) and stored["secret_digest"] == calendar_feed_digest(secret)
    assert len(secret) >= 43  # 256 random bits
    fetch(reverse("calendar-feed", args=[secret]))
    assert CalendarFeed.objects.get(pk=feed.pk).last_used_at is not None


def test_creating_and_revoking_a_feed_are_in_the_audit_log_without_its_secret_or_digest(world, gb_liaison):
    from auditlog.models import LogEntry

    feed, secret = calendar_feed_create(actor=gb_liaison, name="Phone", scope="mine")
    fetch(reverse("calendar-feed", args=[secret]))  # a use is not a change anybody made
    calendar_feed_revoke(actor=gb_liaison, feed=feed)
    entries = list(LogEntry.objects.get_for_object(feed).order_by("pk"))
    assert [entry.action for entry in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert set(entries[1].changes) == {"revoked_at"}
    logged = repr([entry.changes for entry in entries])
    assert secret not in logged and feed.secret_digest not in logged and "Phone" in logged


def test_an_unchanged_feed_answers_304_and_is_never_kept_by_a_shared_cache(world, gb_liaison):
    path = feed_path(gb_liaison)
    response = fetch(path)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.content
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in response.content
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Referrer-Policy"] == "no-referrer"
    assert Client().get(path, headers={"If-None-Match": response["ETag"]}).status_code == 304
    engagement_services.follow_up_complete(actor=gb_liaison, follow_up=world.mine)
    assert Client().get(path, headers={"If-None-Match": response["ETag"]}).status_code == 200


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_page_shows_a_new_feeds_address_once_and_revokes_it(client, world, gb_liaison):
    client.force_login(gb_liaison)
    page = client.get(reverse("calendar-feeds"))
    token = page.context["form"]["form_token"].value()
    data = {"name": "Outlook", "scope": "countries", "form_token": token}
    created = client.post(reverse("calendar-feeds"), data)
    assert created.status_code == 200
    url = created.context["new_url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/calendar/[A-Za-z0-9_-]{43}\.ics", url)
    assert url in created.content.decode()
    assert "webcal://127.0.0.1:8000/calendar/" in created.content.decode()
    assert created["Cache-Control"].startswith("max-age=0") and "no-store" in created["Cache-Control"]
    fetch(url.removeprefix("http://127.0.0.1:8000"))
    # The same form sent again (a reload) creates nothing more and cannot show the address again.
    again = client.post(reverse("calendar-feeds"), data, follow=True)
    assert CalendarFeed.objects.filter(user=gb_liaison).count() == 1
    assert url not in again.content.decode() and url not in client.get(reverse("calendar-feeds")).content.decode()
    feed = CalendarFeed.objects.get(user=gb_liaison)
    assert client.post(reverse("calendar-feed-revoke", args=[feed.pk])).status_code == 302
    assert Client().get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert list(client.get(reverse("calendar-feeds")).context["feeds"]) == []


def test_nobody_revokes_anothers_feed(client, world, gb_liaison, fr_liaison):
    feed, secret = calendar_feed_create(actor=gb_liaison, name="Phone", scope="mine")
    client.force_login(fr_liaison)
    assert client.post(reverse("calendar-feed-revoke", args=[feed.pk])).status_code == 404
    fetch(reverse("calendar-feed", args=[secret]))


def test_a_feed_needs_a_name_and_a_known_scope(client, world, gb_liaison):
    client.force_login(gb_liaison)
    response = client.post(reverse("calendar-feeds"), {"name": "", "scope": "everything"})
    assert response.status_code == 200 and response.context["form"].errors.keys() == {"name", "scope"}
    assert not CalendarFeed.objects.exists()


# --- one-off downloads -----------------------------------------------------------------------------------------------


def download(client, name, pk, status=200):
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == status
    if status != 200:
        return None
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return {str(e["UID"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_a_follow_up_download_carries_its_text_but_a_confidential_ones_is_neutral(client, world, gb_liaison):
    client.force_login(gb_liaison)
    found = download(client, "follow-up-calendar", world.mine.pk)
    assert str(found[uid("followup", world.mine)]["SUMMARY"]) == "Follow-up: Send the skills plan"
    found = download(client, "follow-up-calendar", world.confidential.pk)
    assert str(found[uid("followup", world.confidential)]["SUMMARY"]) == "Follow-up due: United Kingdom"


def test_an_engagement_download_holds_it_and_its_open_follow_ups(client, world, gb_liaison, staff_user):
    engagement = engagement_services.engagement_log(
        actor=gb_liaison, country=world.gb, occurred_on=world.today, kind="visit", summary="Visited the campus",
        follow_ups=[{"description": "Thank the host", "due_on": world.today + datetime.timedelta(days=2)}],
    )  # fmt: skip
    follow_up = engagement.follow_ups.get()
    client.force_login(staff_user)
    found = download(client, "engagement-calendar", engagement.pk)
    assert set(found) == {uid("engagement", engagement), uid("followup", follow_up)}
    assert str(found[uid("engagement", engagement)]["SUMMARY"]) == "Visit: United Kingdom"
    assert "Visited the campus" in str(found[uid("engagement", engagement)]["DESCRIPTION"])
    found = download(client, "engagement-calendar", world.confidential_engagement.pk)
    assert SECRET_TEXT not in repr(found)


@pytest.mark.parametrize("who", ["fr_liaison", "viewer_user"])
def test_a_download_of_what_one_may_not_see_answers_404(client, world, who, request):
    client.force_login(request.getfixturevalue(who))
    download(client, "follow-up-calendar", world.confidential.pk, status=404)
    download(client, "engagement-calendar", world.confidential_engagement.pk, status=404)


def test_a_voided_engagement_cannot_be_downloaded(client, world, gb_liaison, staff_user):
    engagement_services.engagement_void(actor=gb_liaison, engagement=world.confidential_engagement, reason="Twice")
    client.force_login(staff_user)
    download(client, "engagement-calendar", world.confidential_engagement.pk, status=404)
    download(client, "follow-up-calendar", world.confidential.pk, status=404)


def test_the_follow_ups_list_and_the_engagement_page_link_to_their_downloads(client, world, gb_liaison):
    client.force_login(gb_liaison)
    listing = client.get(reverse("follow-ups"), {"show": "mine"}).content.decode()
    assert reverse("follow-up-calendar", args=[world.mine.pk]) in listing
    page = client.get(reverse("engagement-detail", args=[world.confidential_engagement.pk])).content.decode()
    assert reverse("engagement-calendar", args=[world.confidential_engagement.pk]) in page
