"""Files built in the tests (nothing is read from disk) and the import run as the portal runs it."""

import csv
import io

from django.apps import apps
from openpyxl import Workbook

from imports import engine
from imports.models import ImportJob, ImportRowResult
from imports.services import import_job_create


def csv_bytes(rows, encoding="utf-8", delimiter=",") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(actor, kind, data: bytes, filename="sheet.csv") -> ImportJob:
    return import_job_create(actor=actor, kind=kind, handle=io.BytesIO(data), filename=filename, size=len(data))


def dry_run(actor, kind, data: bytes, filename="sheet.csv") -> ImportJob:
    job = upload(actor, kind, data, filename)
    engine.run(job, actor, dry_run=True)
    job.refresh_from_db()
    return job


def dry_run_and_apply(actor, kind, data: bytes, filename="sheet.csv") -> ImportJob:
    job = dry_run(actor, kind, data, filename)
    engine.run(job, actor, dry_run=False)
    job.refresh_from_db()
    return job


def results(job, applied=True) -> dict[int, ImportRowResult]:
    return {r.line: r for r in ImportRowResult.objects.filter(job=job, applied=applied)}


IMPORT_TABLES = {"imports.importjob", "imports.importfilechunk", "imports.importrowresult", "imports.importedrecord"}


def table_counts() -> dict[str, int]:
    """The rows of every table (the import's own bookkeeping aside)."""
    return {
        m._meta.label_lower: m._base_manager.count()
        for m in apps.get_models()
        if m._meta.label_lower not in IMPORT_TABLES and m._meta.managed
    }


def count_rollups(monkeypatch) -> list[int]:
    """The country ids every rollup computes from now on, in order (the rollup itself still runs)."""
    from partnerships import rollup

    computed: list[int] = []
    real = rollup.rollup_countries

    def counting(ids=None, **kwargs):
        computed.extend(ids or [])
        return real(ids, **kwargs)

    monkeypatch.setattr(rollup, "rollup_countries", counting)
    return computed
