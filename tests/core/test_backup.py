"""Backups: `manage.py backup` then a restore into a fresh database gives back every row of every table and every
file, both those kept in the database (import spreadsheets, failed-rows reports, briefing-pack PDFs) and those under
MEDIA_ROOT; a restore refuses a database that holds data (without --yes), a backup from newer code and one of
another database vendor.

On SQLite the fresh database is a new file; on PostgreSQL a new database beside the test database (the test role
needs CREATEDB, as in .ci/run), dropped afterwards. pg_dump and pg_restore must be on PATH there.
"""

import csv
import io
import json
import os
import secrets
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from core.backups import BackupError, applied_migrations, backup_restore, connection_to, read_manifest, table_fingerprints
from engagements.models import Engagement
from imports import engine
from imports.models import ImportFileChunk, ImportRowResult
from partnerships import packs
from partnerships.models import BriefingPack
from partnerships.services import partnership_create
from tests import factories
from tests.conftest import needs
from tests.imports.helpers import dry_run, xlsx_bytes

pytestmark = pytest.mark.django_db(transaction=True)
ENGAGEMENTS = Engagement._meta.db_table


@pytest.fixture(autouse=True)
def _postgresql_client_tools():
    if connection.vendor == "postgresql":
        needs(bool(shutil.which("pg_dump") and shutil.which("pg_restore")), "backups of PostgreSQL need pg_dump and pg_restore")


@pytest.fixture
def seeded(reference_data):
    """The demo data, small: every app's tables hold rows."""
    call_command("seed_demo", "--countries", "5", "--engagements", "50", "--allow-production", stdout=io.StringIO())


@pytest.fixture
def no_media(settings):
    settings.MEDIA_ROOT = ""


@pytest.fixture
def fresh_database(tmp_path):
    """A Django connection to a new, empty database of the test database's vendor."""
    if connection.vendor == "sqlite":
        target = connection_to(connection.settings_dict | {"NAME": str(tmp_path / "restored.sqlite3")})
        yield target
        target.close()
        return
    name = connection.ops.quote_name(f"{connection.settings_dict['NAME']}_restore")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    target = connection_to(connection.settings_dict | {"NAME": name.strip('"')})
    try:
        yield target
    finally:
        target.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def backup(path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", "--output", str(path), stdout=out)
    assert f"Backup written to {path}" in out.getvalue()
    return path


def sequences(target) -> dict[str, int]:
    """PostgreSQL's sequences and where they stand (the next id of each table); SQLite keeps them in its file."""
    if target.vendor != "postgresql":
        return {}
    with target.cursor() as cursor:
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")
        return dict(cursor.fetchall())


def stored(target, model, fields: list[str], order_by: str, **where) -> list[tuple]:
    """Those fields of the model's rows that match ``where``, read with SQL from that database (the test database or
    a restored one, which Django's ORM does not reach); binary values as bytes, JSON as Python values."""
    meta, quote = model._meta, target.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    condition = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in where)
    with target.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {condition} ORDER BY {quote(meta.get_field(order_by).column)}",
            list(where.values()),
        )
        found = cursor.fetchall()
    is_json = [meta.get_field(name).get_internal_type() == "JSONField" for name in fields]

    def value(raw, json_field: bool):
        if isinstance(raw, memoryview):
            return bytes(raw)
        return json.loads(raw) if json_field and isinstance(raw, str) else raw

    return [tuple(map(value, row, is_json)) for row in found]


