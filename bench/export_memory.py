"""Peak memory of a streamed CSV export of engagements, at two sizes: it must not grow with the rows.

    make bench-export                                    # 1,000 and 100,000 engagements, a SQLite file each
    make bench-export ARGS="--sizes 1000 20000"
    DATABASE_URL=postgres://.../exportbench make bench-export   # one database, rebuilt for each size in turn

For each size N, a database holding one country with N engagements is built with ``seed_demo`` (reused while it has
that size), then the country page's "Download engagements (CSV)" (``/countries/<code>/?export=csv``) is requested
through Django's full request path in this process (middleware, sessions, the view) by the demo's programme staff
(who see every engagement, confidential ones included), and ``streaming_content`` is read chunk by chunk and thrown
away, as a WSGI server would send it.

Two runs per size: one timed with the queries counted, and one under ``tracemalloc`` whose peak is what the export
allocated in Python (objects, strings, the rows of a chunk) above what was held before the request, with DEBUG
off (with it on, Django keeps the text of each query). tracemalloc
does not see memory allocated outside Python's allocator (the SQLite or libpq buffers), nor the process's
resident size. A table goes to the terminal, JSON to bench/results/.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def measure(size: int) -> dict:
    """In a process of its own (one database per process): build or reuse the database of ``size``, then measure."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / f'export-{size}.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import tracemalloc

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from engagements import exports
    from engagements.models import Engagement
    from partnerships.models import Partnership

    call_command("migrate", verbosity=0)
    have = (Partnership.objects.count(), Engagement.objects.count())
    seeded = None
    if have != (1, size):
        print(f"  building 1 country and {size:,} engagements (found {have[0]} and {have[1]:,})…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        call_command("seed_demo", countries=1, engagements=size, seed=1, reset=True, password="bench-password",
                     allow_production=True, verbosity=0)  # fmt: skip
        seeded = time.perf_counter() - started
        print(f"  built in {seeded:.1f} s", file=sys.stderr, flush=True)
    country = Partnership.objects.select_related("country").get().country
    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-staff"))
    url = f"/countries/{country.iso2.lower()}/?export=csv"

    def download() -> tuple[int, int]:
        response = client.get(url)
        assert response.status_code == 200 and response.streaming, (response.status_code, url)
        chunks = size_bytes = 0
        for chunk in response.streaming_content:  # read and dropped, one at a time
            chunks += 1
            size_bytes += len(chunk)
        response.close()
        return chunks, size_bytes

    client.get(f"/countries/{country.iso2.lower()}/?export=csv&track=no-such-track")  # warm: imports, session, user
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        chunks, size_bytes = download()
        seconds = time.perf_counter() - started
    queries = len(ctx.captured_queries)
    del ctx

    reset_queries()
    # With DEBUG on, Django keeps the text of every query (up to 9,000): memory of the bench, not of the export.
    with override_settings(DEBUG=False):
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        download()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "engagements": size,
        "rows_exported": Engagement.objects.filter(country=country, voided_at__isnull=True).count(),
        "chunk_size": exports.CHUNK_SIZE,
        "seconds": seconds,
        "ms_per_1000_rows": seconds * 1000 / size * 1000,
        "queries": queries,
        "chunks_sent": chunks,
        "bytes": size_bytes,
        "peak_python_bytes": peak - before,
        "left_after_bytes": current - before,
        "seeded_seconds": seeded,
        "database": connection.vendor,
        "debug_while_traced": False,
        "django": django.get_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000], help="engagements (default 1000 100000)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process measuring one size
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0

    results = []
    for size in args.sizes:
        print(f"{size:,} engagements…", flush=True)
        done = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stdout, done.stderr, file=sys.stderr)
            return done.returncode
        sys.stderr.write(done.stderr)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = (f"{'engagements':>12} {'rows out':>9} {'MiB sent':>9} {'queries':>8} {'seconds':>8} "
              f"{'ms/1,000 rows':>14} {'peak Python KiB':>16}")  # fmt: skip
    print(f"\nDatabase: {results[0]['database']}; DEBUG off while traced; chunk size {results[0]['chunk_size']}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['engagements']:>12,} {r['rows_exported']:>9,} {r['bytes'] / 2**20:>9.1f} {r['queries']:>8} "
              f"{r['seconds']:>8.2f} {r['ms_per_1000_rows']:>14.1f} {r['peak_python_bytes'] / 1024:>16,.0f}")  # fmt: skip
    smallest, largest = results[0], results[-1]
    ratio = largest["peak_python_bytes"] / smallest["peak_python_bytes"]
    rows_ratio = largest["engagements"] / smallest["engagements"]
    print(f"\nPeak at {largest['engagements']:,} / peak at {smallest['engagements']:,}: {ratio:.2f} (rows x{rows_ratio:,.0f})")
    report = {
        "results": results,
        "peak_ratio": ratio,
        "rows_ratio": rows_ratio,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    out = RESULTS / f"export-memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"Written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
