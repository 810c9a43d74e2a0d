"""Running an import: the dry run and the apply are the same code, so their counts agree.

Each row is mapped to its fields, its cells checked (formulas, NUL bytes, length), its key made and compared with the
rows before it (a duplicate inside the file is an error) and with the ledger of earlier imports, then written through
its kind's service inside a savepoint (a refused row leaves nothing behind). The dry run does all of it in
transactions rolled back (a chunk of rows at a time, or the whole file for a kind whose rows build on earlier ones),
so nothing it did is kept, not even its audit entries or events; the apply commits a chunk of rows at a time.

While the apply runs, the outbox events it commits are held (``core.events.held_dispatch``) and dispatched at the end
under ``partnerships.rollup.rollups_coalesced``: one rollup per country touched, not one per row. Audit entries
name the actor and carry the correlation id ``import:<id>``, which marks them as written by an import.
"""

import contextlib
import hashlib
import hmac
import json
import sqlite3
import tempfile
from collections import Counter

from auditlog.cid import correlation_id
from auditlog.context import set_actor
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import dispatch_held, held_dispatch
from partnerships.rollup import rollups_coalesced

from . import reading
from .kinds import CREATE, ERROR, KINDS, UNCHANGED, Context, Outcome, RowError, service_error
from .models import ImportedRecord, ImportFileChunk, ImportJob, ImportRowResult

CHUNK_BYTES = 1_000_000
RESULTS_BATCH = 500


