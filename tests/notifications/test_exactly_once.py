"""One inbox row and one e-mail per event and recipient, however often the event or the e-mail task runs."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.events import dispatch
from core.models import Event
from core.tasks import dispatch_pending_events
from notifications import handlers
from notifications.models import EmailDelivery, Notification
from notifications.tasks import send_email, send_pending_deliveries
from tests import factories

from .support import move, prefer, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def follower(gb):
    user = factories.viewer(username="follower")
    subscribe(user, country=gb)
    prefer(user, "immediate")
    return user


def _counts():
    return Notification.objects.count(), EmailDelivery.objects.count(), len(mail.outbox)


def test_one_event_one_notification_one_email(gb_partnership, follower, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")

    assert _counts() == (1, 1, 1)
    delivery = EmailDelivery.objects.get()
    assert (delivery.notification.user, delivery.status, delivery.attempts, delivery.last_error) == (follower, "sent", 1, "")
    assert delivery.sent_at is not None
    assert mail.outbox[0].to == [follower.email]


def test_dispatching_the_same_event_twice_delivers_once(gb_partnership, follower, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = move(staff_user, gb_partnership.country, "exploring")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert dispatch(event.pk) is False  # a redelivered task finds the event dispatched
    assert callbacks == []
    assert _counts() == (1, 1, 1)

    # Even if the handlers run again (a worker died after they ran but before the event was marked), nothing doubles.
    Event.objects.filter(pk=event.pk).update(state=Event.State.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch(event.pk) is True
    assert _counts() == (1, 1, 1)
    assert EmailDelivery.objects.get().status == "sent"


def test_running_the_handler_twice_delivers_once(
    gb_partnership, follower, gb_liaison, staff_user, django_capture_on_commit_callbacks
):
    # Not committed: the event stays pending, so the handler is run by hand.
    event = move(staff_user, gb_partnership.country, "exploring")

    with django_capture_on_commit_callbacks(execute=True) as first:
        handlers.handle_event(event)
    with django_capture_on_commit_callbacks(execute=True):
        handlers.handle_event(event)

    assert len(first) == 1  # the send_email enqueue
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["follower", "gb-liaison"]
    assert EmailDelivery.objects.get().notification.user == follower  # the liaison has the default daily digest
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().status == "sent"


def test_send_email_twice_sends_one_email(gb_partnership, follower, staff_user, django_capture_on_commit_callbacks):
    # Dispatch, but do not run the send_email tasks it enqueues after commit.
    with django_capture_on_commit_callbacks(execute=False):
        event = move(staff_user, gb_partnership.country, "exploring")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        dispatch(event.pk)
    send_callbacks = [cb for cb in enqueued if "_notify" in cb.__qualname__]
    assert len(send_callbacks) == 1
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, len(mail.outbox)) == ("pending", 0)

    assert send_email(delivery.pk) is True
    assert send_email(delivery.pk) is False  # a redelivered task: the row is no longer pending
    send_callbacks[0]()  # and the original enqueue, running late

    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_the_sweep_sends_a_pending_email_once(gb_partnership, follower, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        move(staff_user, gb_partnership.country, "exploring")
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: the send_email task never ran
        assert dispatch_pending_events() == 2  # the partnership's event and the move
    assert EmailDelivery.objects.get().status == "pending"

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        assert send_pending_deliveries() == {"emails": 1, "webhooks": 0}
        assert send_pending_deliveries() == {"emails": 0, "webhooks": 0}

    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().status == "sent"


def test_a_failing_send_is_recorded_and_retried_until_it_goes_out_once(
    gb_partnership, follower, staff_user, monkeypatch, django_capture_on_commit_callbacks
):
    real_send = EmailMultiAlternatives.send

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", smtp_down)
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "smtp down")
    assert len(mail.outbox) == 0

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert send_email(delivery.pk) is True
    assert send_email(delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1
