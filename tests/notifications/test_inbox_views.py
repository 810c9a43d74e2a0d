"""The inbox: sentences newest first, an empty state, mark read, mark all read, the unread count in the header."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from core.models import Event
from notifications.models import Notification
from tests import factories

from .support import move, subscribe

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:inbox")
EXPLORING = "United Kingdom · Workforce training moved from “Not started” to “Exploring”."
NEGOTIATING = "United Kingdom · Workforce training moved from “Exploring” to “Negotiating”."
AGREED = "United Kingdom · Workforce training moved from “Negotiating” to “Agreed”."


@pytest.fixture
def reader(gb):
    user = factories.viewer(username="reader")
    subscribe(user, country=gb)
    return user


@pytest.fixture
def three(reader, gb_partnership, staff_user, django_capture_on_commit_callbacks):
    """Three stage moves a minute apart, each a notification for ``reader``."""
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for minute, stage in enumerate(["exploring", "negotiating", "agreed"]):
            traveller.move_to(start + datetime.timedelta(minutes=minute))
            with django_capture_on_commit_callbacks(execute=True):
                move(staff_user, gb_partnership.country, stage)
    return list(Notification.objects.filter(user=reader).order_by("created_at"))


def _text(response):
    assert response.status_code == 200
    return response.content.decode()


def test_the_inbox_lists_sentences_newest_first_with_the_unread_count(client, reader, three):
    client.force_login(reader)

    content = _text(client.get(INBOX))

    assert content.index(AGREED) < content.index(NEGOTIATING) < content.index(EXPLORING)
    assert content.count('<li class="unread">') == 3
    assert '<span class="count">3<span class="visually-hidden"> unread</span></span>' in content


def test_the_empty_state(client, db):
    user = factories.viewer(username="lonely")
    client.force_login(user)

    content = _text(client.get(INBOX))

    assert "No notification yet. Follow countries or tracks in your notification settings." in content
    assert '<span class="count">' not in content
    assert "Nothing unread." in _text(client.get(INBOX + "?show=unread"))


def test_the_inbox_needs_sign_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_mark_one_read(client, reader, three):
    client.force_login(reader)
    newest = three[-1]

    response = client.post(reverse("notifications:mark-read", args=[newest.pk]), {"next": INBOX + "?show=unread"})

    assert (response.status_code, response.url) == (302, INBOX + "?show=unread")
    newest.refresh_from_db()
    assert newest.read_at is not None
    assert Notification.objects.filter(user=reader, read_at__isnull=True).count() == 2
    content = _text(client.get(INBOX))
    assert '<span class="count">2<span' in content
    assert content.count('<li class="unread">') == 2
    assert content.count('<li class="read">') == 1
    unread_only = _text(client.get(INBOX + "?show=unread"))
    assert AGREED not in unread_only and NEGOTIATING in unread_only and EXPLORING in unread_only


def test_marking_twice_keeps_the_first_read_time(client, reader, three):
    client.force_login(reader)
    url = reverse("notifications:mark-read", args=[three[0].pk])
    client.post(url)
    first = Notification.objects.get(pk=three[0].pk).read_at

    client.post(url)

    assert Notification.objects.get(pk=three[0].pk).read_at == first


def test_mark_all_read(client, reader, three):
    client.force_login(reader)

    response = client.post(reverse("notifications:mark-all-read"), follow=True)

    assert response.redirect_chain == [(INBOX, 302)]
    content = _text(response)
    assert "3 notifications marked as read." in content
    assert '<span class="count">' not in content
    assert not Notification.objects.filter(user=reader, read_at__isnull=True).exists()


def test_mark_read_needs_post(client, reader, three):
    client.force_login(reader)

    assert client.get(reverse("notifications:mark-read", args=[three[0].pk])).status_code == 405
    assert client.get(reverse("notifications:mark-all-read")).status_code == 405
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_user_cannot_mark_someone_elses_notification(client, reader, gb_liaison, three):
    others = list(Notification.objects.filter(user=gb_liaison))
    assert len(others) == 3  # the liaison got the same three moves
    client.force_login(reader)

    client.post(reverse("notifications:mark-read", args=[others[0].pk]))
    client.post(reverse("notifications:mark-all-read"))

    assert not Notification.objects.filter(user=gb_liaison, read_at__isnull=False).exists()
    assert not Notification.objects.filter(user=reader, read_at__isnull=True).exists()


def test_the_inbox_shows_only_ones_own_notifications(client, three, db):
    stranger = factories.viewer(username="stranger")
    client.force_login(stranger)

    content = _text(client.get(INBOX))

    assert EXPLORING not in content
    assert "No notification yet." in content


def test_mark_read_does_not_redirect_off_site(client, reader, three):
    client.force_login(reader)

    response = client.post(reverse("notifications:mark-read", args=[three[0].pk]), {"next": "https://evil.example/phish"})

    assert response.status_code == 302
    assert not response.url.startswith("https://evil.example")


# --- query count ------------------------------------------------------------------------------------------------


def _fill_inbox(user, n, staff_user, gb):
    """``n`` notifications cycling through kinds that need different names (stages, announcements, follow-ups)."""
    announcement = factories.AnnouncementFactory()
    follow_up = factories.FollowUpFactory(country=gb, owner=user)
    specs = [
        {
            "kind": "stage.moved",
            "subject_type": "partnerships.countrytrack",
            "subject_id": "1",
            "payload": {"track": "workforce", "from": "not_started", "to": "exploring"},
        },
        {
            "kind": "announcement.published",
            "subject_type": "partnerships.announcement",
            "subject_id": str(announcement.pk),
            "payload": {"country_ids": [gb.pk]},
        },
        {
            "kind": "follow_up.reminder",
            "subject_type": "partnerships.followup",
            "subject_id": str(follow_up.pk),
            "payload": {"reminder": "overdue", "owner_id": user.pk},
        },
    ]
    events = Event.objects.bulk_create(
        [Event(country_id=gb.pk, actor=staff_user, state="dispatched", **specs[i % len(specs)]) for i in range(n)]
    )
    Notification.objects.bulk_create([Notification(user=user, event=e) for e in events])


@pytest.mark.parametrize("n", [3, 30])
def test_the_inbox_costs_the_same_queries_for_3_and_30_notifications(
    client, reader, staff_user, gb, n, django_assert_num_queries
):
    _fill_inbox(reader, n, staff_user, gb)
    client.force_login(reader)

    # Session, user, page count, page rows with their events; the names: countries, tracks, stages, announcements,
    # follow-ups; the demo banner, the user's groups for the menu, the unread count in the header.
    with django_assert_num_queries(12):
        content = _text(client.get(INBOX))

    assert content.count("Follow-up overdue (United Kingdom): Send the draft memorandum") == n // 3
    assert content.count("Announcement published: New partnership announced") == n // 3
    assert content.count(EXPLORING) == n // 3
    assert f'<span class="count">{n}<span' in content


def test_marking_a_single_notification_read_says_notification_in_the_singular(client, reader, three):
    Notification.objects.filter(pk__in=[n.pk for n in three[:2]]).update(read_at="2026-03-02T10:00:00Z")
    client.force_login(reader)

    content = _text(client.post(reverse("notifications:mark-all-read"), follow=True))

    assert "marked as read." in content
    assert "1 notification marked as read." in content
