"""The portal's speed at programme scale, each figure divided by a floor measured in the same run.

    DATABASE_URL=postgres://... REDIS_URL=redis://... make bench        # 250 countries, 100,000 engagements
    ... make bench ARGS=--large                                          # and 1,000,000 engagements

What it does, in order:
1. builds the programme with ``seed_demo`` (10,000 engagements, then 100,000; 1,000,000 with ``--large``) and
   times the full rollup and one country's after a real change in every country (each country's latest
   engagement voided or restored: every row to write), and the full rollup with nothing changed (every write
   skipped: its best case), each the median of 3;
2. at 100,000 engagements and more, times the pages in-process, cold (the data version dropped before each
   request, as a write drops it) and warm (the page cache answering), against ``/healthz`` in the same process,
   with their query counts and the cold targets (bench/pages.py);
3. starts gunicorn with production-like settings (``DEBUG=0``, persistent connections, Redis) on loopback;
4. measures each endpoint with ``wrk`` (Debian's package; installed here if missing and run as root):
   median, p95 and requests per second, each latency divided by ``/healthz``'s (the floor: the same
   server, middleware and settings, one trivial query), and throughput as a share of the floor's. wrk sends
   every request of an endpoint with one token or one session: the pipeline and country page rows measure
   the per-session page cache (warm, cache hits), and say so; their cold cost is step 2's;
5. counts the SQL queries of each endpoint (in-process, through the full request path), cold / warm; the 304's
   with the ``If-None-Match`` a revalidating client sends;
6. reads the peak resident memory of the web processes;
7. writes a table to the terminal and JSON to bench/results/ (not committed), with the machine's CPU
   count and the versions used, and says for each speed target whether it holds. A target measured while
   requests failed (socket errors, or answers other than the one expected) does not hold.
The engagement POST is measured twice: with Redis up, then with Redis (broker and cache) pointed at a closed port.
With ``--rounds N`` (default 3) the endpoints are measured N times in turn, each right after a measurement of the
floor on the same server; each figure is the median over the rounds, each ratio the median of the ratios to the
floor measured just before it (a shared machine's speed drifts within minutes).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "wrk_report.lua"
PY = sys.executable
BENCH_SECRET_KEY = "bench-only-" + "k" * 50


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to sign in) is an answer to report, not to follow


sys.path.insert(0, str(ROOT))

# (name, path, needs) - needs: "token" (API token header), "session" (signed-in cookie), None
TARGETS = [
    ("floor: /healthz", "/healthz", None),
    ("API status, all countries", "/api/v1/status/", "token"),
    ("API status, 304 revalidation", "/api/v1/status/", "token+etag"),
    ("API status, one country", "/api/v1/countries/gb/status/", "token"),
    ("API country list", "/api/v1/countries/", "token"),
    # The other lists at their default page size (no target of their own: the issue names the country list's).
    ("API engagement list", "/api/v1/engagements/", "token"),
    ("API follow-up list", "/api/v1/follow-ups/", "token"),
    ("API announcement list", "/api/v1/announcements/", "token"),
    ("API agreement list", "/api/v1/agreements/", "token"),
    ("API facility list", "/api/v1/facilities/", "token"),
    ("API counterpart list", "/api/v1/counterparts/", "token"),
    ("API country-track list", "/api/v1/country-tracks/", "token"),
    ("API stage-change list", "/api/v1/stage-changes/", "token"),
    # The committed docs/openapi.json as served (core/api/openapi_document.py), gzip as browsers and httpx ask.
    ("API schema (committed file, gzip)", "/api/v1/schema/", "gzip"),
    # One session sends every request: after the first, the per-session page cache answers (warm, cache hits).
    ("pipeline dashboard, warm (cached)", "/dashboard/", "session"),
    ("country page, warm (cached)", "/countries/gb/", "session"),
    ("engagement POST, Redis up", "/api/v1/engagements/", "token+post"),
    ("engagement POST, Redis down", "/api/v1/engagements/", "token+post+redis-down"),
]
SPEED_TARGETS = [
    ("API status, all countries", "latency", 2.0),
    ("API status, 304 revalidation", "latency", 1.2),
    ("API status, all countries", "throughput", 0.5),
    ("API status, one country", "latency", 1.3),
    ("API country list", "latency", 3.0),
    ("API schema (committed file, gzip)", "latency", 2.0),
    ("pipeline dashboard, warm (cached)", "latency", 4.0),
    ("engagement POST, Redis up", "latency", 5.0),
    ("engagement POST, Redis down", "latency", 5.0),
]
# The cold pages (built after a write) are measured in-process, with their own targets: bench/pages.py.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (Debian package)…", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        return shutil.which("wrk")
    sys.exit("make bench needs wrk: `sudo apt-get install wrk` (Debian/Ubuntu) or your system's package.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="also build and time 1,000,000 engagements")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per endpoint (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2)), help="gunicorn workers")
    parser.add_argument("--skip-build", action="store_true", help="use the programme already in the database")
    parser.add_argument("--rounds", type=int, default=3, help="times each endpoint is measured, in turn (default 3)")
    parser.add_argument("--page-repeat", type=int, default=7, help="cold and warm requests per page in-process (default 7)")
    args = parser.parse_args()

    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        sys.exit("make bench measures the full stack: set DATABASE_URL=postgres://… and REDIS_URL=redis://… (docs/benchmarks.md)")
    wrk = ensure_wrk()
    RESULTS.mkdir(parents=True, exist_ok=True)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["SECRET_KEY"] = BENCH_SECRET_KEY  # the web processes must accept the session made here
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.pages import measure_pages, print_pages
    from countries.models import Country
    from engagements.models import Engagement
    from partnerships.models import Partnership
    from partnerships.rollup import rollup_countries

    call_command("migrate", verbosity=0)
    report = {"rollup": [], "pages": [], "endpoints": [], "queries": {}, "targets": []}

    def timed(fn, repeat=3, before=None) -> float:
        """The median of ``repeat`` runs, each after ``before`` (untimed)."""
        runs = []
        for _ in range(repeat):
            if before:
                before()
            started = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    def change_every_country():
        """A real change in every country, as a busy day brings: each country's latest engagement is voided, or
        restored if it was (a plain UPDATE, outside the services: the bench times the rollup, not the writes).
        Every country's counts and last engagement move, so the rollup has every row to write."""
        latest = Engagement.objects.order_by("country_id", "-occurred_on", "-id").distinct("country_id")
        pks = list(latest.values_list("pk", flat=True))
        now = timezone.now()
        voided = set(Engagement.objects.filter(pk__in=pks, voided_at__isnull=False).values_list("pk", flat=True))
        Engagement.objects.filter(pk__in=voided).update(voided_at=None)
        Engagement.objects.filter(pk__in=set(pks) - voided).update(voided_at=now)

    sizes = [] if args.skip_build else [10_000, 100_000] + ([1_000_000] if args.large else [])
    for size in sizes:
        print(f"Building 250 countries and {size:,} engagements…", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", countries=250, engagements=size, seed=1, reset=True, password="bench-password", verbosity=0)
        built = time.perf_counter() - started
        one = Country.objects.get(iso2="GB").pk
        full = timed(rollup_countries, before=change_every_country)
        unchanged = timed(rollup_countries)
        single = timed(lambda one=one: rollup_countries([one]), before=change_every_country)
        row = {"engagements": Engagement.objects.count(), "countries": Partnership.objects.count(),
               "build_s": round(built, 1), "full_rollup_after_changes_s": round(full, 3),
               "full_rollup_nothing_changed_s": round(unchanged, 3), "one_country_rollup_after_changes_s": round(single, 4),
               "target_full_rollup_s": 2.0 if size >= 1_000_000 else 1.0}  # fmt: skip
        row["holds"] = size < 100_000 or full < row["target_full_rollup_s"]
        report["rollup"].append(row)
        print(f"  built in {built:.0f} s; full rollup after a change in every country {full:.3f} s (nothing changed: "
              f"{unchanged:.3f} s); one country {single * 1000:.1f} ms (medians of 3)", flush=True)  # fmt: skip
        if size >= 100_000:
            change_every_country()
            rollup_countries()
            staff_user = get_user_model().objects.get(username="demo-staff")
            pages = measure_pages(user=staff_user, repeat=args.page_repeat, large=size >= 1_000_000)
            pages["engagements"] = Engagement.objects.count()
            report["pages"].append(pages)
            print_pages(pages)
    if not Partnership.objects.exists():
        sys.exit("No programme in the database: run without --skip-build.")
    if sizes and sizes[-1] != 100_000:  # the endpoints are measured at 100,000 engagements, the size the targets are set for
        call_command("seed_demo", countries=250, engagements=100_000, seed=1, reset=True, password="bench-password", verbosity=0)
    rollup_countries()

    from django.contrib.sessions.backends.db import SessionStore

    from core.services import api_token_create

    staff = get_user_model().objects.get(username="demo-staff")
    _token, secret = api_token_create(actor=staff, user=staff, name=f"bench-{int(time.time())}", days=1)
    session = SessionStore()
    session["_auth_user_id"], session["_auth_user_backend"] = str(staff.pk), "core.security.LocalPasswordBackend"
    session["_auth_user_hash"] = staff.get_session_auth_hash()
    session.create()
    from django.middleware.csrf import _get_new_csrf_string

    csrf_cookie = _get_new_csrf_string()
    gb = Country.objects.get(iso2="GB")
    post_body = json.dumps(
        {"country": "GB", "occurred_on": time.strftime("%Y-%m-%d"), "kind": "call", "summary": "Benchmark call"}
    )

    # Queries per endpoint, in-process through the full request path.
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core import versions
    from countries import status_cache

    client = Client()
    client.force_login(staff)
    for name, path, needs in TARGETS:
        if "post" in (needs or ""):
            continue
        headers = {"Authorization": f"Token {secret}"} if "token" in (needs or "") else {}
        if "gzip" in (needs or ""):
            headers["Accept-Encoding"] = "gzip"
        if "etag" in (needs or ""):  # a revalidation sends the tag it holds: the answer is a 304
            headers["If-None-Match"] = client.get(path, headers=headers)["ETag"]
        counts = []
        # Nothing cached (this process's own cache; the web processes share Redis), but a revalidation keeps the
        # data and status versions its tag was made under: an emptied cache starts a new version, and the tag would be stale.
        kept = cache.get_many([versions.KEY, status_cache.KEY]) if "etag" in (needs or "") else {}
        cache.clear()
        cache.set_many(kept, None)
        for _ in range(2):  # cold (nothing cached yet), then warm (what a burst of pulls costs)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, headers=headers)
            counts.append(len(ctx.captured_queries))
        expected = 304 if "etag" in (needs or "") else 200
        assert response.status_code == expected, (name, response.status_code)
        report["queries"][name] = f"{counts[0]}/{counts[1]}"

    port = free_port()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": BENCH_SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING",
           # Shared by the web processes, as in production (docs/operations.md): tokens, throttles, status versions and bodies.
           "CACHE_URL": os.environ.get("CACHE_URL") or redis_url, "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0",
           "CSRF_COOKIE_SECURE": "0", "SECURE_HSTS_SECONDS": "0",
           # The load generator is one client: the per-token rate limit would turn most of its requests into 429s.
           "API_THROTTLE_TOKEN": "100000000/min", "API_THROTTLE_ANON": "100000000/min"}  # fmt: skip
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    def start_web(extra_env=None):
        process = subprocess.Popen(
            [str(Path(PY).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
             "--worker-class", "sync", "--log-level", "warning"],  # fmt: skip
            cwd=ROOT, env={**env, **(extra_env or {})}, start_new_session=True,
        )  # fmt: skip
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return process
            except OSError:
                time.sleep(0.2)
        process.kill()
        sys.exit("gunicorn did not answer on /healthz")

    def stop_web(process) -> int:
        """Stop gunicorn; return the peak resident memory (KiB) of its processes."""
        peak = 0
        for pid in [process.pid, *children(process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        return peak

    def children(pid) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def etag() -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/status/", headers={"Authorization": f"Token {secret}"})
        with urllib.request.urlopen(request) as response:
            return response.headers["ETag"]

    def load(path, needs) -> dict:
        command = [wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(LUA), "--latency"]
        run_env = dict(os.environ)
        if "token" in (needs or ""):
            command += ["-H", f"Authorization: Token {secret}"]
        if "etag" in (needs or ""):
            command += ["-H", f"If-None-Match: {etag()}"]
        if "gzip" in (needs or ""):
            command += ["-H", "Accept-Encoding: gzip"]
        if "session" in (needs or ""):
            # A browser that has been here before also holds its CSRF cookie (set by the first page with a form).
            command += ["-H", f"Cookie: sessionid={session.session_key}; csrftoken={csrf_cookie}"]
        if "post" in (needs or ""):
            run_env.update({"BENCH_METHOD": "POST", "BENCH_BODY": post_body, "BENCH_CONTENT_TYPE": "application/json"})
        command.append(f"http://127.0.0.1:{port}{path}")
        # One request first, to be sure the load measures the page itself (not a redirect to sign in, nor an error).
        check_headers = {}
        for flag, value in zip(command, command[1:], strict=False):
            if flag == "-H":
                key, _sep, val = value.partition(": ")
                check_headers[key] = val
        request = urllib.request.Request(
            command[-1], headers=check_headers, method="POST" if "post" in (needs or "") else "GET",
            data=post_body.encode() if "post" in (needs or "") else None,
        )  # fmt: skip
        if "post" in (needs or ""):
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.build_opener(_NoRedirect).open(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        expected = {"etag": 304, "post": 201}
        wanted = next((code for key, code in expected.items() if key in (needs or "")), 200)
        if status != wanted:
            sys.exit(f"{path} answered {status}, not {wanted}: the measurement would not be of the page itself")
        output = subprocess.run(command, env=run_env, capture_output=True, text=True, check=True).stdout
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        return json.loads(line[len("BENCH ") :])

    print(f"Measuring with wrk: {args.connections} connections, {args.duration} s per endpoint, {args.workers} web workers, "
          f"{args.rounds} rounds…", flush=True)  # fmt: skip
    peaks = []
    rounds = {name: [] for name, _path, _needs in TARGETS}
    floor_name, floor_path, floor_needs = TARGETS[0]
    for number in range(1, args.rounds + 1):
        web = start_web()
        for name, path, needs in TARGETS[1:]:
            if "redis-down" in (needs or ""):
                peaks.append(stop_web(web))
                # A closed port: Redis is down, as the broker and as the cache (core/cache.py works without it).
                web = start_web({"REDIS_URL": "redis://127.0.0.1:9/0", "CACHE_URL": "redis://127.0.0.1:9/0"})
            # The floor right before each endpoint, on the same server: a shared machine's speed drifts by the minute.
            floor = load(floor_path, floor_needs)
            result = load(path, needs)
            result.update(round=number, floor_p50_ms=floor["p50_ms"], latency_x_floor=result["p50_ms"] / floor["p50_ms"],
                          throughput_share_of_floor=result["rps"] / floor["rps"])  # fmt: skip
            floor.update(round=number, latency_x_floor=1.0, throughput_share_of_floor=1.0)
            rounds[floor_name].append(floor)
            rounds[name].append(result)
        peaks.append(stop_web(web))
        ratios = " ".join(f"{runs[-1]['latency_x_floor']:.2f}" for runs in list(rounds.values())[1:])
        floors = [run["p50_ms"] for run in rounds[floor_name][-(len(TARGETS) - 1) :]]
        print(f"  round {number}: floor {min(floors):.2f}-{max(floors):.2f} ms; x floor, in the order of the table: {ratios}",
              flush=True)  # fmt: skip
    report["peak_web_memory_mib"] = round(max(peaks) / 1024, 1)
    for name, path, _needs in TARGETS:
        runs = rounds[name]
        result = {key: statistics.median(run[key] for run in runs)
                  for key in ("p50_ms", "p95_ms", "p99_ms", "rps", "latency_x_floor", "throughput_share_of_floor")}  # fmt: skip
        result.update(name=name, path=path, queries=report["queries"].get(name), rounds=runs,
                      requests=sum(run["requests"] for run in runs), errors=sum(run["errors"] for run in runs),
                      http_errors=sum(run["http_errors"] for run in runs))  # fmt: skip
        report["endpoints"].append(result)

    by_name = {r["name"]: r for r in report["endpoints"]}
    for name, kind, limit in SPEED_TARGETS:
        value = by_name[name]["latency_x_floor"] if kind == "latency" else by_name[name]["throughput_share_of_floor"]
        errors = by_name[name]["errors"] + by_name[name]["http_errors"]
        # A figure taken while requests failed (socket errors, answers other than the expected one) holds nothing.
        holds = errors == 0 and (value <= limit if kind == "latency" else value >= limit)
        report["targets"].append({"endpoint": name, "measure": kind, "limit": limit, "value": round(value, 2),
                                  "errors": errors, "holds": holds})  # fmt: skip
    if len(report["rollup"]) >= 2:
        small, big = report["rollup"][0], report["rollup"][1]
        report["rollup_growth_10k_to_100k"] = round(big["full_rollup_after_changes_s"] / small["full_rollup_after_changes_s"], 2)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import redis

    report["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    report["versions"] = {
        "django": django.get_version(), "postgresql": postgres,
        "redis": redis.Redis.from_url(redis_url).info().get("redis_version"),
        "wrk": subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[0:1],
    }  # fmt: skip
    report["settings"] = {"connections": args.connections, "duration_s": args.duration, "web_workers": args.workers,
                          "rounds": args.rounds}  # fmt: skip
    report["programme"] = {"countries": Partnership.objects.count(), "engagements": Engagement.objects.count(), "gb": gb.pk}

    print()
    header = (
        f"{'endpoint':32} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>9} {'x floor':>8} {'rps share':>9} {'queries':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in report["endpoints"]:
        print(f"{r['name']:32} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['rps']:9.0f} {r['latency_x_floor']:8.2f} "
              f"{r['throughput_share_of_floor']:9.2f} {str(r['queries'] or '-'):>8} "
              f"{r['errors'] + r['http_errors']:6d}")  # fmt: skip
    print()
    for row in report["rollup"]:
        print(f"rollup at {row['engagements']:>9,} engagements, after a change in every country: all countries "
              f"{row['full_rollup_after_changes_s']:.3f} s (target < {row['target_full_rollup_s']} s: "
              f"{'holds' if row['holds'] else 'MISSES'}), one country {row['one_country_rollup_after_changes_s'] * 1000:.1f} ms; "
              f"nothing changed: {row['full_rollup_nothing_changed_s']:.3f} s")  # fmt: skip
    if "rollup_growth_10k_to_100k" in report:
        print(f"full rollup growth from 10,000 to 100,000 engagements: x{report['rollup_growth_10k_to_100k']}")
    print(f"peak memory of a web process: {report['peak_web_memory_mib']} MiB")
    print()
    for t in report["targets"]:
        sign = "<=" if t["measure"] == "latency" else ">="
        failed = f", {t['errors']} failed requests" if t["errors"] else ""
        print(f"{'holds' if t['holds'] else 'MISSES':6}  {t['endpoint']} {t['measure']}: {t['value']} "
              f"(target {sign} {t['limit']}{failed})")  # fmt: skip
    for pages in report["pages"]:
        for row in pages["pages"]:
            if row["holds"] is not None:
                print(f"{'holds' if row['holds'] else 'MISSES':6}  {row['name']}, cold, at {pages['engagements']:,} engagements: "
                      f"{row['cold_x_floor']:.1f} (target <= {row['target_cold_x_floor']})")  # fmt: skip
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
