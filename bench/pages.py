"""Pages timed in this process through Django's full request path, cold and warm, as ratios to a floor.

Used by ``make bench`` (bench/run.py) and ``make bench-dashboard`` (bench/dashboard.py), after ``django.setup()``.

- **cold**: the portal's data version is dropped before each request, as every write does (``core.versions``): the
  page is built from the database, as the first reader after an engagement meets it. Nothing else is cleared: the
  session, the token and the per-process caches stay as they are in a running server.
- **warm**: the same request again with nothing changed in between: what the per-session page cache answers.
- **floor**: ``GET /healthz`` through the same path (middleware, one trivial query), timed in turn with each page
  (a shared machine's speed drifts by the minute): each ratio is a page's median over the floor's median of the
  same turn.
Query counts are of one cold and one warm request.
"""

import statistics
import time

FLOOR_PATH = "/healthz"

# (name, path, target for the cold page in floors at 100,000 engagements, at 1,000,000); None: no target.
PAGES = [
    ("pipeline", "/dashboard/", 10, 15),
    ("pipeline as of 90 days ago", "/dashboard/?as_of={as_of}", 20, 30),
    ("pipeline, Europe, by readiness", "/dashboard/?region=150&order=-readiness", None, None),
    ("country page (GB)", "/countries/gb/", 10, 15),
    ("engagement page", "/engagements/{engagement}/", 5, 5),
    ("funnels", "/dashboard/funnels/", None, None),
    ("funnels as of 90 days ago", "/dashboard/funnels/?as_of={as_of}", None, None),
    ("needs attention", "/dashboard/attention/", None, None),
    ("infrastructure", "/dashboard/infrastructure/", None, None),
    ("world map", "/dashboard/map/", None, None),
    ("history (26 weeks)", "/dashboard/history/", None, None),
    ("pipeline CSV", "/dashboard/?export=csv", None, None),
    ("pipeline XLSX", "/dashboard/?export=xlsx", None, None),
]


def _median(values):
    return statistics.median(values)


def _p95(values):
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def measure_pages(*, user, repeat: int, large: bool = False, pages=PAGES) -> dict:
    """Time every page cold and warm for ``user`` (a member of staff sees every page); returns the report."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from core import versions
    from engagements.models import Engagement

    client, floor_client = Client(), Client()
    client.force_login(user)
    engagement = Engagement.objects.filter(country__iso2="GB", voided_at__isnull=True).order_by("-occurred_on", "-id").first()
    fill = {"as_of": (timezone.localdate() - timezone.timedelta(days=90)).isoformat(), "engagement": engagement.pk}

    def get(c, url):
        started = time.perf_counter()
        response = c.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # a streamed download costs what it takes to read it all
        return elapsed, response

    def counted(url, cold):
        if cold:
            versions.drop()
        with CaptureQueriesContext(connection) as ctx:
            get(client, url)
        return len(ctx.captured_queries)

    rows = []
    for name, pattern, target, target_large in pages:
        url = pattern.format(**fill)
        get(client, url)  # the first request of each page: its code paths warm, as in a running server
        queries = {"cold": counted(url, True), "warm": counted(url, False)}
        floors, cold, warm = [], [], []
        size = 0
        for _ in range(repeat):
            floors.append(get(floor_client, FLOOR_PATH)[0])
            versions.drop()  # what a write does: the next reader builds the page
            cold.append(get(client, url)[0])
            elapsed, response = get(client, url)  # nothing changed since: the page cache answers
            warm.append(elapsed)
            size = len(response.content) if not getattr(response, "streaming", False) else size
        floor = _median(floors)
        limit = target_large if large else target
        cold_ratio = _median(cold) / floor
        rows.append({
            "name": name, "url": url, "floor_ms": floor,
            "cold_median_ms": _median(cold), "cold_p95_ms": _p95(cold), "cold_x_floor": cold_ratio,
            "warm_median_ms": _median(warm), "warm_p95_ms": _p95(warm), "warm_x_floor": _median(warm) / floor,
            "queries_cold": queries["cold"], "queries_warm": queries["warm"], "bytes": size,
            "target_cold_x_floor": limit, "holds": None if limit is None else cold_ratio <= limit,
        })  # fmt: skip
    return {"floor": FLOOR_PATH, "repeat": repeat, "pages": rows}


def print_pages(report: dict) -> None:
    header = f"{'page':32} {'cold ms':>8} {'x floor':>8} {'warm ms':>8} {'x floor':>8} {'queries':>9} {'target':>7} {'holds':>6}"
    print(f"Pages in-process, cold (data version dropped before each) and warm (page cache), floor {report['floor']}:")
    print(header)
    print("-" * len(header))
    for r in report["pages"]:
        target = "-" if r["target_cold_x_floor"] is None else f"<={r['target_cold_x_floor']}"
        verdict = {True: "yes", False: "NO", None: "-"}[r["holds"]]
        print(f"{r['name']:32} {r['cold_median_ms']:8.1f} {r['cold_x_floor']:8.1f} {r['warm_median_ms']:8.1f} "
              f"{r['warm_x_floor']:8.1f} {r['queries_cold']:>4}/{r['queries_warm']:<4} {target:>7} {verdict:>6}")  # fmt: skip
