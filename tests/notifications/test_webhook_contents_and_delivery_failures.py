"""Failure modes found in review: what webhooks may carry, one bad receiver or address holding up no one,
former liaisons, bad endpoint settings."""

import datetime
import json
import socket
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Event
from core.services import api_token_create
from countries.models import LiaisonAssignment
from engagements.models import FollowUp
from engagements.services import engagement_log, follow_up_update
from notifications.handlers import handle_event
from notifications.models import Notification, Preference, WebhookDelivery, WebhookEndpoint
from notifications.tasks import send_digests, send_follow_up_reminders, send_pending_deliveries
from tests import factories

from .test_webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhooks_get_no_follow_ups_tokens_or_confidential_matters(receiver, gb_partnership, gb_liaison, viewer_user,
                                                                    django_capture_on_commit_callbacks):  # fmt: skip
    WebhookEndpoint.objects.create(name="All", url=receiver.url, secret="k", event_kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        secret_meeting = engagement_log(
            actor=gb_liaison,
            country=gb_partnership.country,
            occurred_on=timezone.localdate(),
            kind="meeting",
            summary="Secret",
            sensitivity="confidential",
            follow_ups=[{"description": "SECRET: offer 40% co-funding", "due_on": timezone.localdate()}],
        )
        follow_up_update(actor=gb_liaison, follow_up=secret_meeting.follow_ups.get(), description="SECRET: 55%")
        token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="dash", days=5)
    bodies = b"".join(r["body"] for r in receiver.requests)
    assert receiver.requests == []
    assert b"SECRET" not in bodies
    # The token's hash is its primary key: no event names it.
    assert not Event.objects.filter(subject_id=token.digest).exists()
    assert token.digest not in json.dumps(list(Event.objects.values_list("payload", flat=True)))


def test_a_receiver_answering_garbage_is_a_failed_attempt_and_the_others_are_delivered(receiver, gb_partnership, gb_liaison):
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(5)

    def answer():
        for _ in range(3):
            conn, _addr = garbage.accept()
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    bad = WebhookEndpoint.objects.create(name="Garbage", url=f"http://127.0.0.1:{garbage.getsockname()[1]}/", secret="a")
    WebhookEndpoint.objects.create(name="Good", url=receiver.url, secret="b")
    event = Event.objects.create(kind="stage.moved", subject_type="x", subject_id="1", country_id=gb_partnership.country_id)
    handle_event(event)
    WebhookDelivery.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    send_pending_deliveries()
    failed = WebhookDelivery.objects.get(endpoint=bad)
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert "BadStatusLine" in failed.last_error or "RemoteDisconnected" in failed.last_error
    assert WebhookDelivery.objects.get(endpoint__name="Good").status == "delivered"
    garbage.close()


def test_endpoint_event_kinds_must_be_a_list_of_strings():
    endpoint = WebhookEndpoint(name="Bad", url="http://127.0.0.1:9/", secret="s", event_kinds=5)
    with pytest.raises(ValidationError) as err:
        endpoint.full_clean()
    assert "event_kinds" in err.value.message_dict
    assert endpoint.wants("stage.moved") is True  # a bad value never breaks dispatch


def test_a_former_liaison_gets_no_reminder_of_the_countrys_follow_ups(gb_partnership, gb_liaison):
    FollowUp.objects.create(
        country=gb_partnership.country,
        description="Confidential next step",
        owner=gb_liaison,
        due_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    LiaisonAssignment.objects.filter(user=gb_liaison).delete()
    send_follow_up_reminders()
    assert not Notification.objects.filter(user=gb_liaison).exists()
    assert mail.outbox == []


def test_one_refused_address_does_not_stop_the_other_digests(monkeypatch, gb_partnership):
    first = factories.viewer(username="first", email="first@example.org")
    second = factories.viewer(username="second", email="second@example.org")
    for user in (first, second):
        Preference.objects.create(user=user, email_frequency="daily")
        event = Event.objects.create(kind="stage.moved", subject_type="x", subject_id="1", country_id=gb_partnership.country_id)
        Notification.objects.create(user=user, event=event)
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if "first@example.org" in message.to:
            raise ConnectionRefusedError("550 mailbox unavailable")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    assert send_digests("daily") == 1
    assert [m.to for m in mail.outbox] == [["second@example.org"]]
    # The refused one was rolled back and is tried again at the next run.
    assert Notification.objects.filter(user=first, digest__isnull=True).count() == 1
