"""Fault: Celery workers killed with SIGKILL in the middle of a batch of 50 rollups.

Each rollup finds a track stalled (no engagement for 100 days) and raises one ``track.health_changed`` event, which
a ``dispatch_event`` task turns into an inbox row for the country's liaison. Two kills, at the two points that
matter with ``task_acks_late``, in a worker run as in the Procfile (prefork pool; one pool process here):

1. a pool process is killed before the body of a rollup ran: the worker's main process sees it lost and, with
   ``task_reject_on_worker_lost``, puts the message back at once; the rollup runs in the next pool process;
2. the whole worker (main and pool process: a machine or container lost) is killed after a rollup's transaction
   committed but before the task was acknowledged: the message stays in Redis's set of unacknowledged messages, and
   the next worker gets it back once the broker's visibility timeout has passed (3 h in production, 3 s for the
   second worker here); the rollup runs again and must raise nothing new.

In the end: every rollup done, 50 statuses, 50 health events (none doubled), each dispatched once, 50 inbox rows.
"""

import datetime
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from core import broker
from core.models import Event
from core.queues import queue_name
from countries.models import Country, CountryStatus, LiaisonAssignment
from notifications.models import Notification
from partnerships.models import CountryTrack
from partnerships.services import partnership_create
from partnerships.tasks import rollup_country
from tests import factories

from .conftest import Worker, celery_sends_to, report, wait_for

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]

N = 50
TASK = "partnerships.tasks.rollup_country"
VISIBILITY_TIMEOUT = 3


