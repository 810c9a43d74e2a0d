"""Follow-up reminders: due tomorrow and overdue (then weekly), to the owner only, with an e-mail."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core.models import Event
from engagements.services import follow_up_complete
from notifications.models import EmailDelivery, Notification, Reminder
from notifications.tasks import send_follow_up_reminders
from tests import factories

from .support import prefer, subscribe

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture
def clock(settings):
    settings.TIME_ZONE = "UTC"  # the days and periods below are UTC days
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def onlookers(gb):
    """People who follow GB and must not receive anyone else's reminders."""
    programme, country = factories.viewer(username="programme-viewer"), factories.viewer(username="gb-viewer")
    subscribe(programme, programme=True)
    subscribe(country, country=gb)
    prefer(programme, "immediate")
    return programme, country


def follow_up(owner, due_in_days, description, **fields):
    return factories.FollowUpFactory(
        owner=owner, due_on=TODAY + datetime.timedelta(days=due_in_days), description=description, **fields
    )


def remind(capture):
    with capture(execute=True):
        return send_follow_up_reminders()


def test_reminders_for_due_tomorrow_and_overdue_go_to_the_owner_only(
    clock, gb_liaison, fr_liaison, staff_user, onlookers, django_capture_on_commit_callbacks
):
    tomorrow = follow_up(gb_liaison, 1, "Send the draft memorandum")
    late = follow_up(gb_liaison, -3, "Book the ministerial visit")
    follow_up(gb_liaison, 2, "Not yet: due in two days")
    follow_up(gb_liaison, 0, "Not yet: due today")
    follow_up(None, -3, "Nobody owns this one")

    assert remind(django_capture_on_commit_callbacks) == 2

    events = Event.objects.filter(kind="follow_up.reminder")
    assert sorted((e.subject_id, e.payload["reminder"], e.payload["owner_id"], e.state) for e in events) == sorted(
        [
            (str(tomorrow.pk), "due_tomorrow", gb_liaison.pk, "dispatched"),
            (str(late.pk), "overdue", gb_liaison.pk, "dispatched"),
        ]
    )
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"gb-liaison"}
    assert Notification.objects.count() == 2

    # The owner has no preference (daily digest by default), yet a reminder is worth an e-mail of its own.
    assert EmailDelivery.objects.filter(status="sent").count() == 2
    assert [m.to for m in mail.outbox] == [["gb-liaison@example.org"]] * 2
    bodies = "\n".join(m.body for m in mail.outbox)
    assert "Follow-up due tomorrow (United Kingdom): Send the draft memorandum" in bodies
    assert "Follow-up overdue (United Kingdom): Book the ministerial visit" in bodies


def test_running_the_reminders_twice_the_same_day_adds_nothing(clock, gb_liaison, django_capture_on_commit_callbacks):
    follow_up(gb_liaison, 1, "Send the draft memorandum")
    follow_up(gb_liaison, -1, "Book the visit")
    assert remind(django_capture_on_commit_callbacks) == 2

    clock.move_to(NOW + datetime.timedelta(hours=5))
    assert remind(django_capture_on_commit_callbacks) == 0

    assert Reminder.objects.count() == 2
    assert Event.objects.filter(kind="follow_up.reminder").count() == 2
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2


def test_an_overdue_follow_up_is_reminded_again_a_week_later(clock, gb_liaison, django_capture_on_commit_callbacks):
    late = follow_up(gb_liaison, -1, "Book the visit")

    emitted = []
    for day in range(15):
        clock.move_to(NOW + datetime.timedelta(days=day))
        emitted.append(remind(django_capture_on_commit_callbacks))

    assert emitted == [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert list(Reminder.objects.filter(follow_up=late).order_by("sent_on").values_list("kind", "sent_on")) == [
        ("overdue", TODAY),
        ("overdue", TODAY + datetime.timedelta(days=7)),
        ("overdue", TODAY + datetime.timedelta(days=14)),
    ]
    assert len(mail.outbox) == 3


def test_a_follow_up_due_tomorrow_is_then_reminded_when_it_falls_overdue(clock, gb_liaison, django_capture_on_commit_callbacks):
    due = follow_up(gb_liaison, 1, "Send the draft memorandum")

    emitted = []
    for day in range(3):
        clock.move_to(NOW + datetime.timedelta(days=day))
        emitted.append(remind(django_capture_on_commit_callbacks))

    assert emitted == [1, 0, 1]  # due tomorrow; due today; overdue since yesterday
    assert list(Reminder.objects.filter(follow_up=due).order_by("sent_on").values_list("kind", flat=True)) == [
        "due_tomorrow",
        "overdue",
    ]


def test_done_follow_ups_get_no_reminder(clock, gb_liaison, django_capture_on_commit_callbacks):
    follow_up(gb_liaison, 1, "Done early", done_at=timezone.now())
    late = follow_up(gb_liaison, -2, "Done late")
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_complete(actor=gb_liaison, follow_up=late)

    assert remind(django_capture_on_commit_callbacks) == 0
    assert not Event.objects.filter(kind="follow_up.reminder").exists()
    assert mail.outbox == []


def test_a_follow_up_completed_after_its_first_reminder_is_not_reminded_again(
    clock, gb_liaison, django_capture_on_commit_callbacks
):
    late = follow_up(gb_liaison, -1, "Book the visit")
    assert remind(django_capture_on_commit_callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_complete(actor=gb_liaison, follow_up=late)

    clock.move_to(NOW + datetime.timedelta(days=7))
    assert remind(django_capture_on_commit_callbacks) == 0


def test_an_owner_who_turned_email_off_gets_the_reminder_in_the_inbox_only(clock, gb_liaison, django_capture_on_commit_callbacks):
    prefer(gb_liaison, "never")
    follow_up(gb_liaison, 1, "Send the draft memorandum")

    assert remind(django_capture_on_commit_callbacks) == 1

    assert gb_liaison.notifications.count() == 1
    assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


def test_a_reminder_already_emailed_is_not_repeated_in_the_digest(clock, gb_liaison, django_capture_on_commit_callbacks):
    from notifications.tasks import send_digests

    follow_up(gb_liaison, 1, "Send the draft memorandum")
    remind(django_capture_on_commit_callbacks)
    mail.outbox.clear()

    assert send_digests("daily") == 0
    assert mail.outbox == []


def test_a_deactivated_owner_gets_no_reminder(clock, gb_liaison, django_capture_on_commit_callbacks):
    follow_up(gb_liaison, 1, "Send the draft memorandum")
    gb_liaison.is_active = False
    gb_liaison.save(update_fields=["is_active"])

    remind(django_capture_on_commit_callbacks)

    assert not Notification.objects.exists()
    assert mail.outbox == []
