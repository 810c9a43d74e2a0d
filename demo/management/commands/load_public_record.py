from django.core.management.base import BaseCommand

from demo.public_record import DATASET, load_public_record


class Command(BaseCommand):
    help = (
        "Load the curated public record of national AI partnerships (demo/public_record/partnerships.json) beside or "
        "instead of the demo data. Idempotent: a second run creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DATASET), help="the dataset to load (default: the committed one)")

    def handle(self, *args, **options):
        from pathlib import Path

        counts = load_public_record(path=Path(options["file"]))
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()) + " created.")
