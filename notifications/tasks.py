"""Notification tasks: thin, take ids, re-check their row under a lock, safe to run twice."""

import datetime
import logging
import math

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import catalogue
from core.broker import safe_enqueue
from core.events import emit
from engagements import policies as engagement_policies
from engagements.models import FollowUp

from . import webhooks
from .emails import build_email
from .models import Digest, EmailDelivery, Notification, Preference, Reminder, WebhookDelivery

logger = logging.getLogger(__name__)
EMAIL_MAX_ATTEMPTS = 5


@shared_task(name="notifications.tasks.send_email", acks_late=True, time_limit=60, soft_time_limit=50)
def send_email(delivery_id: int) -> bool:
    """Send the e-mail of one notification, once."""
    with transaction.atomic():
        delivery = (
            EmailDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=EmailDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return False  # already sent, failed for good, or being sent by another worker
        notification = Notification.objects.select_related("user", "event").get(pk=delivery.notification_id)
        delivery.attempts += 1
        try:
            if notification.user.email:
                message = build_email(
                    notification.user,
                    [notification],
                    subject=_("AI Partnership Programme: a new notification"),
                    template="notification",
                )
                message.send()
        except Exception as exc:  # noqa: BLE001 - recorded; the sweep retries until EMAIL_MAX_ATTEMPTS
            delivery.last_error = str(exc)[:2000]
            if delivery.attempts >= EMAIL_MAX_ATTEMPTS:
                delivery.status = EmailDelivery.Status.FAILED
            delivery.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("E-mail delivery %s failed: %s", delivery_id, exc)
            return False
        delivery.status, delivery.sent_at, delivery.last_error = EmailDelivery.Status.SENT, timezone.now(), ""
        delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True


@shared_task(name="notifications.tasks.deliver_webhook", acks_late=True, time_limit=60, soft_time_limit=50)
def deliver_webhook(delivery_id: int) -> bool:
    """POST one event to one endpoint. A failure schedules the next attempt with back-off; others are not held up.

    While an endpoint does not answer at all, its other deliveries wait for its retry instead of each spending a
    timeout of a worker process (and so delaying the deliveries to every other endpoint queued behind them).
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            # Lock the delivery row only: FOR UPDATE would otherwise lock the joined endpoint and event rows too, for
            # as long as the POST takes, and every other delivery to that endpoint or of that event, finding them
            # locked, would be skipped (left for the sweep) - a slow receiver holding up the others.
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, endpoint__is_active=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .first()
        )
        if delivery is None:
            return False
        # A delivery that itself went unanswered is the probe of its endpoint: it is tried at its own retry time.
        # (If it waited for another unanswered one, two of them would put each other off for ever.)
        probing = delivery.attempts > 0 and delivery.response_status is None
        unanswered = None if probing else _unanswered_delivery(delivery, now)
        if unanswered is not None:
            # The endpoint did not even answer a recent attempt (a timeout, a refused connection): rather than spend
            # another timeout of a worker on it, this delivery waits for that one's retry. A slow endpoint costs one
            # timeout per worker process and back-off period, not one per delivery.
            delivery.next_attempt_at = unanswered.next_attempt_at + datetime.timedelta(seconds=2 * webhooks.TIMEOUT_SECONDS)
            delivery.last_error = f"Not sent: the endpoint did not answer delivery {unanswered.pk}; waiting for its retry"
        else:
            _attempt(delivery)
        delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING:
        countdown = max(0, math.ceil((delivery.next_attempt_at - timezone.now()).total_seconds()))
        # If the broker is down, the sweep picks the delivery up when it is due.
        safe_enqueue(deliver_webhook, args=[delivery.pk], countdown=countdown)
    return delivery.status == WebhookDelivery.Status.DELIVERED


def _attempt(delivery) -> None:
    """POST once and record the outcome: delivered, a retry after back-off, or failed after MAX_ATTEMPTS."""
    status, error = webhooks.post(delivery.endpoint, delivery.pk, delivery.event)
    delivery.attempts += 1
    delivery.response_status = status
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.last_error, delivery.next_attempt_at = (
            WebhookDelivery.Status.DELIVERED,
            timezone.now(),
            "",
            None,
        )
        return
    delivery.last_error = error or f"HTTP {status}"
    if delivery.attempts >= webhooks.MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        delivery.next_attempt_at = timezone.now() + datetime.timedelta(seconds=webhooks.backoff_seconds(delivery.attempts))


def _unanswered_delivery(delivery, now):
    """Another pending delivery to the same endpoint whose last attempt got no HTTP answer and whose retry is to come."""
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            status=WebhookDelivery.Status.PENDING,
            attempts__gt=0,
            response_status__isnull=True,
            next_attempt_at__gt=now,
        )
        .exclude(pk=delivery.pk)
        .order_by("next_attempt_at")
        .first()
    )


@shared_task(name="notifications.tasks.send_pending_deliveries", time_limit=240, soft_time_limit=200)
def send_pending_deliveries() -> dict:
    """The sweep: e-mails and webhooks still pending (the broker was down, a worker died, a retry is due)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=30)
    emails = list(
        EmailDelivery.objects.filter(status=EmailDelivery.Status.PENDING, notification__created_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    hooks = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, endpoint__is_active=True)
        .filter(Q(next_attempt_at__lte=timezone.now()) | Q(next_attempt_at__isnull=True, created_at__lte=cutoff))
        .values_list("pk", flat=True)[:500]
    )
    sent = sum(_quietly(send_email, pk) for pk in emails)
    delivered = sum(_quietly(deliver_webhook, pk) for pk in hooks)
    return {"emails": sent, "webhooks": delivered}


