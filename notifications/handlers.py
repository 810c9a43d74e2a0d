"""The outbox handler of notifications: inbox rows, immediate e-mails and webhook deliveries.

It runs inside the event's dispatch transaction. Every row it writes is unique per event and
recipient (or endpoint), so a redelivered event adds nothing; the sending itself happens in tasks
enqueued after commit, each of which re-checks its row under a lock.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from core import catalogue
from engagements import policies as engagement_policies

from .describe import NOTIFY_KINDS
from .models import EmailDelivery, Notification, Preference, WebhookDelivery, WebhookEndpoint
from .recipients import recipient_ids
from .services import calendar_feeds_revoke_of_deactivated

# What REST clients may receive: an allow-list of programme-level facts. Never drafts, schedules or withdrawals
# of announcements, follow-ups (their text is operational and may belong to a confidential engagement), tokens,
# admin edits, nor anything flagged confidential.
WEBHOOK_KINDS = {
    catalogue.PARTNERSHIP_CREATED,
    catalogue.PARTNERSHIP_UPDATED,
    catalogue.STAGE_MOVED,
    catalogue.STAGE_PAUSED,
    catalogue.STAGE_RESUMED,
    catalogue.STAGE_WITHDRAWN,
    catalogue.TRACK_HEALTH_CHANGED,
    catalogue.ENGAGEMENT_LOGGED,
    catalogue.AGREEMENT_SIGNED,
    catalogue.ANNOUNCEMENT_PUBLISHED,
    catalogue.FACILITY_CREATED,
    catalogue.FACILITY_UPDATED,
    catalogue.FACILITY_PHASE_ADDED,
    catalogue.FACILITY_PHASE_UPDATED,
    catalogue.FACILITY_PARTNER_ADDED,
}


def handle_event(event) -> None:
    if event.kind == catalogue.USER_DEACTIVATED:
        _revoke_calendar_feeds(event)
    if event.kind in NOTIFY_KINDS:
        _notify(event)
    if event.kind in WEBHOOK_KINDS and not engagement_policies.is_confidential_event(event):
        _webhooks(event)


def _revoke_calendar_feeds(event) -> None:
    user = get_user_model().objects.filter(pk=event.subject_id).first()
    if user is not None:
        calendar_feeds_revoke_of_deactivated(user=user)


def _notify(event) -> None:
    user_ids = recipient_ids(event)
    if not user_ids:
        return
    Notification.objects.bulk_create([Notification(event=event, user_id=uid) for uid in user_ids], ignore_conflicts=True)
    immediate = Preference.objects.filter(user_id__in=user_ids, email_frequency=Preference.Frequency.IMMEDIATE)
    notes = Notification.objects.filter(event=event, user_id__in=immediate.values("user_id"))
    if event.kind == catalogue.FOLLOW_UP_REMINDER:
        # A reminder is worth an e-mail of its own unless the owner turned e-mail off.
        notes = Notification.objects.filter(event=event).exclude(
            user_id__in=Preference.objects.filter(email_frequency=Preference.Frequency.NEVER).values("user_id")
        )
    EmailDelivery.objects.bulk_create([EmailDelivery(notification=n) for n in notes], ignore_conflicts=True)
    pending = list(
        EmailDelivery.objects.filter(notification__event=event, status=EmailDelivery.Status.PENDING).values_list("pk", flat=True)
    )
    if pending:
        transaction.on_commit(lambda: _enqueue("send_email", pending))


def _webhooks(event) -> None:
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event.kind)]
    if not endpoints:
        return
    WebhookDelivery.objects.bulk_create([WebhookDelivery(endpoint=e, event=event) for e in endpoints], ignore_conflicts=True)
    pending = list(
        WebhookDelivery.objects.filter(event=event, status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _enqueue("deliver_webhook", pending))


def _enqueue(task_name: str, ids: list[int]) -> None:
    from core.broker import safe_enqueue

    from . import tasks

    task = getattr(tasks, task_name)
    for pk in ids:
        if not safe_enqueue(task, args=[pk]):
            return  # broker down: the delivery sweep sends what is still pending
