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
