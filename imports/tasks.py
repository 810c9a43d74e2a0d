from celery import shared_task


@shared_task(name="imports.tasks.run_import", acks_late=True)
def run_import(job_id: int, user_id: int, dry_run: bool, token: int | None = None) -> dict | None:
    """The dry run or apply of a large file, as handed over with ``token``: a message the job has moved on from (a
    later hand-over's token, or no longer the run it was sent for) does nothing. Safe to run twice all the same: an
    applied import is not applied again, and rows already written are found by their keys. (A message queued
    before tokens existed has none: it runs if the job is still in the run it was sent for.)"""
    from django.contrib.auth import get_user_model

    from . import engine, reading
    from .models import ImportJob

    job = ImportJob.objects.filter(pk=job_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    expected = ImportJob.State.CHECKING if dry_run else ImportJob.State.APPLYING
    if job is None or user is None or job.state != expected or (token is not None and job.run_token != token):
        return None
    try:
        return engine.run(job, user, dry_run=dry_run)
    except reading.FileRefused:
        return None


@shared_task(name="imports.tasks.resume_stalled_imports")
def resume_stalled_imports() -> int:
    """Hand over again every dry run or apply that has shown no progress for ``IMPORT_STALLED_MINUTES``: one that
    was never handed to a worker (the broker was down when it was started) or whose worker was lost. A run is safe
    to repeat (``run_import``). One whose starter can no longer act is marked failed, with the reason. Returns how
    many were handed over."""
    import datetime

    from django.conf import settings
    from django.db.models import Q
    from django.utils import timezone
    from django.utils.translation import gettext

    from core.broker import safe_enqueue

    from .models import ImportJob
    from .policies import can_import

    now = timezone.now()
    stalled = ImportJob.objects.filter(
        Q(progress_at__lt=now - datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES)) | Q(progress_at__isnull=True),
        state__in=[ImportJob.State.CHECKING, ImportJob.State.APPLYING],
    ).select_related("started_by")
    handed = 0
    for job in stalled:
        user = job.started_by
        same_run = ImportJob.objects.filter(pk=job.pk, state=job.state, run_token=job.run_token)
        reason = None
        if user is None or not user.is_active or not can_import(user):
            reason = gettext("The import stopped and the person who started it can no longer run it. Run it again.")
        elif job.handovers >= settings.IMPORT_MAX_HANDOVERS:
            reason = gettext("The import stopped %(count)d times without finishing; the rows already applied are kept. "
                             "Run it again, or split the file.") % {"count": job.handovers + 1}  # fmt: skip
        if reason:
            same_run.update(state=ImportJob.State.FAILED, error=reason, finished_at=now)
            continue
        # A new token (the message handed over before, if it is still queued, will do nothing), and its clock restarts,
        # so that the next sweep waits as long again before handing it over once more.
        token = job.run_token + 1
        if same_run.update(progress_at=now, run_token=token, handovers=job.handovers + 1):
            handed += safe_enqueue(run_import, args=[job.pk, user.pk, job.state == ImportJob.State.CHECKING, token])
    return handed
