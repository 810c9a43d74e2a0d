"""The embargo holds on every surface until its time and lifts right after; release happens once; the public
pages and Atom feeds show exactly the published public announcements, safely, at a constant cost."""

import datetime
import html as html_lib
import json
import re

import feedparser
import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from announcements import tasks as announcement_tasks
from announcements.models import Announcement
from announcements.services import (
    announcement_create,
    announcement_publish,
    announcement_release,
    announcement_release_due,
    announcement_schedule,
    announcement_update,
    announcement_withdraw,
)
from core.models import Event
from notifications.models import EmailDelivery, Notification, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.api.conftest import token_client
from tests.notifications.support import prefer, subscribe
from tests.notifications.test_webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

START = datetime.datetime(2031, 3, 14, 8, 0, tzinfo=datetime.UTC)
EMBARGO = START + datetime.timedelta(hours=1)  # within the 2 h horizon: the ETA task is queued (and runs eagerly, early)
TITLE = "Quokka compute partnership"
FEEDS = [
    ("feed", "announcement-feed", ()),
    ("country feed", "announcement-feed-country", ("gb",)),
    ("track feed", "announcement-feed-track", ("workforce",)),
]


# --- helpers ----------------------------------------------------------------------------------------------------------


def feed(client, name="announcement-feed", *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, (name, args, response.status_code)
    parsed = feedparser.parse(response.content, sanitize_html=False)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def feed_pks(client, name="announcement-feed", *args) -> set[int]:
    return {int(entry.id.rsplit(":", 1)[1]) for entry in feed(client, name, *args).entries}


def listed_pks(html: str) -> list[int]:
    """The announcements linked from the public list, in order."""
    return [int(pk) for pk in re.findall(r'<h2><a href="/announcements/(\d+)/">', html)]


def public_list(client, **params):
    response = client.get(reverse("public-announcements"), params)
    assert response.status_code == 200
    return response.content.decode()


def published(actor, title, *, countries=(), tracks=(), is_public=True, body="Text.") -> Announcement:
    announcement = announcement_create(
        actor=actor, title=title, body=body, countries=countries, tracks=tracks, is_public=is_public
    )
    announcement_publish(actor=actor, announcement=announcement)
    announcement.refresh_from_db()
    return announcement


def published_events(pk) -> int:
    return Event.objects.filter(
        kind="announcement.published", subject_type="partnerships.announcement", subject_id=str(pk)
    ).count()


# --- 1. the embargo holds everywhere, then lifts ----------------------------------------------------------------------


@pytest.fixture
def follower(gb):
    user = factories.viewer(username="follower")
    subscribe(user, country=gb)
    prefer(user, "immediate")
    return user


@pytest.fixture
def programme_follower(db):
    user = factories.viewer(username="programme-follower")
    subscribe(user, programme=True)
    prefer(user, "immediate")
    return user


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def surfaces(client, pk, *, viewer_user, gb_liaison, staff_user, api, liaison_api) -> dict[str, bool]:
    """Where the announcement titled TITLE shows, surface by surface (anonymous, viewer, liaison, staff's dashboard, API)."""
    client.logout()
    seen = {"public list": TITLE in public_list(client)}
    detail = client.get(reverse("public-announcement", args=[pk]))
    assert detail.status_code in (200, 404)
    seen["public detail"] = detail.status_code == 200 and TITLE in detail.content.decode()
    for label, name, args in FEEDS:
        seen[label] = any(entry.title == TITLE for entry in feed(client, name, *args).entries)
    for who in (viewer_user, gb_liaison):
        client.force_login(who)
        search = client.get(reverse("search"), {"q": "quokka"})
        assert search.status_code == 200
        seen[f"search ({who.username})"] = TITLE in search.content.decode()
    for who in (viewer_user, staff_user):  # staff see it in the manage pages, not among the latest announcements
        client.force_login(who)
        dashboard = client.get(reverse("dashboard"))
        assert dashboard.status_code == 200
        seen[f"dashboard ({who.username})"] = TITLE in dashboard.content.decode()
    client.force_login(viewer_user)
    country_page = client.get(reverse("country-detail", args=["gb"]))
    assert country_page.status_code == 200
    seen["country timeline (viewer)"] = TITLE in country_page.content.decode()
    client.logout()
    listing = api.get("/api/v1/announcements/")
    assert listing.status_code == 200
    seen["API list (viewer)"] = pk in {row["id"] for row in listing.json()["results"]}
    api_detail = api.get(f"/api/v1/announcements/{pk}/")
    assert api_detail.status_code in (200, 404)
    seen["API detail (viewer)"] = api_detail.status_code == 200
    seen["API detail (liaison)"] = liaison_api.get(f"/api/v1/announcements/{pk}/").status_code == 200
    return seen


def test_an_embargoed_announcement_is_nowhere_until_its_time_then_everywhere(
    client,
    gb_partnership,
    staff_user,
    gb_liaison,
    viewer_user,
    follower,
    programme_follower,
    receiver,
    django_capture_on_commit_callbacks,
):
    # The fixtures' events were never committed (the test's transaction), so never dispatched; with tasks in-process a
    # hand-off after the clock moves on would sweep them up. They were done long ago in a real run.
    Event.objects.filter(state=Event.State.PENDING).update(state=Event.State.DISPATCHED)
    WebhookEndpoint.objects.create(name="Everything", url=receiver.url, secret="k", event_kinds=[])
    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            announcement = announcement_create(
                actor=staff_user,
                title=TITLE,
                body="Quokka Compute and the UK sign.",
                countries=[gb_partnership.country],
                tracks=[factories.track("workforce")],
            )
        with django_capture_on_commit_callbacks(execute=True):
            announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=EMBARGO)
        pk = announcement.pk
        # The ETA task was queued and ran at once (eager): too early, it did nothing.
        assert Announcement.objects.values_list("status", "published_at").get(pk=pk) == ("scheduled", None)
        staff_api, viewer_api = token_client(staff_user, "staff"), token_client(viewer_user, "viewer")
        who = {
            "viewer_user": viewer_user,
            "gb_liaison": gb_liaison,
            "staff_user": staff_user,
            "api": viewer_api,
            "liaison_api": token_client(gb_liaison, "gb ministry"),
        }
        assert staff_api.get(f"/api/v1/announcements/{pk}/").json()["status"] == "scheduled"  # it exists, for staff

        traveller.move_to(EMBARGO - datetime.timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            before = surfaces(client, pk, **who)
            announcement_tasks.release_due_announcements()
        leaks = [name for name, shown in before.items() if shown]
        assert leaks == [], f"embargoed announcement visible before its time on: {leaks}"
        assert Announcement.objects.get(pk=pk).status == "scheduled"
        assert published_events(pk) == 0
        assert not Notification.objects.filter(
            event__subject_id=str(pk), event__subject_type="partnerships.announcement"
        ).exists()
        assert [m.subject for m in mail.outbox if TITLE in m.subject + m.body] == []
        assert not WebhookDelivery.objects.filter(
            event__subject_id=str(pk), event__subject_type="partnerships.announcement"
        ).exists()
        assert receiver.requests == []

        traveller.move_to(EMBARGO + datetime.timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            public_list(client)  # a public read releases what is due (as the beat sweep would)
        after = surfaces(client, pk, **who)
        missing = [name for name, shown in after.items() if not shown]
        assert missing == [], f"published announcement missing right after its embargo from: {missing}"

    row = Announcement.objects.get(pk=pk)
    assert (row.status, row.published_at) == ("published", EMBARGO)
    assert published_events(pk) == 1
    event = Event.objects.get(kind="announcement.published")
    told = set(Notification.objects.filter(event=event).values_list("user__username", flat=True))
    assert told == {"follower", "programme-follower", "gb-liaison"}
    assert Notification.objects.count() == 3  # nothing about the draft or the schedule
    emails = [m for m in mail.outbox if TITLE in m.subject + m.body]
    assert sorted(m.to[0] for m in emails) == sorted([follower.email, programme_follower.email])
    assert len(mail.outbox) == 2
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == "delivered"
    assert [json.loads(r["body"])["kind"] for r in receiver.requests] == ["announcement.published"]


def test_the_beat_sweep_alone_releases_it_on_time(staff_user, gb, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False) as traveller:
        announcement = announcement_create(actor=staff_user, title=TITLE, countries=[gb])
        # Beyond the ETA horizon: no ETA task now; the minute sweep arms it and releases it.
        embargo = START + datetime.timedelta(hours=5)
        announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=embargo)
        traveller.move_to(embargo - datetime.timedelta(seconds=30))
        with django_capture_on_commit_callbacks(execute=True):
            assert announcement_tasks.release_due_announcements() == 0
        assert Announcement.objects.get().status == "scheduled"
        traveller.move_to(embargo + datetime.timedelta(minutes=3))  # the sweep ran late (downtime)
        with django_capture_on_commit_callbacks(execute=True):
            assert announcement_tasks.release_due_announcements() == 1
    assert Announcement.objects.values_list("status", "published_at").get() == ("published", embargo)
    assert published_events(announcement.pk) == 1


def test_subscribers_of_its_track_and_of_the_programme_hear_of_it_once_released(staff_user, django_capture_on_commit_callbacks):
    track_follower, programme_follower = factories.viewer(username="track-follower"), factories.viewer(username="all")
    subscribe(track_follower, track=factories.track("workforce"))
    subscribe(programme_follower, programme=True)
    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            announcement = announcement_create(actor=staff_user, title=TITLE, tracks=[factories.track("workforce")])
            announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=EMBARGO)
        assert Notification.objects.count() == 0
        traveller.move_to(EMBARGO)
        with django_capture_on_commit_callbacks(execute=True):
            assert announcement_tasks.release_due_announcements() == 1
    told = set(Notification.objects.filter(event__kind="announcement.published").values_list("user__username", flat=True))
    assert told == {"track-follower", "all"}, (
        "a subscriber of the announcement's track is not notified: the announcement.published payload names no tracks"
    )


