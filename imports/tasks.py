from celery import shared_task


@shared_task(name="imports.tasks.run_import", acks_late=True)
def run_import(job_id: int, user_id: int, dry_run: bool) -> dict | None:
    """The dry run or apply of a large file. Safe to run twice: an applied import is not applied again, and rows
    already written are found by their keys."""
    from django.contrib.auth import get_user_model

    from . import engine, reading
    from .models import ImportJob

    job = ImportJob.objects.filter(pk=job_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if job is None or user is None or job.state == ImportJob.State.APPLIED:
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
    from django.utils import timezone
    from django.utils.translation import gettext

    from core.broker import safe_enqueue

    from .models import ImportJob

    now = timezone.now()
    stalled = ImportJob.objects.filter(
        state__in=[ImportJob.State.CHECKING, ImportJob.State.APPLYING],
        progress_at__lt=now - datetime.timedelta(minutes=settings.IMPORT_STALLED_MINUTES),
    ).select_related("started_by", "uploaded_by")
    handed = 0
    for job in stalled:
        user = job.started_by or job.uploaded_by
        if user is None or not user.is_active:
            ImportJob.objects.filter(pk=job.pk, state=job.state).update(
                state=ImportJob.State.FAILED,
                error=gettext("The import stopped and the person who started it can no longer run it. Run it again."),
                finished_at=now,
            )
            continue
        # Its clock restarts, so that the next sweep waits as long again before handing it over once more.
        if ImportJob.objects.filter(pk=job.pk, state=job.state, progress_at=job.progress_at).update(progress_at=now):
            handed += safe_enqueue(run_import, args=[job.pk, user.pk, job.state == ImportJob.State.CHECKING])
    return handed
