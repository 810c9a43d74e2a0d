"""The cost of the largest write bodies the API takes, and of refusing larger ones, as ratios to a floor measured in
the same run.

    DATABASE_URL=postgres://... make bench-writes       # a scratch database: the bench writes into it

Each body goes through Django's full request path in this process (middleware, token authentication, the
serializer, the service, the transaction), with the API client's token already authenticated once (the token cache
warm, as for a client that sends one request after another). The floor is ``GET /healthz`` requested the same way:
the framework's cost and one trivial query. Floor and body are timed in turn, ``--repeat`` times each, and each
ratio is the median body time over the median floor time of the same round.

What is measured (the caps are in ``countries/api/fields.py`` and ``engagements/api/serializers.py``):
- the worst write a liaison may send: an engagement naming the most counterparts allowed (200), every active track
  and the most follow-ups allowed (50), each with an owner and a track; the worst a member of staff may send: an
  announcement naming every country there is (249);
- refusals: one list item over the cap (301 countries, 201 counterparts), and a viewer's announcement naming
  10,000 countries (refused before its body is read).
Targets (issue "Hardening, second round"): the worst allowed body under 5 floors on PostgreSQL, an over-long list
refused under 2 floors. A table goes to the terminal, JSON to bench/results/.
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

WORST_ALLOWED = 5.0
REFUSAL = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="requests per body and per floor (default 15)")
    parser.add_argument(
        "--profile", metavar="TEXT", help="also print a cProfile of one request of each body whose name holds TEXT"
    )
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'bench-writes.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_THROTTLE_TOKEN", "1000000/min")  # the bench measures the work, not the rate limit
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from core.services import api_token_create
    from countries import services as country_services
    from countries.api.fields import MAX_COUNTRIES
    from countries.models import Counterpart, Country
    from engagements.api.serializers import MAX_COUNTERPARTS, MAX_FOLLOW_UPS
    from partnerships.models import Partnership
    from tracks.models import Track

    engine = connection.vendor
    print(f"Database: {engine}. Migrating…", flush=True)
    call_command("migrate", verbosity=0)
    if not Partnership.objects.exists():
        call_command("seed_demo", countries=30, engagements=1000, seed=1, password="bench-password",
                     allow_production=True, verbosity=0)  # fmt: skip
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    staff, liaison, viewer = (users.get(username=f"demo-{role}") for role in ("staff", "liaison", "viewer"))
    country = liaison.liaison_assignments.select_related("country").first().country
    listed = Counterpart.objects.filter(country=country, merged_into__isnull=True, erased_at__isnull=True)
    people = list(listed[:MAX_COUNTERPARTS])
    for number in range(len(people), MAX_COUNTERPARTS):
        people.append(country_services.counterpart_create(actor=liaison, country=country, name=f"Bench delegate {number}"))
    ids = [person.pk for person in people]
    codes = list(Country.objects.values_list("iso2", flat=True))
    tracks = list(Track.objects.filter(is_active=True).values_list("key", flat=True))
    today = timezone.localdate().isoformat()

    def client_of(user) -> APIClient:
        _token, secret = api_token_create(actor=user, user=user, name=f"bench {time.time_ns()}", days=1)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        client.get("/api/v1/users/me/", secure=True)  # the token is authenticated once: the cache is warm from here on
        return client

    clients = {"staff": client_of(staff), "liaison": client_of(liaison), "viewer": client_of(viewer)}
    follow_ups = [
        {"description": f"Step {n}", "due_on": today, "owner": liaison.username, "track": tracks[n % len(tracks)]}
        for n in range(MAX_FOLLOW_UPS)
    ]
    engagement = {"country": country.iso2, "occurred_on": today, "kind": "visit", "summary": "Delegation visit"}
    cases = [
        ("liaison: engagement, 200 people, 50 follow-ups", "liaison", "/api/v1/engagements/",
         {**engagement, "counterparts": ids, "tracks": tracks, "follow_ups": follow_ups}, 201, WORST_ALLOWED),
        ("staff: announcement, all 249 countries", "staff", "/api/v1/announcements/",
         {"title": "Everywhere", "countries": codes, "tracks": tracks}, 201, WORST_ALLOWED),
        ("refused: 301 countries (over the cap)", "staff", "/api/v1/announcements/",
         {"title": "Too many", "countries": (codes * 2)[: MAX_COUNTRIES + 1]}, 400, REFUSAL),
        ("refused: 201 people (over the cap)", "liaison", "/api/v1/engagements/",
         {**engagement, "counterparts": [*ids, ids[0]]}, 400, REFUSAL),
        ("refused: viewer, 10,000 countries", "viewer", "/api/v1/announcements/",
         {"title": "Everywhere", "countries": codes * 41}, 403, REFUSAL),
    ]  # fmt: skip

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    def floor_once():
        response = clients["viewer"].get("/healthz", secure=True)
        assert response.status_code == 200, response.status_code

    report = {"cases": []}
    header = f"{'body':48} {'status':>6} {'median ms':>10} {'floor ms':>9} {'x floor':>8} {'target':>7} {'holds':>6}"
    print(header)
    print("-" * len(header))
    failed = False
    for name, who, path, body, status, target in cases:
        # Encoded once, before the clock: a client's own JSON encoding (0.7 ms for the 10,000 codes) is not the
        # server's answer.
        encoded = json.dumps(body).encode()

        def send(client=clients[who], path=path, encoded=encoded, status=status, name=name):
            response = client.post(path, encoded, content_type="application/json", secure=True)
            assert response.status_code == status, (name, response.status_code, response.content[:300])

        send()  # the first of each kind: its code paths warm, as in a running server
        floors, times = [], []
        for _ in range(args.repeat):
            floors.append(timed(floor_once))
            times.append(timed(send))
        if args.profile and args.profile in name:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(send)
            order, lines = os.environ.get("BENCH_PROFILE_SORT", "cumulative"), int(os.environ.get("BENCH_PROFILE_LINES", "45"))
            pstats.Stats(profiler).sort_stats(order).print_stats(lines)
        floor_ms, median_ms = statistics.median(floors), statistics.median(times)
        ratio = median_ms / floor_ms
        holds = ratio < target if engine == "postgresql" else None
        failed = failed or holds is False
        report["cases"].append({"name": name, "status": status, "median_ms": median_ms, "floor_ms": floor_ms,
                                "x_floor": ratio, "target_x_floor": target, "holds": holds})  # fmt: skip
        verdict = {True: "yes", False: "NO", None: "n/a"}[holds]
        print(f"{name:48} {status:6d} {median_ms:10.2f} {floor_ms:9.2f} {ratio:8.2f} {'<' + str(target):>7} {verdict:>6}")

    if engine != "postgresql":
        print("\nThe targets are for PostgreSQL; on SQLite the figures are shown, not judged.")
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    report["versions"] = {"django": django.get_version(), "database": engine}
    report["settings"] = {"DEBUG": settings.DEBUG, "repeat": args.repeat, "token_cache": "warm"}
    report["measured_at"] = timezone.now().isoformat()
    out = RESULTS / f"write-bodies-{timezone.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
