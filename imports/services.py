"""Every write of an import's own rows: upload, column mapping, dry run, apply (the records it writes into the portal
are written by the apps' services, in ``imports.engine``)."""

import contextlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import engine, reading
from .kinds import KINDS, guess_mapping
from .models import ImportJob
from .policies import ensure_can_import, ensure_can_see_job


def import_job_create(*, actor, kind: str, handle, filename: str, size: int) -> ImportJob:
    """Check an uploaded file (refused with ``reading.FileRefused`` before anything is stored) and keep it with its
    header and the guessed column of each field."""
    ensure_can_import(actor)
    if kind not in KINDS:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    sheet = reading.open_sheet(handle, size)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            filename=(filename or "upload")[:255],
            size=size,
            file_format=sheet.format,
            encoding=sheet.encoding,
            header=sheet.header,
            mapping=guess_mapping(KINDS[kind], sheet.header),
            row_count=sheet.row_count,
            uploaded_by=actor,
        )
        engine.store_file(job, handle)
    return job


def import_job_set_mapping(*, actor, job: ImportJob, mapping: dict) -> ImportJob:
    """Set the column of each field (None: not in the sheet). A required field must have a column; no column twice."""
    ensure_can_see_job(actor, job)
    if job.is_running or job.state == ImportJob.State.APPLIED:
        raise ValidationError(_("This import has run already: upload the file again to change its columns."))
    kind = KINDS[job.kind]
    clean, errors = {}, {}
    for f in kind.fields:
        index = mapping.get(f.name)
        if index is None or index == "":
            if f.required:
                errors[f.name] = _("Choose the column that holds this.")
            continue
        index = int(index)
        if not 0 <= index < len(job.header):
            errors[f.name] = _("Choose a column of the sheet.")
        elif index in clean.values():
            errors[f.name] = _("This column is already used for another field.")
        else:
            clean[f.name] = index
    if errors:
        raise ValidationError(errors)
    job.mapping = clean
    job.state = ImportJob.State.UPLOADED
    job.checked_counts = {}
    job.save(update_fields=["mapping", "state", "checked_counts"])
    job.results.all().delete()
    return job


def runs_as_task(job: ImportJob) -> bool:
    return job.row_count > settings.IMPORT_TASK_ROWS


def import_job_check(*, actor, job: ImportJob) -> ImportJob:
    """The dry run: every row's outcome, nothing kept. A large file runs as a task (``imports.tasks.run_import``)."""
    ensure_can_see_job(actor, job)
    return _start(actor, job, dry_run=True)


def import_job_apply(*, actor, job: ImportJob) -> ImportJob:
    """Apply what the dry run showed (it must have run on the current mapping)."""
    ensure_can_see_job(actor, job)
    if job.state != ImportJob.State.CHECKED:
        raise ValidationError(_("Run the dry run first, then apply."))
    return _start(actor, job, dry_run=False)


def _start(actor, job: ImportJob, *, dry_run: bool) -> ImportJob:
    if job.is_running:
        raise ValidationError(_("This import is already running."))
    if runs_as_task(job):
        from core.broker import safe_enqueue

        from .tasks import run_import

        state = ImportJob.State.CHECKING if dry_run else ImportJob.State.APPLYING
        token = job.run_token + 1
        ImportJob.objects.filter(pk=job.pk).update(
            state=state, rows_done=0, started_by=actor, progress_at=timezone.now(), run_token=token, handovers=0
        )
        transaction.on_commit(lambda: safe_enqueue(run_import, args=[job.pk, actor.pk, dry_run, token]))
        job.refresh_from_db()
        return job
    with contextlib.suppress(reading.FileRefused):
        engine.run(job, actor, dry_run=dry_run)
    job.refresh_from_db()
    return job