def with_manifest(path: Path, out: Path, change) -> Path:
    """A copy of the backup at ``path`` whose manifest ``change`` has edited."""
    with tarfile.open(path) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def test_a_restore_into_a_fresh_database_has_every_row_of_every_table(seeded, no_media, fresh_database, tmp_path):
    before = table_fingerprints(connection)
    path = backup(tmp_path / "portal.tar")
    assert read_manifest(path)["tables"] == before  # the manifest describes the database as it was backed up

    report = backup_restore(path=path, connection=fresh_database, media_root=None, replace_data=False)

    after = table_fingerprints(fresh_database)
    assert after == before
    assert sequences(fresh_database) == sequences(connection)
    assert report["migrations_to_apply"] == []
    assert applied_migrations(fresh_database) == read_manifest(path)["migrations"] == applied_migrations(connection)
    # Not a comparison of empty tables: the seeded ones are there, with their rows.
    assert after[ENGAGEMENTS]["rows"] == Engagement.objects.count() >= 50
    for table in ("auth_user", "countries_country", "partnerships_stagechange", "core_event", "auditlog_logentry"):
        assert after[table]["rows"] > 0, table
    assert len(after) == len(connection.introspection.table_names())


def test_a_changed_value_changes_its_tables_checksum_and_nothing_else(seeded):
    before = table_fingerprints(connection)
    engagement = Engagement.objects.order_by("pk").first()
    Engagement.objects.filter(pk=engagement.pk).update(summary=engagement.summary + ".")

    after = table_fingerprints(connection)

    assert after[ENGAGEMENTS]["rows"] == before[ENGAGEMENTS]["rows"]
    assert after[ENGAGEMENTS]["checksum"] != before[ENGAGEMENTS]["checksum"]
    assert {t: f for t, f in after.items() if t != ENGAGEMENTS} == {t: f for t, f in before.items() if t != ENGAGEMENTS}


def test_restore_refuses_a_database_that_holds_data_unless_told_yes(seeded, no_media, fresh_database, tmp_path):
    path = backup(tmp_path / "portal.tar")
    Engagement.objects.filter(pk=Engagement.objects.order_by("pk").first().pk).delete()
    changed = table_fingerprints(connection)

    with pytest.raises(CommandError, match="is not empty .* Run again with --yes"):
        call_command("restore", str(path), stdout=io.StringIO())
    assert table_fingerprints(connection) == changed

    backup_restore(path=path, connection=fresh_database, media_root=None, replace_data=False)
    with pytest.raises(BackupError, match="is not empty"):
        backup_restore(path=path, connection=fresh_database, media_root=None, replace_data=False)

    out = io.StringIO()
    call_command("restore", str(path), "--yes", stdout=out)  # the deleted engagement is back
    assert table_fingerprints(connection) == read_manifest(path)["tables"] != changed
    assert "each matching the manifest" in out.getvalue()


def test_restore_refuses_a_backup_from_newer_code_or_another_vendor(seeded, no_media, tmp_path):
    path = backup(tmp_path / "portal.tar")
    newer = with_manifest(path, tmp_path / "newer.tar", lambda m: m["migrations"].append("engagements.9999_from_the_future"))
    other = with_manifest(path, tmp_path / "other.tar", lambda m: m["database"].update(vendor="oracle"))
    Engagement.objects.filter(pk=Engagement.objects.order_by("pk").first().pk).delete()
    changed = table_fingerprints(connection)

    with pytest.raises(CommandError, match=r"newer code.*engagements\.9999_from_the_future"):
        call_command("restore", str(newer), "--yes", stdout=io.StringIO())
    with pytest.raises(CommandError, match="restores into oracle only"):
        call_command("restore", str(other), "--yes", stdout=io.StringIO())
    assert table_fingerprints(connection) == changed


def test_uploaded_files_are_in_the_backup_and_come_back(reference_data, fresh_database, tmp_path, settings):
    media = tmp_path / "media"
    (media / "imports" / "2026").mkdir(parents=True)
    files = {"imports/2026/pipeline.xlsx": os.urandom(70_000), "exports/notes é.txt": "Accra, Nairobi, Québec".encode()}
    for name, content in files.items():
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(content)
    settings.MEDIA_ROOT = str(media)
    path = backup(tmp_path / "portal.tar")
    assert sorted(read_manifest(path)["media"]["files"]) == sorted(files)

    elsewhere = tmp_path / "restored-media"
    (elsewhere / "later").mkdir(parents=True)
    (elsewhere / "later" / "upload.csv").write_text("made after the backup")
    report = backup_restore(path=path, connection=fresh_database, media_root=elsewhere, replace_data=False)

    assert {p.relative_to(elsewhere).as_posix(): p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()} == {
        **files,
        "later/upload.csv": b"made after the backup",
    }
    assert (report["media_written"], report["media_not_in_backup"]) == (2, 1)
    with pytest.raises(BackupError, match="MEDIA_ROOT is not set"):
        backup_restore(path=path, connection=fresh_database, media_root=None, replace_data=True)


