"""Rows per second and peak memory of a spreadsheet import of engagements, at two sizes: memory must not grow with
the rows (the file is read as a stream, a chunk of rows per transaction).

    DATABASE_URL=postgres://.../importbench make bench-import                    # 5,000 and 50,000 rows
    DATABASE_URL=postgres://.../importbench make bench-import ARGS="--sizes 1000 10000"

For each size N, in a process of its own: the database is migrated, the engagements, events, audit entries and
imports of earlier runs are deleted, five countries get a partnership, and a CSV of N engagements (spread over
the five countries, two tracks each, a fifth of them confidential) is written to a temporary file. Then the import
runs as the portal runs it, as the demo's programme staff: upload (the file checked and stored in the database),
the dry run (every row, rolled back), and the apply (every row written through ``engagement_log``, its audit entry
and outbox event, the events dispatched after the import and one rollup per country).

Memory is the process's peak resident size (``getrusage``), before the import and at its end: it includes what
libpq and the C parts of Python hold, which tracemalloc would not see, and costs nothing to measure. Tasks run
in-process (no REDIS_URL), so the dispatch of the events and the rollup are in the figures. A table goes to the
terminal, JSON to bench/results/.
"""

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
COUNTRIES = ("KE", "GH", "NO", "FR", "BR")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def write_sheet(path: Path, size: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Country", "Date", "Kind", "Summary", "Outcome", "Tracks", "Sensitivity"])
        for n in range(size):
            out.writerow([
                COUNTRIES[n % len(COUNTRIES)], f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}", ("meeting", "call", "visit")[n % 3],
                f"Bench engagement number {n} on the national plan", f"Outcome {n}" if n % 2 else "",
                "workforce; data_centres", "confidential" if n % 5 == 0 else "normal",
            ])  # fmt: skip


def measure(size: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from auditlog.models import LogEntry
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from core.models import Event
    from countries.models import Country
    from engagements.models import Engagement
    from imports import engine
    from imports.models import ImportedRecord, ImportJob
    from imports.services import import_job_create
    from partnerships.models import Partnership
    from partnerships.services import partnership_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    for model in (Engagement, Event, LogEntry, ImportJob, ImportedRecord):
        model.objects.all().delete()
    users = get_user_model()
    staff = users.objects.filter(username="bench-import-staff").first()
    if staff is None:
        staff = users.objects.create_superuser("bench-import-staff", "bench@example.org", "bench-password")
    for code in COUNTRIES:
        if not Partnership.objects.filter(country__iso2=code).exists():
            partnership_create(actor=staff, country=Country.objects.get(iso2=code), started_on=None)
    prepared = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp, override_settings(DEBUG=False):
        path = Path(tmp) / "engagements.csv"
        write_sheet(path, size)
        file_bytes = path.stat().st_size
        rss_before = peak_rss_mib()
        t0 = time.perf_counter()
        with path.open("rb") as handle:
            job = import_job_create(actor=staff, kind="engagements", handle=handle, filename=path.name, size=file_bytes)
        t1 = time.perf_counter()
        checked = engine.run(job, staff, dry_run=True)
        t2 = time.perf_counter()
        rss_after_dry_run = peak_rss_mib()
        applied = engine.run(job, staff, dry_run=False)
        t3 = time.perf_counter()
        rss_after = peak_rss_mib()
    assert applied == checked and applied["create"] == size, (checked, applied)
    return {
        "rows": size,
        "file_bytes": file_bytes,
        "upload_seconds": t1 - t0,
        "dry_run_seconds": t2 - t1,
        "apply_seconds": t3 - t2,
        "dry_run_rows_per_second": size / (t2 - t1),
        "apply_rows_per_second": size / (t3 - t2),
        "peak_rss_before_mib": rss_before,
        "peak_rss_after_dry_run_mib": rss_after_dry_run,
        "peak_rss_after_mib": rss_after,
        "engagements": Engagement.objects.count(),
        "events": Event.objects.count(),
        "prepared_seconds": prepared,
        "database": connection.vendor,
        "chunk_rows": engine.settings.IMPORT_CHUNK_ROWS,
        "django": django.get_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000], help="rows (default 5000 50000)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process measuring one size
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print("Set DATABASE_URL to a scratch PostgreSQL database (its engagements and events are deleted).", file=sys.stderr)
        return 2
    results = []
    for size in args.sizes:
        print(f"{size:,} rows…", flush=True)
        done = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stdout, done.stderr, file=sys.stderr)
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = (f"{'rows':>8} {'MiB file':>9} {'dry run s':>10} {'rows/s':>8} {'apply s':>9} {'rows/s':>8} "
              f"{'peak RSS before':>16} {'after dry run':>14} {'after apply':>12}")  # fmt: skip
    print(f"\nDatabase: {results[0]['database']}; {results[0]['chunk_rows']} rows per transaction; tasks in-process")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['rows']:>8,} {r['file_bytes'] / 2**20:>9.1f} {r['dry_run_seconds']:>10.1f} "
              f"{r['dry_run_rows_per_second']:>8.0f} "
              f"{r['apply_seconds']:>9.1f} {r['apply_rows_per_second']:>8.0f} {r['peak_rss_before_mib']:>12.0f} MiB "
              f"{r['peak_rss_after_dry_run_mib']:>10.0f} MiB {r['peak_rss_after_mib']:>8.0f} MiB")  # fmt: skip
    report = {
        "results": results,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    out = RESULTS / f"import-rate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"Written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
