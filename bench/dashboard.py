"""Render time of the programme dashboards at programme scale, as ratios to a floor measured in the same run.

    make bench-dashboard                     # SQLite file under bench/results/
    DATABASE_URL=postgres://... make bench-dashboard

Builds (once; reused while it has the right size) a programme of 250 countries and 100,000 engagements
with ``seed_demo``, computes the rollup, then requests each dashboard page through Django's full
request path (middleware, sessions, templates) in this process, ``--repeat`` times each. The floor is
the sign-in page requested the same way (signed out): the cost of the framework, sessions and a template
with no dashboard work. Absolute
times vary from machine to machine, so the report gives each page's median, p95, its SQL query count
and its median divided by the floor's. A table goes to the terminal, JSON to bench/results/.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

PAGES = [
    ("pipeline", "/dashboard/"),
    ("pipeline, Europe, by readiness", "/dashboard/?region=150&order=-readiness"),
    ("pipeline as of 90 days ago", "/dashboard/?as_of={as_of}"),
    ("funnels", "/dashboard/funnels/"),
    ("funnels as of 90 days ago", "/dashboard/funnels/?as_of={as_of}"),
    ("needs attention", "/dashboard/attention/"),
    ("infrastructure", "/dashboard/infrastructure/"),
    ("world map", "/dashboard/map/"),
    ("history (26 weeks)", "/dashboard/history/"),
    ("pipeline CSV", "/dashboard/?export=csv"),
    ("pipeline XLSX", "/dashboard/?export=xlsx"),
]
FLOOR = ("floor: sign-in page", "/accounts/login/")


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
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

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
    rollup_countries()
    rollup_seconds = time.perf_counter() - started
    counts = {"countries": Partnership.objects.count(), "engagements": Engagement.objects.count()}
    print(f"Programme: {counts['countries']} countries, {counts['engagements']:,} engagements; rollup {rollup_seconds:.2f} s")

    staff = get_user_model().objects.get(username="demo-staff")
    client = Client()
    client.force_login(staff)
    as_of = (timezone.localdate() - timezone.timedelta(days=90)).isoformat()

    def measure(url: str, client=client) -> dict:
        url = url.format(as_of=as_of)
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return {
            "url": url,
            "median_ms": statistics.median(timings),
            "p95_ms": timings[max(0, round(0.95 * len(timings)) - 1)],
            "queries": queries,
            "bytes": len(response.content),
        }

    floor = measure(FLOOR[1], client=Client())  # signed out: a signed-in user is sent on from the sign-in page
    report = {"floor": {"name": FLOOR[0], **floor}, "pages": []}
    header = f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'x floor':>8} {'queries':>8} {'KiB':>6}"
    print(header)
    print("-" * len(header))
    print(f"{FLOOR[0]:34} {floor['median_ms']:10.1f} {floor['p95_ms']:8.1f} {1:8.1f} {floor['queries']:8d} "
          f"{floor['bytes'] / 1024:6.0f}")  # fmt: skip
    for name, url in PAGES:
        result = measure(url)
        result["ratio_to_floor"] = result["median_ms"] / floor["median_ms"]
        report["pages"].append({"name": name, **result})
        print(f"{name:34} {result['median_ms']:10.1f} {result['p95_ms']:8.1f} {result['ratio_to_floor']:8.1f} "
              f"{result['queries']:8d} {result['bytes'] / 1024:6.0f}")  # fmt: skip

    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    report["versions"] = {"django": django.get_version(), "database": engine}
    report["programme"] = {**counts, "rollup_seconds": rollup_seconds}
    report["settings"] = {"DEBUG": settings.DEBUG, "repeat": args.repeat}
    report["measured_at"] = timezone.now().isoformat()
    out = RESULTS / f"dashboard-{timezone.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
