"""A dry run or apply never handed to a worker (the broker was down) or whose worker was lost is handed over again
by the sweep, and finishes; one whose starter can no longer act says so instead of running for ever."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core import broker
from engagements.models import Engagement
from imports.models import ImportJob
from imports.services import import_job_apply, import_job_check, import_job_set_mapping
from imports.tasks import resume_stalled_imports
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, upload

pytestmark = pytest.mark.django_db

ROWS = [["Country", "Date", "Summary"]] + [["GB", "2026-01-10", f"Meeting {n}"] for n in range(5)]


@pytest.fixture
def job(staff_user, settings):
    settings.IMPORT_TASK_ROWS = 2  # five rows run as a task
    settings.IMPORT_CHUNK_ROWS = 2
    partnership_create(actor=staff_user, country=factories.country("GB"), started_on=None)
    job = upload(staff_user, "engagements", csv_bytes(ROWS))
    return import_job_set_mapping(actor=staff_user, job=job, mapping={"country": 0, "date": 1, "summary": 2})


def _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks, dry_run=True):
    broker._down_until = float("inf")  # every hand-over refused at once, as while Redis does not answer
    try:
        with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
            (import_job_check if dry_run else import_job_apply)(actor=staff_user, job=job)
    finally:
        broker.reset()
    job.refresh_from_db()
    return job


def test_a_dry_run_never_handed_over_is_handed_over_again_and_finishes(
    client, staff_user, job, settings, django_capture_on_commit_callbacks
):
    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks)
    assert job.state == ImportJob.State.CHECKING and job.rows_done == 0 and job.started_by == staff_user

    with time_machine.travel(start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES - 1), tick=False):
        assert resume_stalled_imports() == 0  # not stalled yet: a worker may still be on its way
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKING

    with time_machine.travel(start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1), tick=False):
        assert resume_stalled_imports() == 1  # the broker is back: the task runs (in-process here)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED and job.rows_done == 5 and job.checked_counts["create"] == 5
    assert Engagement.objects.count() == 0  # a dry run writes nothing

    client.force_login(staff_user)
    assert "Apply" in client.get(reverse("import-detail", args=[job.pk])).content.decode()


def test_an_apply_handed_over_twice_writes_each_row_once(staff_user, job, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_check(actor=staff_user, job=job)  # the broker up: run in-process at once
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks, dry_run=False)
    assert job.state == ImportJob.State.APPLYING

    later = start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        assert resume_stalled_imports() == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.APPLIED and Engagement.objects.count() == 5
    # A second hand-over of the same run (a lost worker's message redelivered) changes nothing.
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.APPLYING, progress_at=later)
    with time_machine.travel(later + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1), tick=False):
        assert resume_stalled_imports() == 1
    assert Engagement.objects.count() == 5


def test_a_run_whose_starter_cannot_act_any_more_fails_with_the_reason(
    staff_user, job, settings, django_capture_on_commit_callbacks
):
    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks)
    staff_user.is_active = False
    staff_user.save(update_fields=["is_active"])
    other = factories.staff(username="someone-else")
    ImportJob.objects.filter(pk=job.pk).update(uploaded_by=other)  # the uploader is not who started it: not used
    with time_machine.travel(start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1), tick=False):
        assert resume_stalled_imports() == 0
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "can no longer run it" in job.error and job.finished_at


def test_a_run_with_recent_progress_is_left_to_its_worker(staff_user, job, settings, django_capture_on_commit_callbacks):
    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks)
    progress = start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES)
    ImportJob.objects.filter(pk=job.pk).update(rows_done=2, progress_at=progress)  # a worker is on it
    with time_machine.travel(progress + datetime.timedelta(minutes=5), tick=False):
        assert resume_stalled_imports() == 0
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKING and job.rows_done == 2


def test_a_message_handed_over_before_does_nothing_once_the_run_is_handed_over_again(
    staff_user, job, settings, django_capture_on_commit_callbacks
):
    from imports.tasks import run_import

    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks)
    first_token = job.run_token
    broker._down_until = float("inf")  # the sweep's hand-over is queued, not run
    try:
        with time_machine.travel(start + datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1), tick=False):
            assert resume_stalled_imports() == 0
    finally:
        broker.reset()
    job.refresh_from_db()
    assert job.run_token == first_token + 1 and job.handovers == 1
    # The first message, still queued somewhere, reaches a worker: the job has moved on, so it does nothing.
    assert run_import(job.pk, staff_user.pk, True, first_token) is None
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKING and job.rows_done == 0
    assert run_import(job.pk, staff_user.pk, False, job.run_token) is None  # not the run it was sent for
    assert run_import(job.pk, staff_user.pk, True, job.run_token)["create"] == 5  # the live hand-over runs


def test_a_run_handed_over_too_often_fails_with_the_reason(staff_user, job, settings, django_capture_on_commit_callbacks):
    start = timezone.now()
    job = _started_while_the_broker_was_down(start, staff_user, job, django_capture_on_commit_callbacks)
    step = datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES + 1)
    broker._down_until = float("inf")  # every hand-over lost, as to a worker killed each time
    try:
        for number in range(1, settings.IMPORT_MAX_HANDOVERS + 2):
            with time_machine.travel(start + number * step, tick=False):
                resume_stalled_imports()
    finally:
        broker.reset()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and job.handovers == settings.IMPORT_MAX_HANDOVERS
    assert "without finishing" in job.error


def test_a_run_from_before_progress_was_recorded_is_swept_too(staff_user, job, django_capture_on_commit_callbacks):
    job = _started_while_the_broker_was_down(timezone.now(), staff_user, job, django_capture_on_commit_callbacks)
    ImportJob.objects.filter(pk=job.pk).update(progress_at=None)  # as a run under way when this was deployed
    assert resume_stalled_imports() == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
