"""The outbox: ``emit()`` writes an Event row in the caller's transaction and dispatches it after commit.

Higher apps register handlers with ``register_handler`` from their ``AppConfig.ready()``; core
never imports them. A handler receives the Event and must be safe to run twice.
"""

import array
import contextlib
import contextvars
import datetime
import logging
import time
from collections.abc import Callable

from django.db import OperationalError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from . import catalogue, versions
from .models import Event
from .versions import data_changed

logger = logging.getLogger(__name__)

_handlers: list[tuple[str, Callable[[Event], None]]] = []

# A handler that keeps failing is retried by the sweep this many times, then the event is marked failed.
MAX_ATTEMPTS = 10

# Tasks run in-process (the embedded default) have no worker to retry them and no beat to sweep what is left. So a
# dispatch that failed because the database was busy with another write ("database is locked" on SQLite) is tried
# again after these pauses (seconds), and every later hand-off in the process also dispatches the events left
# pending for longer than IN_PROCESS_SWEEP_AFTER (a few at a time), until MAX_ATTEMPTS marks one failed.
IN_PROCESS_RETRY_DELAYS = (0.1, 0.5, 2.0)
IN_PROCESS_SWEEP_AFTER = datetime.timedelta(seconds=30)
IN_PROCESS_SWEEP_LIMIT = 20


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


# While set (``held_dispatch``), events committed are collected here instead of being handed to Celery.
_held: contextvars.ContextVar[array.array | None] = contextvars.ContextVar("core_events_held", default=None)


@contextlib.contextmanager
def held_dispatch():
    """Collect the ids of the events committed inside the block instead of dispatching each at once (a bulk import
    commits thousands): the caller dispatches them afterwards, together (``dispatch_held``). Events stay in the
    outbox as pending meanwhile, so if the process dies the periodic sweep dispatches them."""
    held = array.array("q")  # eight bytes an event, not a Python int's thirty-six
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def dispatch_held(event_ids) -> int:
    """Dispatch collected events in this process, one after the other; returns how many were dispatched."""
    done = 0
    for pk in event_ids:
        try:
            done += dispatch(pk)
        except Exception:  # noqa: BLE001 - logged in dispatch(); it stays pending for the sweep
            continue
    return done


def _after_commit(event_ids) -> None:
    versions.drop()
    held = _held.get()
    if held is not None:
        held.extend(event_ids)
        return
    for pk in event_ids:
        enqueue_dispatch(pk)
    if tasks_run_in_process():
        dispatch_left_pending(exclude=event_ids)


def tasks_run_in_process() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


def enqueue_dispatch(event_id: int) -> None:
    """Hand the event to Celery. If the broker is down the event stays pending for the sweep.

    Run in-process, a dispatch refused by a busy database is tried again (``IN_PROCESS_RETRY_DELAYS``)."""
    from .broker import safe_enqueue
    from .tasks import dispatch_event

    for pause in (*IN_PROCESS_RETRY_DELAYS, None):
        try:
            safe_enqueue(dispatch_event, args=[event_id], reraise=(OperationalError,))
            return
        except OperationalError as exc:
            if pause is None:
                logger.warning("Event %s left pending after %s tries (%s): the next hand-off retries it", event_id,
                               len(IN_PROCESS_RETRY_DELAYS) + 1, exc)  # fmt: skip
                return
            time.sleep(pause)


def dispatch_left_pending(*, exclude=()) -> int:
    """With tasks in-process: dispatch the events left pending for longer than ``IN_PROCESS_SWEEP_AFTER`` (their own
    hand-off failed), oldest first, a few at a time; returns how many were dispatched."""
    cutoff = timezone.now() - IN_PROCESS_SWEEP_AFTER
    left = (
        Event.objects.filter(state=Event.State.PENDING, created_at__lt=cutoff)
        .exclude(pk__in=list(exclude))
        .order_by("id")
        .values_list("id", flat=True)[:IN_PROCESS_SWEEP_LIMIT]
    )
    done = 0
    for event_id in list(left):
        try:
            done += dispatch(event_id)
        except Exception:  # noqa: BLE001 - logged in dispatch(); it stays pending for the next hand-off
            continue
    return done


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
