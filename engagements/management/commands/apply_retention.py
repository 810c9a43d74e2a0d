from django.core.management.base import BaseCommand

from engagements.tasks import apply_retention


class Command(BaseCommand):
    help = "Empty what passed its retention period (RETENTION_VOIDED_DAYS, RETENTION_ERASED_DAYS); safe to run twice."

    def handle(self, *args, **options):
        done = apply_retention()
        self.stdout.write(
            f"{done['voided_engagements']} voided engagement(s) and {done['erased_counterparts']} erased record(s) emptied."
        )
