"""Hand tasks to the broker without ever making a request wait on a broker that is down.

When Redis does not answer, the first attempt fails (at once for a refused connection: kombu does not retry,
see ``max_retries`` in settings) and the broker is then considered down for ``PAUSE_SECONDS``: calls return at once
without trying. Nothing is lost either way: what was not enqueued is still a pending row (an
outbox event, a rollup request, a delivery) that the periodic sweeps pick up.
"""

import logging
import time

from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 30
_down_until = 0.0


def broker_seems_down() -> bool:
    return time.monotonic() < _down_until


def reset() -> None:
    global _down_until
    _down_until = 0.0


def safe_enqueue(task, *, args=(), countdown: int | None = None, eta=None, reraise: tuple = ()) -> bool:
    """``task.apply_async`` that never raises; returns whether the task was handed over.

    ``reraise``: failures of a task run in-process (eager mode) of these types are raised to the caller, which
    may try again (a database busy with another write)."""
    global _down_until
    if broker_seems_down():
        return False
    try:
        task.apply_async(args=list(args), countdown=countdown, eta=eta, retry=False)
    except (KombuOperationalError, ConnectionError, TimeoutError, OSError) as exc:
        _down_until = time.monotonic() + PAUSE_SECONDS
        logger.warning("Broker unreachable (%s); tasks wait for the periodic sweeps for %s s", exc, PAUSE_SECONDS)
        return False
    except Exception as exc:  # noqa: BLE001 - a task run in-process (eager mode) failed; its row stays pending
        if isinstance(exc, reraise):
            raise
        logger.exception("Task %s failed when run in-process", task.name)
        return False
    return True