def test_spreadsheets_failed_rows_reports_and_briefing_packs_come_back_byte_for_byte(
    reference_data, staff_user, client, no_media, fresh_database, tmp_path, monkeypatch
):
    """They live in the database, which every host reaches: the backup's dump carries them, not media/."""
    monkeypatch.setattr(engine, "CHUNK_BYTES", 16_384)  # the file is stored in several chunks, as a large one is
    gb = factories.country("GB")
    partnership_create(actor=staff_user, country=gb, started_on=None)
    rows = [["Country", "Date", "Summary", "Outcome"], ["Atlantis", "2026-01-10", "Nowhere", ""]]
    # Text that does not compress, so the file spans chunks; led by a word (a cell starting "-" reads as a formula).
    rows += [["GB", "2026-01-10", f"Meeting {n}", "Notes " + secrets.token_urlsafe(3000)] for n in range(20)]
    spreadsheet = xlsx_bytes(rows)
    job = dry_run(staff_user, "engagements", spreadsheet, filename="journal.xlsx")
    client.force_login(staff_user)
    download = client.get(reverse("import-failed-rows", args=[job.pk]))
    report = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert report[1][:5] == ["Atlantis", "2026-01-10", "Nowhere", "", "2"] and len(report) == 2
    pack = packs.pack_request(actor=staff_user, countries=[gb], label="GB")
    pack = packs.build_pack(pack.pk)
    assert pack.status == BriefingPack.Status.READY and bytes(pack.pdf).startswith(b"%PDF")

    path = backup(tmp_path / "portal.tar")
    assert read_manifest(path)["media"]["files"] == {}
    backup_restore(path=path, connection=fresh_database, media_root=None, replace_data=False)

    chunks = stored(fresh_database, ImportFileChunk, ["position", "data"], "position", job=job.pk)
    assert [position for position, _ in chunks] == list(range(len(chunks))) and len(chunks) >= 3
    assert b"".join(data for _, data in chunks) == spreadsheet
    refused = stored(fresh_database, ImportRowResult, ["cells", "line", "column", "message"], "line", job=job.pk, action="error")
    assert [[*cells, str(line), column, message] for cells, line, column, message in refused] == report[1:]
    assert stored(fresh_database, BriefingPack, ["status", "pdf"], "id", id=pack.pk) == [("ready", bytes(pack.pdf))]


def test_verify_reads_a_backup_through_and_names_what_is_damaged(reference_data, tmp_path, settings):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "plan.xlsx").write_bytes(b"spreadsheet")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = backup(tmp_path / "portal.tar")
    out = io.StringIO()
    call_command("backup", "--verify", str(path), stdout=out)
    assert "countries_country" in out.getvalue() and "The backup reads back whole." in out.getvalue()

    damaged = with_manifest(path, tmp_path / "damaged.tar", lambda m: m["media"]["files"].update({"plan.xlsx": "0" * 64}))
    with pytest.raises(CommandError, match="media/plan.xlsx does not match its checksum"):
        call_command("backup", "--verify", str(damaged), stdout=io.StringIO())


def test_a_backup_never_overwrites_a_file(reference_data, no_media, tmp_path):
    (tmp_path / "portal.tar").write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", "--output", str(tmp_path / "portal.tar"), stdout=io.StringIO())
    assert (tmp_path / "portal.tar").read_bytes() == b"an older backup"
