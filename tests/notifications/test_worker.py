"""A real Celery worker against the real Redis: a service call becomes an inbox row and an e-mail.

Needs REDIS_URL and a database the worker process can reach (PostgreSQL). On a laptop without them
the test skips, saying why; in CI (PORTAL_REQUIRE_SERVICES=1) their absence is a failure.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from core.queues import queues
from notifications.models import EmailDelivery, Notification, Preference, Subscription
from partnerships.models import CountryTrack
from partnerships.services import country_track_move, partnership_create
from tests import factories
from tests.conftest import needs

ROOT = Path(__file__).resolve().parents[2]
# serialized_rollback puts back the countries, tracks and groups of the data migrations after the flush.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("reference_data")]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    needs(bool(settings.REDIS_URL), "REDIS_URL is not set: there is no broker for a real worker")
    needs(connection.vendor == "postgresql", "the worker process needs a shared database (PostgreSQL), not in-memory SQLite")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_FILE_PATH": str(mail_dir),
        "ROLLUP_COALESCE_SECONDS": "0",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            ",".join(queues(queue)),  # one worker for every kind of work
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        yield {"mail": mail_dir, "log": tmp_path / "worker.log", "process": process}
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for(predicate, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_a_stage_move_reaches_the_inbox_and_the_mailbox_through_a_real_worker(worker):
    staff = factories.staff(username="staff")
    liaison = factories.liaison("NO", username="no-liaison", email="no-liaison@example.org")
    follower = factories.viewer(username="follower", email="follower@example.org")
    Subscription.objects.create(user=follower, scope=Subscription.Scope.COUNTRY, country=factories.country("NO"))
    Preference.objects.create(user=follower, email_frequency=Preference.Frequency.IMMEDIATE)
    partnership_create(actor=staff, country=factories.country("NO"))
    ct = CountryTrack.objects.get(country__iso2="NO", track__key="safety_standards")

    country_track_move(actor=liaison, country_track=ct, to_stage=factories.stage("safety_standards", "negotiating"))

    delivered = _wait_for(lambda: EmailDelivery.objects.filter(status="sent", notification__user=follower).exists())
    assert delivered, "no e-mail was sent by the worker; its log:\n" + worker["log"].read_text()[-4000:]
    note = Notification.objects.get(user=follower, event__kind="stage.moved")
    assert note.event.state == "dispatched"
    messages = [p.read_text() for p in worker["mail"].iterdir()]
    assert len(messages) == 1
    assert "Norway · AI safety standards moved from “Not started” to “Negotiating”." in messages[0]
    assert "follower@example.org" in messages[0]
    # The liaison made the move and is not told about it; the coalesced rollup ran in the worker too.
    assert not Notification.objects.filter(user=liaison).exists()
    assert _wait_for(lambda: CountryTrack.objects.get(pk=ct.pk).health_computed_at is not None)
    assert factories.country("NO").status.furthest_stage_key == "negotiating"


def test_a_real_worker_releases_a_scheduled_announcement_at_its_embargo_time(worker):
    """No beat runs here: the release comes from the task queued with the embargo as its ETA."""
    import datetime

    from django.utils import timezone

    from announcements.models import Announcement
    from announcements.services import announcement_create, announcement_schedule
    from core.models import Event

    staff = factories.staff(username="staff-eta")
    announcement = announcement_create(actor=staff, title="Embargoed news", countries=[factories.country("KE")])
    embargo = timezone.now() + datetime.timedelta(seconds=4)
    announcement_schedule(actor=staff, announcement=announcement, embargo_until=embargo)
    time.sleep(1)
    assert Announcement.objects.get(pk=announcement.pk).status == Announcement.Status.SCHEDULED  # not before its time
    assert _wait_for(lambda: Announcement.objects.get(pk=announcement.pk).status == Announcement.Status.PUBLISHED), worker[
        "log"
    ].read_text()[-3000:]
    released = Announcement.objects.get(pk=announcement.pk)
    assert released.published_at == embargo
    assert timezone.now() >= embargo
    assert Event.objects.filter(kind="announcement.published", subject_id=str(announcement.pk)).count() == 1


def test_a_real_worker_builds_a_briefing_pack_and_tells_its_requester(worker):
    """The pack task runs in the worker process: progress, the PDF in the database and the inbox row all come from
    there (the test process only reads them)."""
    import io

    from pypdf import PdfReader

    from partnerships.models import BriefingPack
    from partnerships.packs import pack_request

    staff = factories.staff(username="staff-pack")
    for code in ("NO", "KE"):
        partnership_create(actor=staff, country=factories.country(code))
    pack = pack_request(actor=staff, countries=[factories.country("NO"), factories.country("KE")], label="worker pack")

    built = _wait_for(lambda: BriefingPack.objects.get(pk=pack.pk).status in ("ready", "failed"), timeout=90)
    assert built, "the worker did not build the pack; its log:\n" + worker["log"].read_text()[-4000:]
    pack = BriefingPack.objects.get(pk=pack.pk)
    assert (pack.status, pack.done, pack.total) == ("ready", 2, 2), pack.error
    titles = [item.title for item in PdfReader(io.BytesIO(bytes(pack.pdf))).outline if not isinstance(item, list)]
    assert sum("Country briefing" in t for t in titles) == 2
    assert _wait_for(lambda: Notification.objects.filter(user=staff, event__kind="briefing_pack.ready").exists())
