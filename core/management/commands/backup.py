from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from core.backups import BackupError, backup_create, backup_verify, default_backup_path


class Command(BaseCommand):
    help = (
        "Write a backup (one .tar file: the database dump, the files under MEDIA_ROOT and a manifest with every "
        "table's row count and checksum), or check one with --verify. See docs/operations.md#backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="The backup file to write (default: backups/portal-<UTC time>.tar).")
        parser.add_argument("--verify", type=Path, metavar="PATH", help="Check an existing backup instead of writing one.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to back up (default: 'default').")

    def handle(self, *args, output, verify, database, **options):
        try:
            if verify:
                return self._verify(verify)
            output = output or default_backup_path(Path(settings.BASE_DIR) / "backups")
            manifest = backup_create(connection=connections[database], output=output, media_root=settings.MEDIA_ROOT or None)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        tables = manifest["tables"]
        self.stdout.write(
            f"Backup written to {output} ({output.stat().st_size:,} bytes): {manifest['database']['vendor']} database, "
            f"{len(tables)} tables, {sum(t['rows'] for t in tables.values()):,} rows, "
            f"{len(manifest['media']['files'])} uploaded files."
        )

    def _verify(self, path: Path) -> None:
        manifest, problems = backup_verify(path)
        self.stdout.write(
            f"{path}: taken {manifest['created_at']} from {manifest['database']['vendor']} "
            f"{manifest['database']['server_version']}, Django {manifest['django']}, "
            f"{len(manifest['migrations'])} migrations applied, {len(manifest['media']['files'])} uploaded files."
        )
        width = max((len(table) for table in manifest["tables"]), default=0)
        for table, figures in manifest["tables"].items():
            self.stdout.write(f"  {table:<{width}}  {figures['rows']:>9}  {figures['checksum']}")
        if problems:
            raise CommandError("The backup is damaged:\n  " + "\n  ".join(problems))
        self.stdout.write("The backup reads back whole.")