def _quietly(task, pk) -> bool:
    """One bad row must not stop the sweep: log it and go on."""
    try:
        return bool(task(pk))
    except Exception:  # noqa: BLE001
        logger.exception("%s(%s) failed in the sweep", task.name, pk)
        return False


def digest_period(frequency: str, today: datetime.date) -> str:
    if frequency == Preference.Frequency.WEEKLY:
        year, week, _day = today.isocalendar()
        return f"{year}-W{week:02d}"
    return today.isoformat()


@shared_task(name="notifications.tasks.send_digests", time_limit=600, soft_time_limit=540)
def send_digests(frequency: str = "daily") -> int:
    """One e-mail per user and period listing what arrived since their last digest (unique per period)."""
    if frequency not in (Preference.Frequency.DAILY, Preference.Frequency.WEEKLY):
        raise ValueError(f"Digests are daily or weekly, not {frequency!r}")
    today = timezone.localdate()
    period = digest_period(frequency, today)
    user_ids = Preference.objects.filter(email_frequency=frequency, user__is_active=True).values_list("user_id", flat=True)
    if frequency == Preference.Frequency.DAILY:
        # Daily is the default: users without a preference row get it too.
        user_ids = list(user_ids) + list(
            Notification.objects.filter(digest__isnull=True, user__notification_preference__isnull=True, user__is_active=True)
            .values_list("user_id", flat=True)
            .distinct()
        )
    sent = 0
    for user_id in sorted(set(user_ids)):
        try:
            sent += _send_digest(user_id, period)
        except Exception:  # noqa: BLE001 - one refused address must not stop everyone else's digest
            logger.exception("Digest %s for user %s failed; it is retried at the next run", period, user_id)
    return sent


def _send_digest(user_id: int, period: str) -> int:
    with transaction.atomic():
        digest, _created = Digest.objects.get_or_create(user_id=user_id, period=period)
        digest = Digest.objects.select_for_update(of=("self",)).select_related("user").get(pk=digest.pk)
        if digest.sent_at is not None:
            return 0
        fresh = Notification.objects.filter(user_id=user_id, digest__isnull=True, email_delivery__isnull=True)
        fresh.update(digest=digest)
        notes = list(digest.notifications.select_related("event").order_by("created_at", "id"))
        if not notes:
            digest.delete()
            return 0
        sent = 0
        if digest.user.email:
            build_email(digest.user, notes, subject=_("AI Partnership Programme: your digest"), template="digest").send()
            sent = 1
        digest.sent_at = timezone.now()
        digest.save(update_fields=["sent_at"])
        return sent


@shared_task(name="notifications.tasks.send_follow_up_reminders", time_limit=300, soft_time_limit=240)
def send_follow_up_reminders() -> int:
    """Daily: remind owners of follow-ups due tomorrow, and of overdue ones (first day, then weekly)."""
    today = timezone.localdate()
    # Those of a voided engagement count nowhere, and remind nobody.
    open_owned = FollowUp.objects.filter(engagement_policies.follow_up_live_q(), done_at__isnull=True, owner__isnull=False)
    due_tomorrow = open_owned.filter(due_on=today + datetime.timedelta(days=1))
    overdue = open_owned.filter(due_on__lt=today)
    emitted = 0
    for kind, follow_ups in ((Reminder.Kind.DUE_TOMORROW, due_tomorrow), (Reminder.Kind.OVERDUE, overdue)):
        for follow_up in follow_ups:
            if kind == Reminder.Kind.OVERDUE:
                last = Reminder.objects.filter(follow_up=follow_up, kind=kind).order_by("-sent_on").first()
                if last and (today - last.sent_on).days < 7 and last.sent_on != today:
                    continue
            with transaction.atomic():
                _reminder, created = Reminder.objects.get_or_create(follow_up=follow_up, kind=kind, sent_on=today)
                if not created:
                    continue
                emit(
                    kind=catalogue.FOLLOW_UP_REMINDER,
                    subject=follow_up,
                    country_id=follow_up.country_id,
                    payload={"reminder": kind, "owner_id": follow_up.owner_id, "due_on": follow_up.due_on.isoformat()},
                )
                emitted += 1
    return emitted
