"""The outbox: ``emit()`` writes an Event row in the caller's transaction and dispatches it after commit.

Higher apps register handlers with ``register_handler`` from their ``AppConfig.ready()``; core
never imports them. A handler receives the Event and must be safe to run twice.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from . import catalogue, versions
from .models import Event
from .versions import data_changed

logger = logging.getLogger(__name__)

_handlers: list[tuple[str, Callable[[Event], None]]] = []

# A handler that keeps failing is retried by the sweep this many times, then the event is marked failed.
MAX_ATTEMPTS = 10


def register_handler(name: str, handler: Callable[[Event], None]) -> None:
    """Run ``handler(event)`` for every dispatched event (idempotently registered by name)."""
    if name not in {existing for existing, _ in _handlers}:
        _handlers.append((name, handler))


def emit(*, kind: str, subject, actor=None, country_id=None, payload=None) -> Event:
    """Write an outbox event for ``subject`` and dispatch it once the transaction commits.

    ``kind`` and the payload's fields must be in the catalogue (``core.catalogue``), the contract with handlers and
    webhook receivers."""
    catalogue.check(kind, payload)
    event = Event.objects.create(
        kind=kind,
        subject_type=catalogue.subject_type(subject),
        subject_id=str(subject.pk),
        country_id=country_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        payload=payload or {},
    )
    transaction.on_commit(lambda: _after_commit([event.pk]))
    data_changed(after_commit=False)
    return event


def emit_many(events: list[dict]) -> list[Event]:
    """Write many events in one INSERT (same keys as ``emit``); each is dispatched after commit."""
    for spec in events:
        catalogue.check(spec["kind"], spec.get("payload"))
    rows = Event.objects.bulk_create(
        [
            Event(
                kind=spec["kind"],
                subject_type=catalogue.subject_type(spec["subject"]),
                subject_id=str(spec["subject"].pk),
                country_id=spec.get("country_id"),
                actor=spec.get("actor"),
                payload=spec.get("payload") or {},
            )
            for spec in events
        ]
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _after_commit(ids))
    data_changed(after_commit=False)
    return rows


def _after_commit(event_ids) -> None:
    versions.drop()
    for pk in event_ids:
        enqueue_dispatch(pk)


def enqueue_dispatch(event_id: int) -> None:
    """Hand the event to Celery. If the broker is down the event stays pending for the sweep."""
    from .broker import safe_enqueue
    from .tasks import dispatch_event

    safe_enqueue(dispatch_event, args=[event_id])


def dispatch(event_id: int) -> bool:
    """Run every handler for one event, once. Returns False when there was nothing to do.

    The event row is locked while its handlers run, so two workers given the same event cannot
    both dispatch it; a second run finds it dispatched and does nothing.
    """
    current = ""
    try:
        with transaction.atomic():
            event = Event.objects.select_for_update().filter(pk=event_id).first()
            if event is None or event.state == Event.State.DISPATCHED:
                return False
            for current, handler in _handlers:  # noqa: B007 - ``current`` names a failing handler below
                handler(event)
            event.state = Event.State.DISPATCHED
            event.dispatched_at = timezone.now()
            event.attempts += 1
            event.last_error = ""
            event.save(update_fields=["state", "dispatched_at", "attempts", "last_error"])
            return True
    except Exception as exc:
        logger.exception("Handler %s failed for event %s", current, event_id)
        # The handlers' work was rolled back; record the failure so the sweep can retry and staff can see it.
        Event.objects.filter(pk=event_id).update(
            attempts=F("attempts") + 1,
            last_error=f"{current}: {exc}"[:2000],
            # After MAX_ATTEMPTS the sweep stops retrying; staff see it as failed in the admin.
            state=Case(When(attempts__gte=MAX_ATTEMPTS - 1, then=Value(Event.State.FAILED)), default=F("state")),
        )
        raise
