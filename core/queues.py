"""Celery queues by kind of work, so that one kind cannot hold up another.

A slow webhook receiver, a large import or a briefing pack keeps its worker busy for seconds or minutes; the
rollups that keep the dashboards true, and the inbox and e-mail notifications, must not wait behind them. Each
kind of work has a queue of its own, named after the deployment's default queue (``CELERY_QUEUE``, "celery"):

==================  ===========================  ============================================================
kind                queue (default "celery")     tasks
==================  ===========================  ============================================================
rollups             celery-rollups               status rollups of countries
notifications       celery-notifications         the outbox dispatcher, e-mails, digests, reminders, sweeps
webhooks            celery-webhooks              webhook deliveries (receivers may be slow or down)
documents           celery-documents             imports and briefing packs (long, heavy)
(anything else)     celery                       announcement releases, retention, purges
==================  ===========================  ============================================================

``route`` is the Celery router (``CELERY_TASK_ROUTES``): it reads the default queue when a task is sent, so a
process pointed at another default queue (the tests give each their own) routes into that family. The Procfile
runs a worker per queue (``make stack``); one worker may also consume several (``queues(...)``), as the embedded
default does in-process. Messages queued before the split sit on the default queue, which every deployment keeps
a worker on, and every worker knows every task: nothing already queued is stranded.
"""

from fnmatch import fnmatchcase

# The first pattern that matches a task's (stable, explicit) name decides its kind.
KINDS: list[tuple[str, str]] = [
    ("partnerships.tasks.rollup_*", "rollups"),
    ("notifications.tasks.deliver_webhook", "webhooks"),
    ("notifications.tasks.*", "notifications"),
    ("core.tasks.dispatch_*", "notifications"),
    ("imports.tasks.resume_*", "notifications"),  # a sweep: never behind the import it hands over
    ("imports.tasks.*", "documents"),
    ("*.tasks.build_*", "documents"),
]
KIND_NAMES = ("rollups", "notifications", "webhooks", "documents")


def kind_of(task_name: str) -> str | None:
    """The kind of work of a task, or None for the default queue."""
    return next((kind for pattern, kind in KINDS if fnmatchcase(task_name, pattern)), None)


def queue_name(kind: str | None, default: str) -> str:
    return default if kind is None else f"{default}-{kind}"


def queues(default: str) -> list[str]:
    """Every queue of the family of ``default``: what one worker consuming everything listens to."""
    return [default, *(queue_name(kind, default) for kind in KIND_NAMES)]


def route(name, args, kwargs, options, task=None, **kw):
    """Celery's router: the queue of the task's kind, in the family of the current default queue."""
    from celery import current_app

    app = task.app if task is not None else current_app
    return {"queue": queue_name(kind_of(name), app.conf.task_default_queue)}
