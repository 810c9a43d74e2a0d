from celery import shared_task

from .models import Event


@shared_task(name="core.tasks.dispatch_event", acks_late=True)
def dispatch_event(event_id: int) -> bool:
    """Dispatch one outbox event (a no-op if it was already dispatched)."""
    from .events import dispatch

    return dispatch(event_id)


@shared_task(name="core.tasks.dispatch_pending_events")
def dispatch_pending_events(limit: int = 500) -> int:
    """The sweep: dispatch what is still pending (the broker was down, a worker died...)."""
    from .events import dispatch

    done = 0
    for event_id in Event.objects.filter(state=Event.State.PENDING).order_by("id").values_list("id", flat=True)[:limit]:
        try:
            done += dispatch(event_id)
        except Exception:  # noqa: BLE001 - one bad event must not stop the sweep; it is logged in dispatch()
            continue
    return done


@shared_task(name="core.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete the idempotency keys (API and portal forms) older than their 24 hours; safe to run twice."""
    from .idempotency import purge_expired

    return purge_expired()
