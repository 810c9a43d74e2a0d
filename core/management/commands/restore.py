from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Replace the database (and write the uploaded files) with a backup made by `manage.py backup`, then check "
        "every table against the backup's manifest. Stop the web processes, workers and beat first. "
        "See docs/operations.md#backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The backup file (.tar).")
        parser.add_argument("--yes", action="store_true", help="Replace a database that holds data.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to restore into (default: 'default').")

    def handle(self, *args, path, yes, database, **options):
        try:
            report = backup_restore(
                path=path,
                connection=connections[database],
                media_root=settings.MEDIA_ROOT or None,
                replace_data=yes,
                progress=self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        # Cached pages, tokens and data versions describe the database as it was before the restore.
        cache.clear()
        manifest = report["manifest"]
        tables = manifest["tables"]
        self.stdout.write(
            f"Restored the backup taken {manifest['created_at']}: {len(tables)} tables, "
            f"{sum(t['rows'] for t in tables.values()):,} rows, each matching the manifest; "
            f"{report['media_written']} uploaded files written; the cache was cleared."
        )
        if report["media_not_in_backup"]:
            self.stdout.write(f"{report['media_not_in_backup']} files under MEDIA_ROOT are not in the backup; left in place.")
        if pending := report["migrations_to_apply"]:
            self.stdout.write(f"The code has {len(pending)} migrations the backup has not: run manage.py migrate.")
