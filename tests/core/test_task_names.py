"""Tasks are scheduled and routed by name (``@shared_task(name=...)``): beat publishes the names in
``CELERY_BEAT_SCHEDULE`` and the router (core/queues.py) picks a queue by name. A name no task is registered under
is accepted without complaint and never run, so every such name must be one the Celery app knows."""

from fnmatch import fnmatchcase

from config.celery import app
from core.queues import KINDS


def registered_task_names() -> set[str]:
    app.loader.import_default_modules()  # what a worker and beat do at start-up: import every app's tasks
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_beat_entry_names_a_registered_task():
    schedule = app.conf.beat_schedule  # what beat reads: settings.CELERY_BEAT_SCHEDULE
    assert schedule, "the beat schedule is empty"
    names = registered_task_names()
    unknown = {entry: spec["task"] for entry, spec in schedule.items() if spec["task"] not in names}
    assert not unknown, f"beat entries naming no registered task: {unknown}; registered: {sorted(names)}"


def test_every_queue_route_matches_a_registered_task():
    names = registered_task_names()
    unmatched = [pattern for pattern, _kind in KINDS if not any(fnmatchcase(name, pattern) for name in names)]
    assert not unmatched, f"queue routes matching no registered task: {unmatched}"
