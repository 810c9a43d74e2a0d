"""Daily and weekly digests: one e-mail per user and period, listing what arrived since the last one."""

import datetime

import pytest
import time_machine
from django.core import mail

from notifications.models import Digest, Notification
from notifications.tasks import send_digests
from tests import factories

from .support import move, prefer, subscribe

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2026, 3, 2, 7, 0, tzinfo=datetime.UTC)
TUESDAY = MONDAY + datetime.timedelta(days=1)

EXPLORING = "United Kingdom · Workforce training moved from “Not started” to “Exploring”."
NEGOTIATING = "United Kingdom · Workforce training moved from “Exploring” to “Negotiating”."
AGREED = "United Kingdom · Workforce training moved from “Negotiating” to “Agreed”."


@pytest.fixture
def clock(settings):
    settings.TIME_ZONE = "UTC"  # the days and periods below are UTC days
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def readers(clock, gb_partnership):
    """GB followers with each frequency; ``daily`` has no preference row (daily is the default)."""
    gb = gb_partnership.country
    people = {name: factories.viewer(username=name) for name in ("daily", "explicit-daily", "weekly", "never", "immediate")}
    for name, user in people.items():
        subscribe(user, country=gb)
        if name != "daily":
            prefer(user, name.removeprefix("explicit-"))
    return people


def _moves(actor, country, capture, *stages):
    with capture(execute=True):
        for stage in stages:
            move(actor, country, stage)


def _to(username):
    return [m for m in mail.outbox if m.to == [f"{username}@example.org"]]


def test_the_daily_digest_goes_once_to_default_and_daily_users(
    readers, staff_user, gb, clock, django_capture_on_commit_callbacks
):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring", "negotiating")
    assert len(_to("immediate")) == 2  # one e-mail per notification
    mail.outbox.clear()

    assert send_digests("daily") == 2
    assert send_digests("daily") == 0  # a second run the same day (a retried task) sends nothing

    assert sorted(m.to[0] for m in mail.outbox) == ["daily@example.org", "explicit-daily@example.org"]
    (message,) = _to("daily")
    assert message.subject == "AI Partnership Programme: your digest"
    assert "Since your last digest:" in message.body
    assert EXPLORING in message.body and NEGOTIATING in message.body
    assert message.body.index(EXPLORING) < message.body.index(NEGOTIATING)  # oldest first
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert EXPLORING in html and NEGOTIATING in html
    assert "List-Unsubscribe" in message.extra_headers

    digest = Digest.objects.get(user=readers["daily"])
    assert digest.period == "2026-03-02"
    assert digest.sent_at is not None
    assert set(Notification.objects.filter(user=readers["daily"]).values_list("digest", flat=True)) == {digest.pk}


def test_weekly_never_and_immediate_users_are_not_in_the_daily_run(
    readers, staff_user, gb, clock, django_capture_on_commit_callbacks
):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    mail.outbox.clear()

    send_digests("daily")

    assert _to("weekly") == _to("never") == _to("immediate") == []
    assert not Digest.objects.filter(user__username__in=["weekly", "never", "immediate"]).exists()


def test_a_second_days_digest_lists_only_new_notifications(readers, staff_user, gb, clock, django_capture_on_commit_callbacks):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    send_digests("daily")
    mail.outbox.clear()

    clock.move_to(TUESDAY)
    assert send_digests("daily") == 0  # nothing new: no empty digest
    assert not Digest.objects.filter(period="2026-03-03").exists()
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "negotiating")
    mail.outbox.clear()
    assert send_digests("daily") == 2

    (message,) = _to("daily")
    assert NEGOTIATING in message.body
    assert EXPLORING not in message.body
    assert list(Digest.objects.filter(user=readers["daily"]).order_by("period").values_list("period", flat=True)) == [
        "2026-03-02",
        "2026-03-03",
    ]


def test_notifications_arriving_after_the_days_digest_wait_for_the_next_one(
    readers, staff_user, gb, clock, django_capture_on_commit_callbacks
):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    send_digests("daily")
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "negotiating")
    mail.outbox.clear()

    assert send_digests("daily") == 0  # today's digest is already out

    clock.move_to(TUESDAY)
    send_digests("daily")
    (message,) = _to("daily")
    assert NEGOTIATING in message.body and EXPLORING not in message.body


def test_the_weekly_digest_lists_the_whole_week_once(readers, staff_user, gb, clock, django_capture_on_commit_callbacks):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    clock.move_to(TUESDAY)
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "negotiating", "agreed")
    mail.outbox.clear()

    assert send_digests("weekly") == 1
    assert send_digests("weekly") == 0

    (message,) = mail.outbox
    assert message.to == ["weekly@example.org"]
    assert all(sentence in message.body for sentence in (EXPLORING, NEGOTIATING, AGREED))
    assert Digest.objects.get(user=readers["weekly"]).period == "2026-W10"


def test_never_means_no_email_at_all(readers, staff_user, gb, clock, django_capture_on_commit_callbacks):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")

    for frequency in ("daily", "weekly"):  # what beat runs
        send_digests(frequency)

    assert _to("never") == []
    assert readers["never"].notifications.count() == 1  # the inbox still has it


def test_notifications_already_emailed_are_not_repeated_in_a_digest(
    readers, staff_user, gb, clock, django_capture_on_commit_callbacks
):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    assert len(_to("immediate")) == 1
    prefer(readers["immediate"], "daily")  # the user switches to the daily digest
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "negotiating")
    mail.outbox.clear()

    send_digests("daily")

    (message,) = _to("immediate")
    assert NEGOTIATING in message.body
    assert EXPLORING not in message.body


def test_a_french_digest(readers, staff_user, gb, clock, django_capture_on_commit_callbacks):
    prefer(readers["explicit-daily"], "daily", language="fr")
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")

    send_digests("daily")

    (message,) = _to("explicit-daily")
    assert message.subject == "Programme de partenariats en IA : votre récapitulatif"
    assert "Depuis votre dernier récapitulatif :" in message.body
    assert "Royaume-Uni · Formation de la main-d'œuvre est passé de « Pas commencé » à « Exploration »." in message.body


def test_a_deactivated_user_gets_no_digest(readers, staff_user, gb, clock, django_capture_on_commit_callbacks):
    _moves(staff_user, gb, django_capture_on_commit_callbacks, "exploring")
    for name in ("daily", "explicit-daily"):
        readers[name].is_active = False
        readers[name].save(update_fields=["is_active"])
    mail.outbox.clear()

    send_digests("daily")

    assert mail.outbox == []