def _journal(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    return [(phase, task_id, int(pid)) for phase, task_id, pid in (row.split() for row in path.read_text().splitlines())]


def _marker_pid(path: Path) -> int:
    assert wait_for(path.exists, timeout=60, interval=0.05), f"the worker never reached {path.name}"
    return int(path.read_text())


def test_killed_workers_lose_no_rollup_and_double_nothing(own_redis, queue, workers, tmp_path, monkeypatch):
    # The settings this relies on (the test also fails without them: checked by running it with each turned off).
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= settings.CELERY_TASK_TIME_LIMIT
    assert rollup_country.acks_late

    # Set-up through the services, with the broker "down" so that nothing runs yet: 50 partner countries, one
    # liaison for all, each with its workforce track exploring and untouched for 100 days (stalled at the next rollup).
    monkeypatch.setattr(broker, "_down_until", time.monotonic() + 600)
    staff = factories.staff(username="staff")
    liaison = factories.liaison(username="liaison")
    countries = list(Country.objects.order_by("iso2")[:N])
    for country in countries:
        partnership_create(actor=staff, country=country)
    LiaisonAssignment.objects.bulk_create([LiaisonAssignment(user=liaison, country=c) for c in countries])
    exploring = factories.stage("workforce", "exploring")
    CountryTrack.objects.filter(country__in=countries, track__key="workforce").update(
        stage=exploring,
        ladder_stage=exploring,
        stage_changed_at=timezone.now() - datetime.timedelta(days=100),
        health="on_track",
    )
    Event.objects.update(state=Event.State.DISPATCHED)  # the set-up's own events are not under test
    broker.reset()
    assert not CountryStatus.objects.exists()

    redis = own_redis.client()
    journal, markers = tmp_path / "journal.txt", tmp_path / "markers"
    markers.mkdir()
    fault_env = {"FAULT_TASK": TASK, "FAULT_JOURNAL": str(journal), "FAULT_MARKERS": str(markers)}
    with celery_sends_to(own_redis.url, queue):
        for country in countries:
            rollup_country.apply_async(args=[country.pk])
        enqueued = redis.llen(queue_name("rollups", queue))

        # The first worker keeps the production visibility timeout (3 h): only reject_on_worker_lost can give a task
        # back within this test. It stops before the body of the 5th rollup of its pool process, and after the
        # commit of the 10th rollup of the next pool process.
        first = Worker(
            name="first",
            broker_url=own_redis.url,
            queue=queue,
            tmp_path=tmp_path,
            concurrency=1,
            app_module="tests.faults.worker_app",
            env={**fault_env, "FAULT_STOP_AT": "prerun:5,postrun:10"},
        ).start()
        workers.append(first)

        # Kill 1: the pool process, before the 5th rollup's body ran.
        pool_process = _marker_pid(markers / "prerun-5")
        assert pool_process != first.process.pid
        victim_1 = [task_id for phase, task_id, pid in _journal(journal) if phase == "prerun" and pid == pool_process][-1]
        os.kill(pool_process, signal.SIGKILL)

        # Kill 2: the whole worker, after the 10th rollup of the new pool process committed, before its ack.
        next_pool_process = _marker_pid(markers / "postrun-10")
        victim_2 = [task_id for phase, task_id, pid in _journal(journal) if phase == "postrun" and pid == next_pool_process][-1]
        first.kill()
        at_kill_2 = {
            "enqueued": enqueued,
            "statuses": CountryStatus.objects.count(),
            "health_events": Event.objects.filter(kind="track.health_changed").count(),
            "unacked_in_redis": redis.hlen("unacked"),
            "queued_in_redis": redis.llen(queue_name("rollups", queue)),
            # reject_on_worker_lost put it back at the end of the queue (Redis: LPUSH, consumers BRPOP).
            "victim_1_back_in_queue": any(
                victim_1.encode() in message for message in redis.lrange(queue_name("rollups", queue), 0, -1)
            ),
        }
        line = report("worker 1: pool process killed before a body, then the whole worker after a commit", at_kill_2)
        # 4 + 10 rollups committed; the one killed after its commit is held unacknowledged, the other is queued again.
        assert (enqueued, at_kill_2["statuses"], at_kill_2["unacked_in_redis"]) == (N, 14, 1), line
        assert at_kill_2["victim_1_back_in_queue"], line + "\nworker 1 log:\n" + first.log()[-3000:]

        # The next worker, with a visibility timeout of 3 s, gets back what the killed one held, and does the rest.
        second = Worker(
            name="second",
            broker_url=own_redis.url,
            queue=queue,
            tmp_path=tmp_path,
            concurrency=1,
            app_module="tests.faults.worker_app",
            env={**fault_env, "FAULT_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)},
        ).start()
        workers.append(second)

        def done():
            return (
                CountryStatus.objects.count() == N
                and Event.objects.filter(kind="track.health_changed", state=Event.State.DISPATCHED).count() >= N
                and Notification.objects.filter(user=liaison).count() >= N
                and redis.llen(queue_name("rollups", queue)) == 0
                and redis.hlen("unacked") == 0
            )

        finished = wait_for(done, timeout=60, interval=0.2)

    runs = _journal(journal)
    started = Counter(task_id for phase, task_id, _pid in runs if phase == "prerun")
    completed = Counter(task_id for phase, task_id, _pid in runs if phase == "postrun")
    health = Event.objects.filter(kind="track.health_changed")
    figures = {
        "rollups_enqueued": enqueued,
        "rollup_runs_started": sum(started.values()),
        "distinct_rollups_run": len(started),
        "rollups_run_twice": sorted(started[task_id] for task_id in started if started[task_id] > 1),
        "victim_1_runs(started,completed)": (started[victim_1], completed[victim_1]),
        "victim_2_runs(started,completed)": (started[victim_2], completed[victim_2]),
        "rollups_never_completed": len(set(started) - set(completed)),
        "country_statuses": CountryStatus.objects.count(),
        "health_events": health.count(),
        "health_events_distinct_tracks": health.values("subject_id").distinct().count(),
        "health_events_dispatched": health.filter(state=Event.State.DISPATCHED).count(),
        "dispatch_attempts": sorted(set(health.values_list("attempts", flat=True))),
        "inbox_rows": Notification.objects.filter(user=liaison).count(),
        "queued_left": redis.llen(queue_name("rollups", queue)),
        "unacked_left": redis.hlen("unacked"),
        "lost_pool_process_logged": "WorkerLostError" in first.log(),
    }
    line = report("after the second worker finished", figures)
    assert finished, line + "\nworker 2 log:\n" + second.log()[-4000:]
    assert figures == {
        **figures,
        "rollups_enqueued": N,
        "rollup_runs_started": N + 2,  # the two victims ran twice, nothing else did
        "distinct_rollups_run": N,
        "rollups_run_twice": [2, 2],
        "victim_1_runs(started,completed)": (2, 1),  # requeued by reject_on_worker_lost, then done
        "victim_2_runs(started,completed)": (2, 2),  # redelivered after the visibility timeout, ran again harmlessly
        "rollups_never_completed": 0,
        "country_statuses": N,
        "health_events": N,
        "health_events_distinct_tracks": N,
        "health_events_dispatched": N,
        "dispatch_attempts": [1],
        "inbox_rows": N,
        "queued_left": 0,
        "unacked_left": 0,
        "lost_pool_process_logged": True,
    }, line
