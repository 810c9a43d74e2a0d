"""``manage.py seed_demo``: fill the database with an illustrative, deterministic partnership programme.

The generator lives in ``demo/builder.py``. It is a data generator, not an application write
path: it bulk-inserts rows instead of calling the per-row services (see that module's docstring).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from countries.models import Country
from countries.status_cache import status_changed
from demo import builder as demo
from partnerships.models import Partnership


class Command(BaseCommand):
    help = (
        "Create demo users and an illustrative, deterministic programme (countries, tracks, stage history, "
        "engagements, follow-ups, agreements, announcements, facilities). Does nothing to existing data "
        "unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--countries", type=int, default=demo.DEFAULT_COUNTRIES, help="Countries in the pipeline (max 249).")
        parser.add_argument("--engagements", type=int, default=demo.DEFAULT_ENGAGEMENTS, help="Engagements to log in all.")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD, help="Password of every demo user (set on every run).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete all partnership, infrastructure and counterpart data first, then rebuild.",
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing at all if any partnership exists.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (it creates a superuser with a known password: only for benchmarks and demos).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: this looks like a production database, and seed_demo creates demo users with a known "
                "password (demo-admin is a superuser). Add --allow-production if you really mean it."
            )
        if options["reset"] and options["if_empty"]:
            raise CommandError("--reset and --if-empty cannot be used together.")
        if options["countries"] < 1:
            raise CommandError("--countries must be at least 1.")
        if options["engagements"] < 0:
            raise CommandError("--engagements cannot be negative.")
        if not options["password"]:
            raise CommandError("--password cannot be empty.")
        if options["if_empty"] and Partnership.objects.exists():
            self.stdout.write("Partnerships already exist: nothing to do (--if-empty).")
            return

        available = Country.objects.count()
        countries = options["countries"]
        if countries > available:
            self.stdout.write(
                self.style.WARNING(
                    f"--countries {countries} is more than the {available} countries there are; using {available}."
                )
            )
            countries = available

        result = demo.seed_demo(
            seed=options["seed"],
            countries=countries,
            engagements=options["engagements"],
            password=options["password"],
            reset=options["reset"],
            log=self.stdout.write,
        )
        status_changed()  # bulk inserts emit no events: the status version and cached pages must move
        if connection.vendor == "postgresql":
            # Fresh planner statistics after a bulk load (autovacuum would get there later): with the counts of an
            # empty database, PostgreSQL planned an engagement's counterparts with a scan of every counterpart. After
            # a reset, the tables are rewritten without the rows it deleted (VACUUM FULL, which locks each table while
            # it is rewritten: a reset deletes the whole programme anyway): after a reset of 1,000,000 engagements, the
            # 100,000 built next sat in a 484 MB table that every count and scan read through, where a fresh one
            # takes 36 MB. VACUUM cannot run in a transaction (a test's): ANALYZE alone there.
            rewrite = options["reset"] and not connection.in_atomic_block
            if rewrite:
                self.stdout.write("Rewriting the tables without the deleted rows, updating the planner's statistics "
                                  "(VACUUM FULL ANALYZE)…")  # fmt: skip
            else:
                self.stdout.write("Updating the planner's statistics (ANALYZE)…")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM FULL ANALYZE" if rewrite else "ANALYZE")
        if result["created"]:
            self.stdout.write(self.style.SUCCESS(f"Demo data created (seed {options['seed']})."))
        else:
            self.stdout.write(
                "Demo data is already present: only the demo users and their password were updated. "
                "Use --reset to delete it and build it again."
            )
        self.stdout.write("")
        for label, count in demo.demo_summary().items():
            self.stdout.write(f"  {label:<36} {count:>8}")
        self.stdout.write("")
        self.stdout.write("Demo users (all with the same password):")
        for username, *_rest in demo.DEMO_USERS:
            user = result["users"][username]
            role = "administrator" if user.is_superuser else ", ".join(user.groups.values_list("name", flat=True))
            countries_of = list(user.liaison_assignments.order_by("country__iso2").values_list("country__iso2", flat=True))
            where = ""
            if countries_of:
                noun = "country" if len(countries_of) == 1 else "countries"
                shown = ", ".join(countries_of[:8]) + (", ..." if len(countries_of) > 8 else "")
                where = f" ({len(countries_of)} {noun}: {shown})"
            self.stdout.write(f"  {username:<16} {role}{where}")
        self.stdout.write(f"Password: {options['password']}")
