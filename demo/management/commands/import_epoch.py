from django.core.management.base import BaseCommand, CommandError

from demo.public_record import public_record_actor
from infrastructure.epoch import import_data_centres, import_gpu_clusters


class Command(BaseCommand):
    help = (
        "Import Epoch AI's data (CC BY): --clusters gpu_clusters.csv and/or --data-centres data_centers.csv "
        "[--timelines data_center_timelines.csv]. Facilities already in the portal are reconciled: differences are "
        "reported as conflicts and the portal's values kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clusters")
        parser.add_argument("--data-centres", dest="data_centres")
        parser.add_argument("--timelines")

    def handle(self, *args, **options):
        if not (options["clusters"] or options["data_centres"]):
            raise CommandError("Give --clusters and/or --data-centres.")
        actor = public_record_actor()
        reports = []
        if options["data_centres"]:
            reports.append(import_data_centres(actor=actor, data_centres=options["data_centres"], timelines=options["timelines"]))
        if options["clusters"]:
            reports.append(import_gpu_clusters(actor=actor, path=options["clusters"]))
        for report in reports:
            for line in report.lines():
                self.stdout.write(line)
