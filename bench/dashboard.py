"""Render time of the programme dashboards at programme scale, as ratios to a floor measured in the same run.

    make bench-dashboard                     # SQLite file under bench/results/
    DATABASE_URL=postgres://... make bench-dashboard

Builds (once; reused while it has the right size) a programme of 250 countries and 100,000 engagements
with ``seed_demo``, computes the rollup, then requests each dashboard page, the GB country page and an
engagement page through Django's full request path (middleware, sessions, templates) in this process as
programme staff, ``--repeat`` times each, cold (the data version dropped before each request, as a write
drops it) and warm (the page cache answering), each in turn with the floor (``GET /healthz``); see
bench/pages.py. Absolute times vary from machine to machine, so the report gives each page's medians, p95s,
query counts and medians divided by the floor's. A table goes to the terminal, JSON to bench/results/.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--countries", type=int, default=250)
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (default 20)")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.pages import measure_pages, print_pages
    from engagements.models import Engagement
    from partnerships.models import Partnership
    from partnerships.rollup import rollup_countries

    engine = connection.vendor
    print(f"Database: {engine}. Migrating…", flush=True)
    call_command("migrate", verbosity=0)
    have = (Partnership.objects.count(), Engagement.objects.count())
    wanted_countries = min(args.countries, 249)
    if have[0] < wanted_countries or have[1] < args.engagements:
        found = f"found {have[0]} and {have[1]:,}"
        print(f"Building {wanted_countries} countries and {args.engagements:,} engagements ({found})…", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", countries=args.countries, engagements=args.engagements, seed=1, reset=True,
                     password="bench-password", allow_production=True, verbosity=0)  # fmt: skip
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    rollup_countries()  # its figures are the rows the pages read (make bench times the rollup after real changes)
    rollup_seconds = time.perf_counter() - started
    counts = {"countries": Partnership.objects.count(), "engagements": Engagement.objects.count()}
    print(f"Programme: {counts['countries']} countries, {counts['engagements']:,} engagements; "
          f"rollup {rollup_seconds:.2f} s (nothing changed since the last)")  # fmt: skip

    staff = get_user_model().objects.get(username="demo-staff")
    report = measure_pages(user=staff, repeat=args.repeat)
    print_pages(report)

    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    report["versions"] = {"django": django.get_version(), "database": engine}
    report["programme"] = {**counts, "rollup_seconds_nothing_changed": rollup_seconds}
    report["settings"] = {"DEBUG": settings.DEBUG, "repeat": args.repeat}
    report["measured_at"] = timezone.now().isoformat()
    out = RESULTS / f"dashboard-{timezone.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
