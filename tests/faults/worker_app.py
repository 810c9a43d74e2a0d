"""The Celery app of the fault tests' workers that are killed: the portal's own app and settings, with test-only knobs.

- ``FAULT_VISIBILITY_TIMEOUT``: seconds before Redis hands a task that a worker took but never acknowledged to
  another worker. Production keeps 3 hours (longer than any task or countdown); the kill test lowers it so that the
  task a SIGKILLed worker held comes back within the test, and restores every second instead of every 100 s.
- ``FAULT_TASK``, ``FAULT_JOURNAL``: every run of that task appends ``prerun|postrun <task id> <pid>`` to the journal.
- ``FAULT_STOP_AT`` (``prerun:N``, ``postrun:N``, or both with a comma), ``FAULT_MARKERS`` (a folder): at the Nth run
  of the task in a pool process, that process writes its pid to ``<folder>/<phase>-<N>`` and waits, so that the test
  can SIGKILL it at a known point: before the task body ran (prerun), or after its transaction committed but before
  the broker was told (postrun, with acks_late). Each stop happens once: a pool process started afresh counts from
  zero again, but finds the marker already written.
"""

import os
import time

from celery.signals import task_postrun, task_prerun

from config.celery import app

if os.environ.get("FAULT_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "visibility_timeout": int(os.environ["FAULT_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

_runs = 0


def _journal(line: str) -> None:
    if os.environ.get("FAULT_JOURNAL"):
        with open(os.environ["FAULT_JOURNAL"], "a") as journal:
            journal.write(line + "\n")


def _maybe_stop(phase: str) -> None:
    for spec in filter(None, os.environ.get("FAULT_STOP_AT", "").split(",")):
        want_phase, nth = spec.split(":")
        if phase != want_phase or _runs != int(nth):
            continue
        marker = os.path.join(os.environ["FAULT_MARKERS"], f"{phase}-{nth}")
        if os.path.exists(marker):
            continue
        with open(marker + ".tmp", "w") as tmp:
            tmp.write(str(os.getpid()))
        os.rename(marker + ".tmp", marker)
        time.sleep(120)  # the test kills this process now


@task_prerun.connect
def _prerun(sender=None, task_id=None, **kwargs):
    global _runs
    if sender is None or sender.name != os.environ.get("FAULT_TASK"):
        return
    _runs += 1
    _journal(f"prerun {task_id} {os.getpid()}")
    _maybe_stop("prerun")


@task_postrun.connect
def _postrun(sender=None, task_id=None, **kwargs):
    if sender is None or sender.name != os.environ.get("FAULT_TASK"):
        return
    _journal(f"postrun {task_id} {os.getpid()}")
    _maybe_stop("postrun")
