"""What webhook receivers hear of a voided engagement: by design nothing. ``engagement.voided`` and
``engagement.restored`` are not among the kinds that reach REST clients (``notifications.handlers.WEBHOOK_KINDS``),
even for an endpoint that asks for every kind or names them; their outbox payload carries only the confidentiality
flag (``core.catalogue``), never the summary nor the reason; and a voided engagement cannot be edited, so no later
change of it is sent either."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Event
from engagements.services import engagement_log, engagement_restore, engagement_update, engagement_void
from notifications.models import WebhookDelivery, WebhookEndpoint

from .test_webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

ENGAGEMENT_KINDS = ["engagement.logged", "engagement.updated", "engagement.voided", "engagement.restored"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def engagement_bodies(receiver):
    """The bodies received about an engagement (the rollup may add track events of its own)."""
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    return [b for b in bodies if b["subject"]["type"] == "partnerships.engagement"]


def test_voiding_and_restoring_an_engagement_sends_receivers_nothing_and_its_text_never_travels(
    receiver, gb_partnership, gb_liaison, staff_user, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(name="Everything", url=receiver.url, secret="k", event_kinds=[])
    WebhookEndpoint.objects.create(name="Engagements", url=receiver.url, secret="k", event_kinds=ENGAGEMENT_KINDS)
    with django_capture_on_commit_callbacks(execute=True):
        duplicate = engagement_log(
            actor=gb_liaison,
            country=gb_partnership.country,
            occurred_on=timezone.localdate(),
            kind="meeting",
            summary="Kick-off ZEPHYR logged twice",
            outcome="ZEPHYR pilot agreed",
        )
    assert [b["kind"] for b in engagement_bodies(receiver)] == ["engagement.logged", "engagement.logged"]

    with django_capture_on_commit_callbacks(execute=True):
        engagement_void(actor=gb_liaison, engagement=duplicate, reason="Logged twice, ZEPHYR-REASON")
    void = Event.objects.get(kind="engagement.voided", subject_id=str(duplicate.pk))
    assert void.payload == {"confidential": False}  # no summary, outcome nor reason in the event
    assert not WebhookDelivery.objects.filter(event=void).exists()

    # A voided engagement is not edited (so never re-sent as an update): it must be restored first.
    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        engagement_update(actor=gb_liaison, engagement=duplicate, summary="Kick-off ZEPHYR corrected")
    assert not Event.objects.filter(kind="engagement.updated", subject_id=str(duplicate.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        engagement_restore(actor=staff_user, engagement=duplicate)
    restore = Event.objects.get(kind="engagement.restored", subject_id=str(duplicate.pk))
    assert restore.payload == {"confidential": False}
    assert not WebhookDelivery.objects.filter(event=restore).exists()

    assert [b["kind"] for b in engagement_bodies(receiver)] == ["engagement.logged", "engagement.logged"]
    assert b"ZEPHYR" not in b"".join(r["body"] for r in receiver.requests)