@pytest.fixture
def enqueued(monkeypatch):
    """What is handed to Celery (the real ``safe_enqueue`` still runs: eager, the task runs at once)."""
    from core import broker

    calls, real = [], broker.safe_enqueue

    def spy(task, *, args=(), countdown=None, eta=None, **options):
        calls.append((task.name, list(args), eta))
        return real(task, args=args, countdown=countdown, eta=eta, **options)

    monkeypatch.setattr(broker, "safe_enqueue", spy)
    return calls


def _releases(calls):
    return [call for call in calls if call[0] == "partnerships.tasks.release_announcement"]


def test_scheduling_queues_the_eta_task_once_committed(staff_user, gb, enqueued, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        announcement = announcement_create(actor=staff_user, title=TITLE, countries=[gb])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=EMBARGO)
        assert _releases(enqueued) == []  # not before the commit
        for callback in callbacks:
            callback()
    assert _releases(enqueued) == [("partnerships.tasks.release_announcement", [announcement.pk], EMBARGO)]


def test_a_far_embargo_gets_its_eta_task_from_the_sweep_when_near(staff_user, gb, enqueued, django_capture_on_commit_callbacks):
    far = START + datetime.timedelta(hours=5)  # past the 2 h horizon: Redis would redeliver an ETA task that old
    with time_machine.travel(START, tick=False) as traveller:
        announcement = announcement_create(actor=staff_user, title=TITLE, countries=[gb])
        with django_capture_on_commit_callbacks(execute=True):
            announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=far)
        assert _releases(enqueued) == []
        traveller.move_to(far - datetime.timedelta(minutes=10))
        announcement_tasks.release_due_announcements()
        assert _releases(enqueued) == []
        traveller.move_to(far - datetime.timedelta(seconds=90))
        announcement_tasks.release_due_announcements()
        assert _releases(enqueued) == [("partnerships.tasks.release_announcement", [announcement.pk], far)]
    assert Announcement.objects.get().status == "scheduled"  # the eager ETA task ran early and did nothing