class _Rollback(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


def _scratch_database() -> sqlite3.Connection:
    """A private temporary SQLite database (the standard library's): its file is made on disk only when its page
    cache of 2 MiB overflows, is never visible to another process, and is gone when the connection closes or the
    process dies."""
    db = sqlite3.connect("", isolation_level=None)
    db.execute("PRAGMA cache_size = -2048")
    return db


class SeenKeys:
    """The keys of the rows read so far, with their line, for the in-file duplicate check: kept in a scratch SQLite
    database, not in memory, so what the import holds does not grow with the file. A look-up is an index probe."""

    def __init__(self):
        self._db = _scratch_database()
        self._db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")

    def first_line(self, digest: bytes) -> int | None:
        row = self._db.execute("SELECT line FROM seen WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    def add(self, digest: bytes, line: int) -> None:
        self._db.execute("INSERT INTO seen (digest, line) VALUES (?, ?)", (digest, line))

    def close(self) -> None:
        self._db.close()


class Spool:
    """The outcomes of a dry run read in one transaction, kept outside it (in a scratch SQLite database, not in
    memory) until it is rolled back; then they are recorded like a chunk's."""

    def __init__(self):
        self._db = _scratch_database()
        self._db.execute(
            "CREATE TABLE pending (line INTEGER PRIMARY KEY, cells TEXT, action TEXT, object_id INTEGER,"
            " country_id INTEGER, message TEXT, column_name TEXT)"
        )
        self._count = 0

    def append(self, item) -> None:
        line, cells, outcome = item
        column = None
        if isinstance(outcome, tuple):
            outcome, column = outcome
        self._db.execute(
            "INSERT INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)",
            (line, json.dumps(cells), outcome.action, outcome.object_id, outcome.country_id, outcome.message, column),
        )
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        for line, cells, action, object_id, country_id, message, column in self._db.execute(
            "SELECT * FROM pending ORDER BY line"
        ):
            outcome = Outcome(action, object_id, country_id, message)
            yield line, json.loads(cells), (outcome if column is None else (outcome, column))

    def close(self) -> None:
        self._db.close()


def store_file(job: ImportJob, handle) -> None:
    """Keep the uploaded file in the database, a megabyte at a time (every host reads it; backups hold it)."""
    handle.seek(0)
    position = 0
    while data := handle.read(CHUNK_BYTES):
        ImportFileChunk.objects.create(job=job, position=position, data=data)
        position += 1


@contextlib.contextmanager
def open_file(job: ImportJob):
    """The stored file as a local temporary file (openpyxl needs to seek), written a chunk at a time."""
    with tempfile.TemporaryFile() as handle:
        for data in (
            ImportFileChunk.objects.filter(job=job).order_by("position").values_list("data", flat=True).iterator(chunk_size=4)
        ):
            handle.write(bytes(data))
        handle.seek(0)
        yield handle


def key_digest(kind: str, key: tuple) -> str:
    message = "\x1f".join(str(part) for part in (kind, *key)).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def audit_mark(job: ImportJob) -> str:
    return f"import:{job.pk}"


def row_values(cells: list[str], mapping: dict) -> dict:
    return {name: (cells[index] if index < len(cells) else "") for name, index in mapping.items()}


def header_of(job: ImportJob, field_name: str) -> str:
    """The sheet's column a field was read from (its header, or the field's name)."""
    index = job.mapping.get(field_name)
    if index is not None and index < len(job.header):
        return job.header[index] or field_name
    return field_name


class Runner:
    def __init__(self, job: ImportJob, actor, *, dry_run: bool, progress=None):
        self.job, self.actor, self.dry_run = job, actor, dry_run
        self.kind = KINDS[job.kind]
        self.counts: Counter = Counter()
        self.seen = SeenKeys()
        self.results: list[ImportRowResult] = []
        self.progress = progress
        self.ctx = Context.load(actor)
        self.limits = reading.Limits.from_settings()

    def process(self, line: int, cells: list[str]) -> Outcome:
        job, kind = self.job, self.kind
        values = row_values(cells, job.mapping)
        try:
            for name, value in values.items():
                refused = reading.refused_cell(value, self.limits)
                if refused:
                    raise RowError(name, refused)
            missing = [f for f in kind.fields if f.required and not values.get(f.name, "").strip()]
            if missing:
                raise RowError(missing[0].name, _("This column is required and empty."))
            kind.prepare(values, self.ctx)
            key = kind.key(values, self.ctx)
            digest = key_digest(kind.name, key)
            first = self.seen.first_line(bytes.fromhex(digest))
            if first is not None:
                raise RowError("", _("The same row as line %(line)d of this file: left out.") % {"line": first})
            self.seen.add(bytes.fromhex(digest), line)
            ledger = ImportedRecord.objects.filter(kind=kind.name, key_digest=digest).values_list("object_id", flat=True).first()
            existing = kind.fetch(ledger) if ledger else None
            if existing is None and key[0] == "natural":
                existing = kind.find(values, self.ctx)
            if existing is not None:
                retired = kind.is_retired(existing)
                if retired:
                    return Outcome(UNCHANGED, existing.pk, getattr(existing, "country_id", None), retired)
            try:
                with transaction.atomic():
                    outcome = kind.write(values, self.ctx, existing)
            except RowError:
                raise
            except Exception as exc:  # the service's refusal: ValidationError, PermissionDenied, ConflictError
                from django.core.exceptions import PermissionDenied, ValidationError

                if isinstance(exc, ValidationError | PermissionDenied):
                    raise service_error(exc) from exc
                raise
            if not ledger and outcome.object_id and kind.name != "stages":
                # One INSERT, no read first: the ledger had no entry for this key a moment ago, and should another
                # import have written one since, the first entry stands.
                ImportedRecord.objects.bulk_create(
                    [ImportedRecord(kind=kind.name, key_digest=digest, object_id=outcome.object_id)], ignore_conflicts=True
                )
            return outcome
        except RowError as exc:
            column = header_of(job, exc.field) if exc.field else ""
            return Outcome(ERROR, message=exc.message, country_id=None), column

    def record(self, line: int, cells: list[str], outcome) -> None:
        column = ""
        if isinstance(outcome, tuple):
            outcome, column = outcome
        self.counts[outcome.action] += 1
        self.results.append(
            ImportRowResult(
                job=self.job,
                applied=not self.dry_run,
                line=line,
                action=outcome.action,
                column=column[:255],
                message=outcome.message,
                cells=cells if outcome.action == ERROR else [],
            )
        )
        if len(self.results) >= RESULTS_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.results:
            ImportRowResult.objects.bulk_create(self.results)
            self.results = []

    def rows(self):
        with open_file(self.job) as handle:
            sheet = reading.open_sheet(handle, self.job.size, self.limits)
            yield from sheet.rows()


def _mark_progress(job: ImportJob, done: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(rows_done=done, progress_at=timezone.now())


def run(job: ImportJob, actor, *, dry_run: bool) -> dict:
    """Run the dry run or the apply of ``job`` as ``actor``; returns the counts {create, update, unchanged, error}."""
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.CHECKING if dry_run else ImportJob.State.APPLYING,
        rows_done=0,
        error="",
        started_by=actor,
        progress_at=timezone.now(),
    )
    ImportRowResult.objects.filter(job=job, applied=not dry_run).delete()
    runner = Runner(job, actor, dry_run=dry_run)
    token = correlation_id.set(audit_mark(job))
    try:
        with set_actor(actor):
            counts = _run_dry(runner) if dry_run else _run_apply(runner)
    except reading.FileRefused as exc:
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED, error=str(exc), finished_at=timezone.now())
        raise
    except Exception:
        # Never left "running" for ever: the chunks committed so far stay written (a re-run finds them by their keys).
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED,
            error=_("The import stopped on an unexpected error; the rows already applied are kept. Run it again."),
            finished_at=timezone.now(),
        )
        raise
    finally:
        correlation_id.reset(token)
        runner.seen.close()
    runner.flush()
    fields = {"checked_counts": counts} if dry_run else {"applied_counts": counts}
    state = ImportJob.State.CHECKED if dry_run else ImportJob.State.APPLIED
    ImportJob.objects.filter(pk=job.pk).update(state=state, finished_at=timezone.now(), **fields)
    job.refresh_from_db()
    return counts


