"""``manage.py import_data KIND FILE [--dry-run] [--as USER]``: the portal's import from the command line."""

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from imports import engine, reading
from imports.kinds import KINDS
from imports.models import ImportRowResult
from imports.services import import_job_create


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of one kind through the portal's services (columns guessed from the header)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Say what each row would do; write nothing.")
        parser.add_argument("--as", dest="username", help="The user the rows are written as (default: the first superuser).")

    def handle(self, *args, kind, file, dry_run, username, **options):
        users = get_user_model().objects.filter(is_active=True)
        actor = users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError(f"No active user {username!r}." if username else "No superuser: name a user with --as.")
        try:
            with open(file, "rb") as handle:
                job = import_job_create(
                    actor=actor, kind=kind, handle=handle, filename=os.path.basename(file), size=os.path.getsize(file)
                )
            missing = [f.name for f in KINDS[kind].fields if f.required and f.name not in job.mapping]
            if missing:
                raise CommandError(f"No column found for: {', '.join(missing)} (header: {job.header}).")
            counts = engine.run(job, actor, dry_run=True)
            if not dry_run:
                counts = engine.run(job, actor, dry_run=False)
        except (reading.FileRefused, PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        errors = ImportRowResult.objects.filter(job=job, applied=not dry_run, action=ImportRowResult.Action.ERROR)
        for result in errors.order_by("line")[:50]:
            self.stderr.write(f"line {result.line}: {result.column + ': ' if result.column else ''}{result.message}")
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{counts['create']} {verb} created, {counts['update']} updated, {counts['unchanged']} unchanged, "
            f"{counts['error']} refused (import {job.pk})."
        )