# --- 2. released once -------------------------------------------------------------------------------------------------


@pytest.fixture
def scheduled(gb_partnership, staff_user, gb_liaison, follower, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        announcement = announcement_create(actor=staff_user, title=TITLE, countries=[gb_partnership.country])
        announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=EMBARGO)
    return announcement


def _every_release(pk):
    return {
        "release": lambda: announcement_release(announcement_id=pk),
        "release_due": announcement_release_due,
        "task": lambda: announcement_tasks.release_announcement(pk),
        "sweep_task": announcement_tasks.release_due_announcements,
    }


@pytest.mark.parametrize(
    "order",
    [
        ["release", "release", "release_due", "release_due", "task", "sweep_task"],
        ["sweep_task", "release_due", "task", "release", "release_due", "release"],
        ["release_due", "task", "release", "sweep_task", "release", "release_due"],
        # .delay: through Celery (eager), as the worker would run them.
        ["task.delay", "sweep_task.delay", "release", "release_due"],
    ],
)
def test_released_once_whatever_runs_and_in_whatever_order(scheduled, order, django_capture_on_commit_callbacks):
    runs = _every_release(scheduled.pk)
    runs["task.delay"] = lambda: announcement_tasks.release_announcement.delay(scheduled.pk).get()
    runs["sweep_task.delay"] = lambda: announcement_tasks.release_due_announcements.delay().get()

    with (
        time_machine.travel(EMBARGO - datetime.timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        results_before = [runs[name]() for name in order]
    assert all(not result for result in results_before), results_before  # False / 0: nothing released
    assert Announcement.objects.values_list("status", "published_at").get() == ("scheduled", None)
    assert published_events(scheduled.pk) == 0
    assert Notification.objects.count() == 0

    with time_machine.travel(EMBARGO + datetime.timedelta(minutes=2), tick=False):
        results = []
        for name in order:
            with django_capture_on_commit_callbacks(execute=True):
                results.append(runs[name]())
    assert sum(int(r) for r in results) == 1, dict(zip(order, results, strict=True))
    assert Announcement.objects.values_list("status", "published_at").get() == ("published", EMBARGO)
    assert published_events(scheduled.pk) == 1
    recipients = list(Notification.objects.values_list("user__username", flat=True).order_by("user__username"))
    assert recipients == ["follower", "gb-liaison"]
    assert EmailDelivery.objects.count() == 1 and len(mail.outbox) == 1


def test_a_withdrawn_or_rescheduled_announcement_is_not_released_by_a_stale_eta_task(scheduled, staff_user):
    later = EMBARGO + datetime.timedelta(days=1)
    with time_machine.travel(START + datetime.timedelta(minutes=5), tick=False):
        announcement_schedule(actor=staff_user, announcement=scheduled, embargo_until=later)
    with time_machine.travel(EMBARGO + datetime.timedelta(seconds=1), tick=False):
        assert announcement_tasks.release_announcement(scheduled.pk) is False  # the first ETA fires: the embargo moved
        assert announcement_tasks.release_due_announcements() == 0
    assert Announcement.objects.get().status == "scheduled"
    with time_machine.travel(later - datetime.timedelta(hours=1), tick=False):
        announcement_withdraw(actor=staff_user, announcement=scheduled, reason="Talks collapsed")
    with time_machine.travel(later + datetime.timedelta(seconds=1), tick=False):
        assert announcement_tasks.release_announcement(scheduled.pk) is False
        assert announcement_tasks.release_due_announcements() == 0
    assert Announcement.objects.values_list("status", "published_at").get() == ("withdrawn", None)
    assert published_events(scheduled.pk) == 0


# --- 3. feeds ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(staff_user, gb_liaison):
    """Published public ones (GB/workforce, FR/public services, whole programme) and every kind that must not show."""
    gb, fr = factories.country("GB"), factories.country("FR")
    workforce, public_services = factories.track("workforce"), factories.track("public_services")
    shown = {
        "gb": published(staff_user, "GB skills", countries=[gb], tracks=[workforce]),
        "fr": published(staff_user, "FR services", countries=[fr], tracks=[public_services]),
        "programme": published(staff_user, "Programme news"),
    }
    draft = announcement_create(actor=gb_liaison, title="Hidden draft", countries=[gb], tracks=[workforce])
    embargoed = announcement_create(actor=staff_user, title="Hidden embargoed", countries=[gb], tracks=[workforce])
    announcement_schedule(actor=staff_user, announcement=embargoed, embargo_until=timezone.now() + datetime.timedelta(days=2))
    withdrawn = published(staff_user, "Hidden withdrawn", countries=[gb], tracks=[workforce])
    announcement_withdraw(actor=staff_user, announcement=withdrawn, reason="Premature")
    internal = published(staff_user, "Hidden internal", countries=[gb], tracks=[workforce], is_public=False)
    hidden = {"draft": draft, "embargoed": embargoed, "withdrawn": withdrawn, "internal": internal}
    return shown, hidden


def test_feeds_are_atom_and_hold_exactly_the_published_public_announcements(client, catalogue):
    shown, hidden = catalogue
    parsed = feed(client)
    assert parsed.feed.title == "AI Partnership Programme: announcements"
    assert {entry.title for entry in parsed.entries} == {"GB skills", "FR services", "Programme news"}
    assert feed_pks(client) == {a.pk for a in shown.values()}
    assert feed_pks(client, "announcement-feed-country", "gb") == {shown["gb"].pk}
    assert feed_pks(client, "announcement-feed-country", "FR") == {shown["fr"].pk}
    assert feed_pks(client, "announcement-feed-country", "ke") == set()
    assert feed_pks(client, "announcement-feed-track", "workforce") == {shown["gb"].pk}
    assert feed_pks(client, "announcement-feed-track", "public_services") == {shown["fr"].pk}
    for name, args in (
        ("announcement-feed", ()),
        ("announcement-feed-country", ("gb",)),
        ("announcement-feed-track", ("workforce",)),
    ):
        body = client.get(reverse(name, args=args)).content.decode()
        assert "Hidden" not in body, name
    gb_entry = feed(client, "announcement-feed-country", "gb").entries[0]
    assert gb_entry.link.endswith(f"/announcements/{shown['gb'].pk}/")
    assert {tag.term for tag in gb_entry.tags} == {"Workforce training", "United Kingdom"}
    assert sorted(Announcement.objects.get(pk=a.pk).status for a in hidden.values()) == [
        "draft",
        "published",  # not public
        "scheduled",
        "withdrawn",
    ]


@pytest.mark.parametrize(("name", "arg"), [("announcement-feed-country", "zz"), ("announcement-feed-track", "no-such-track")])
def test_a_feed_for_an_unknown_country_or_track_is_404(client, name, arg):
    assert client.get(reverse(name, args=[arg])).status_code == 404


def test_entry_ids_are_stable_tag_uris_that_survive_an_edit(client, staff_user, gb):
    with time_machine.travel(datetime.datetime(2031, 5, 2, 23, 30, tzinfo=datetime.UTC), tick=False):
        announcement = published(staff_user, "Original title", countries=[gb])
        before = feed(client).entries
    expected = f"tag:ai-partnership-programme.example,2031-05-02:announcement:{announcement.pk}"
    assert [entry.id for entry in before] == [expected]

    with time_machine.travel(datetime.datetime(2031, 5, 9, 10, 0, tzinfo=datetime.UTC), tick=False):
        announcement_update(actor=staff_user, announcement=announcement, title="Corrected title")
        after = feed(client).entries
        country = feed(client, "announcement-feed-country", "gb").entries
    assert [(entry.id, entry.title) for entry in after] == [(expected, "Corrected title")]
    assert [entry.id for entry in country] == [expected]
    assert after[0].updated_parsed > before[0].updated_parsed  # readers see it changed, under the same id


def test_html_in_a_title_or_body_reaches_feed_readers_as_text(client, staff_user):
    title = '<script>alert("t")</script> & <b>co</b>'
    body = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> and <b>bold</b>"
    published(staff_user, title, body=body)

    response = client.get(reverse("announcement-feed"))
    raw = response.content.decode()
    assert "<script" not in raw and "<img" not in raw  # escaped in the XML itself
    (entry,) = feed(client).entries
    assert entry.title == title  # a text title: the literal characters, nothing interpreted
    assert "<script" not in entry.summary and "<img" not in entry.summary and "<b>" not in entry.summary
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.summary
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", entry.summary))
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)> and <b>bold</b>" in text


# --- 4. the public pages ----------------------------------------------------------------------------------------------


def test_public_list_filters_by_country_and_track(client, catalogue):
    shown, _hidden = catalogue
    everything = public_list(client)
    assert set(listed_pks(everything)) == {a.pk for a in shown.values()}
    assert "Hidden" not in everything
    assert listed_pks(public_list(client, country="gb")) == [shown["gb"].pk]
    assert listed_pks(public_list(client, country="FR")) == [shown["fr"].pk]
    assert listed_pks(public_list(client, track="public_services")) == [shown["fr"].pk]
    assert listed_pks(public_list(client, country="gb", track="workforce")) == [shown["gb"].pk]
    assert listed_pks(public_list(client, country="gb", track="public_services")) == []
    filtered = public_list(client, country="gb")
    assert reverse("announcement-feed-country", args=["gb"]) in filtered  # the matching feed is offered
    assert "not known" not in filtered


@pytest.mark.parametrize("params", [{"country": "zz"}, {"track": "no-such-track"}, {"country": "zz", "track": "workforce"}])
def test_an_unknown_filter_value_says_so(client, catalogue, params):
    shown, _hidden = catalogue
    html = public_list(client, **params)
    assert "That country or track is not known; showing everything that matches the rest." in html
    expected = {shown["gb"].pk} if params.get("track") == "workforce" else {a.pk for a in shown.values()}
    assert set(listed_pks(html)) == expected


def test_public_list_pages_by_twenty_newest_first(client, staff_user):
    made = []
    for n in range(25):
        with time_machine.travel(START + datetime.timedelta(hours=n), tick=False):
            made.append(published(staff_user, f"Item {n:02d}").pk)
    with time_machine.travel(START + datetime.timedelta(days=2), tick=False):
        first = public_list(client)
        second = public_list(client, page=2)
    assert listed_pks(first) == made[::-1][:20]
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert "Page 2 of 2" in second and 'href="?page=1"' in second
    assert listed_pks(second) == made[::-1][20:]


def test_the_detail_page_escapes_html_and_links_urls_with_nofollow(client, staff_user):
    announcement = published(
        staff_user,
        "<script>alert('t')</script> Joint statement",
        body="Read https://example.org/report now.\n\n<script>alert(1)</script><b>bold</b>",
    )
    response = client.get(reverse("public-announcement", args=[announcement.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; Joint statement" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert '<a href="https://example.org/report" rel="nofollow">https://example.org/report</a>' in html
    assert "Changes since publication" not in html


def test_the_detail_page_shows_the_changes_made_after_publication(client, staff_user, gb):
    announcement = published(staff_user, "First wording", countries=[gb])
    announcement_update(actor=staff_user, announcement=announcement, title="Second wording", body="Fixed a date.")
    html = client.get(reverse("public-announcement", args=[announcement.pk])).content.decode()
    assert "Changes since publication" in html
    assert '<h1 id="announcement-title">Second wording</h1>' in html
    assert "Fixed a date." in html


def test_a_withdrawn_announcement_leaves_the_public_page_and_feeds(client, staff_user, gb):
    announcement = published(staff_user, "Soon withdrawn", countries=[gb], tracks=[factories.track("workforce")])
    detail = reverse("public-announcement", args=[announcement.pk])
    assert listed_pks(public_list(client)) == [announcement.pk]
    assert client.get(detail).status_code == 200
    assert feed_pks(client) == {announcement.pk}

    announcement_withdraw(actor=staff_user, announcement=announcement, reason="Premature")

    assert listed_pks(public_list(client)) == []
    assert client.get(detail).status_code == 404
    assert feed_pks(client) == set()
    assert feed_pks(client, "announcement-feed-country", "gb") == set()
    assert feed_pks(client, "announcement-feed-track", "workforce") == set()


@pytest.mark.parametrize("state", ["draft", "scheduled", "internal"])
def test_the_detail_page_of_an_unpublished_or_internal_announcement_is_404(client, staff_user, gb, state):
    if state == "internal":
        announcement = published(staff_user, "Internal", countries=[gb], is_public=False)
    else:
        announcement = announcement_create(actor=staff_user, title="Not yet", countries=[gb])
        if state == "scheduled":
            announcement_schedule(
                actor=staff_user, announcement=announcement, embargo_until=timezone.now() + datetime.timedelta(hours=3)
            )
    client.force_login(staff_user)  # even staff: the public page shows only what the public may read
    assert client.get(reverse("public-announcement", args=[announcement.pk])).status_code == 404


# --- 5. cost ----------------------------------------------------------------------------------------------------------

# The list: release sweep, count, the filter's countries and tracks, the page, its countries, its tracks (+2 with a
# country and a track filter: each read once). A feed: release sweep, items, their countries and tracks (+1 for the
# country or track of the URL).
PUBLIC_LIST_QUERIES = 7
FEED_QUERIES = 4


def _many(staff_user, n):
    gb, fr = factories.country("GB"), factories.country("FR")
    workforce, safety = factories.track("workforce"), factories.track("safety_standards")
    for i in range(n):
        published(staff_user, f"News {i}", countries=[gb, fr], tracks=[workforce, safety])


def _count(client, url):
    client.get(url)  # warm: the demo-data banner's flag is cached after the first page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("n", [3, 30])
def test_the_public_list_and_feed_cost_the_same_for_3_or_30(client, staff_user, n):
    _many(staff_user, n)
    counts = {
        "list": _count(client, reverse("public-announcements")),
        "list filtered": _count(client, reverse("public-announcements") + "?country=gb&track=workforce"),
        "feed": _count(client, reverse("announcement-feed")),
        "country feed": _count(client, reverse("announcement-feed-country", args=["gb"])),
        "track feed": _count(client, reverse("announcement-feed-track", args=["workforce"])),
    }
    assert counts == {
        "list": PUBLIC_LIST_QUERIES,
        "list filtered": PUBLIC_LIST_QUERIES + 2,
        "feed": FEED_QUERIES,
        "country feed": FEED_QUERIES + 1,
        "track feed": FEED_QUERIES + 1,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("reference_data")
def test_the_eta_task_and_the_sweep_racing_on_postgresql_release_once():
    """Real concurrency: the ETA task and the sweep (and a public read) hit the same due announcement at once."""
    import threading

    from announcements.services import announcement_create, announcement_release, announcement_release_due
    from tests.conftest import needs_postgresql

    needs_postgresql()
    staff = factories.staff(username="staff-race")
    ann = announcement_create(actor=staff, title="Race", countries=[factories.country("KE")])
    Announcement.objects.filter(pk=ann.pk).update(
        status=Announcement.Status.SCHEDULED, embargo_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    barrier = threading.Barrier(4)
    results = []

    def run(release):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            results.append(release())
        finally:
            connections.close_all()

    calls = [
        lambda: announcement_release(announcement_id=ann.pk),
        lambda: announcement_release(announcement_id=ann.pk),
        lambda: announcement_release_due(),
        lambda: announcement_release_due(),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(int(r) for r in results) == [0, 0, 0, 1]  # exactly one of the four released it
    assert Event.objects.filter(kind="announcement.published", subject_id=str(ann.pk)).count() == 1
    assert Announcement.objects.get(pk=ann.pk).status == Announcement.Status.PUBLISHED


# --- after the review ------------------------------------------------------------------------------------------


def test_only_a_published_announcement_can_be_evidence_and_a_withdrawn_one_keeps_its_title_hidden(
    client, staff_user, viewer_user, gb_liaison
):
    from django.core.exceptions import ValidationError

    from partnerships.models import CountryTrack
    from partnerships.services import country_track_move, partnership_create

    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb)
    ct = CountryTrack.objects.get(country=gb, track__key="workforce")
    exploring = factories.stage("workforce", "exploring")
    # The rule is the service's: no path (form, API, admin) can cite what is not public yet.
    secret = announcement_create(actor=staff_user, title="SECRET-DEAL with the UK", countries=[gb])
    announcement_schedule(actor=staff_user, announcement=secret, embargo_until=timezone.now() + datetime.timedelta(days=7))
    with pytest.raises(ValidationError) as refused:
        country_track_move(actor=staff_user, country_track=ct, to_stage=exploring, evidence_announcement=secret)
    assert refused.value.message_dict == {"evidence_announcement": ["Only a published announcement can be given as evidence."]}
    # A published one cited, then withdrawn: readers no longer see its title, staff still do.
    retracted = announcement_create(actor=staff_user, title="RETRACTED news from the UK", countries=[gb])
    announcement_publish(actor=staff_user, announcement=retracted)
    country_track_move(actor=staff_user, country_track=ct, to_stage=exploring, evidence_announcement=retracted)
    announcement_withdraw(actor=staff_user, announcement=retracted, reason="Announced too early")
    for reader in (viewer_user, gb_liaison):
        client.force_login(reader)
        page = client.get(reverse("country-detail", args=["gb"])).content.decode()
        assert "SECRET-DEAL" not in page and "RETRACTED" not in page
        assert "evidence: an announcement that is not public" in page
        assert f'value="announcement:{secret.pk}"' not in page  # not offered as evidence either
    client.force_login(staff_user)
    staff_page = client.get(reverse("country-detail", args=["gb"])).content.decode()
    assert "evidence: announcement “RETRACTED news from the UK”" in staff_page


def test_with_a_worker_the_public_pages_only_read_and_leave_the_release_to_the_tasks(client, staff_user):
    from config.celery import app

    app.conf.task_always_eager = False  # a worker runs the tasks (the autouse fixture puts it back)
    ann = announcement_create(actor=staff_user, title="Due but not yet released", countries=[factories.country("KE")])
    Announcement.objects.filter(pk=ann.pk).update(
        status=Announcement.Status.SCHEDULED, embargo_until=timezone.now() - datetime.timedelta(seconds=5)
    )
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("public-announcements"))
    assert page.status_code == 200 and "Due but not yet released" not in page.content.decode()
    assert not any("FOR UPDATE" in q["sql"] or q["sql"].startswith("UPDATE") for q in ctx.captured_queries)
    assert client.get(reverse("announcement-feed")).status_code == 200
    assert Announcement.objects.get(pk=ann.pk).status == Announcement.Status.SCHEDULED  # the sweep's job
    assert not Event.objects.filter(kind="announcement.published").exists()


def test_the_feeds_have_an_author_and_ids_that_do_not_depend_on_the_host(client, staff_user):
    ann = announcement_create(actor=staff_user, title="Signed", countries=[factories.country("GB")])
    announcement_publish(actor=staff_user, announcement=ann)
    for url, feed_id in (
        (reverse("announcement-feed"), "tag:ai-partnership-programme.example,2026:announcements"),
        (reverse("announcement-feed-country", args=["gb"]), "tag:ai-partnership-programme.example,2026:announcements:country:gb"),
    ):
        parsed = feedparser.parse(client.get(url, HTTP_HOST="localhost").content)
        assert parsed.bozo == 0 and parsed.version == "atom10"
        assert parsed.feed.id == feed_id
        assert parsed.feed.author == "AI Partnership Programme"


def test_the_public_pages_describe_themselves_to_search_engines(client, staff_user):
    body = "The <b>new</b> supercomputer opens in Manchester. " + "More words follow here. " * 20
    announcement = announcement_create(actor=staff_user, title="Supercomputer opens", body=body)
    announcement_publish(actor=staff_user, announcement=announcement)
    listing = client.get(reverse("public-announcements")).content.decode()
    assert '<meta name="description" content="What the AI Partnership Programme and its partner governments' in listing
    page = client.get(reverse("public-announcement", args=[announcement.pk])).content.decode()
    described = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert described.startswith("The new supercomputer opens in Manchester.") and described.endswith("…")
    assert len(described.split()) == 31  # thirty words and the ellipsis