def _counts(runner: Runner) -> dict:
    return {action: runner.counts.get(action, 0) for action in (CREATE, "update", UNCHANGED, ERROR)}


def _run(runner: Runner, *, commit: bool) -> dict:
    """Rows a chunk at a time, each chunk in one transaction: committed by the apply, rolled back by the dry run.

    Rows of most kinds do not depend on one another (a second row with the same key is refused as a duplicate), so
    a dry run rolled back chunk by chunk says exactly what the apply will do, with memory that does not grow with
    the file; the results of each chunk are written after its transaction ends. A kind whose rows build on earlier
    ones (a facility's phases after the row that creates it: ``rows_build_on_earlier``) has its dry run read in
    one transaction, its outcomes spooled outside it, so that every row meets what the rows before it wrote, as
    in the apply."""
    whole_file = not commit and runner.kind.rows_build_on_earlier
    done, chunk = 0, settings.IMPORT_CHUNK_ROWS
    rows = runner.rows()
    while True:
        pending = Spool() if whole_file else []
        try:
            with transaction.atomic():
                for line, cells in rows:
                    pending.append((line, cells, runner.process(line, cells)))
                    if not whole_file and len(pending) >= chunk:
                        break
                if not commit:
                    raise _Rollback
        except _Rollback:
            runner.ctx.forget_all()  # what it read inside the rolled-back chunk may name rows that are gone
        read = len(pending)
        for line, cells, outcome in pending:
            runner.record(line, cells, outcome)
        runner.flush()
        if whole_file:
            pending.close()
        done += read
        _mark_progress(runner.job, done)
        if whole_file or read < chunk:
            return _counts(runner)


def _run_dry(runner: Runner) -> dict:
    return _run(runner, commit=False)


def _run_apply(runner: Runner) -> dict:
    with rollups_coalesced(), held_dispatch() as held:
        counts = _run(runner, commit=True)
        dispatch_held(held)
    return counts
