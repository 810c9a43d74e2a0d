"""Backups of the portal: the database, the uploaded files (MEDIA_ROOT) and a manifest, in one tar file.

A backup is ``portal-<UTC time>.tar`` holding:

- ``manifest.json``: when it was taken, the Django version, the database vendor and server version, the
  migrations applied, and each table's row count and checksum (``table_fingerprints``);
- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite's online backup);
- ``media/...``: every file under ``MEDIA_ROOT``, when that setting names a folder.

The manifest's figures describe exactly what the dump holds: on PostgreSQL they are read in the snapshot that
``pg_dump`` dumps (``pg_export_snapshot()`` / ``pg_dump --snapshot``), on SQLite from the copy itself. A restore
compares the restored tables with them and fails loudly on any difference.

The commands ``manage.py backup`` and ``manage.py restore`` (``make backup``, ``make restore FILE=...``) call
``backup_create`` and ``backup_restore``; docs/operations.md#backups is the operator's manual.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import django
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
# Connection options of Django's PostgreSQL settings that libpq also reads from the environment.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


# --- what a database holds -------------------------------------------------------------------------------------


def table_fingerprints(connection: BaseDatabaseWrapper) -> dict[str, dict]:
    """Each table's row count and a checksum of its content: ``{table: {"rows": n, "checksum": hex}}``.

    The checksum is the sum of one hash per row, so it does not depend on the order rows come back in and needs no
    sorting or memory in proportion to the table. On PostgreSQL the hash is md5 of the row's text (every column),
    computed by the server; on SQLite sha256 of each row's values, in Python. Figures compare between two databases
    of the same vendor only (a row's text differs between vendors)."""
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                # 15 hex digits (60 bits) of each row's md5 as a positive bigint; their sum is a numeric (no overflow).
                row_hash = "('x' || left(md5(t::text), 15))::bit(60)::bigint"
                cursor.execute(f"SELECT count(*), coalesce(sum({row_hash}), 0) FROM {quoted} t")
                rows, total = cursor.fetchone()
                total = int(total)
            else:
                cursor.execute(f"SELECT * FROM {quoted}")
                rows = total = 0
                while batch := cursor.fetchmany(2000):
                    for row in batch:
                        rows += 1
                        total += int(hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:15], 16)
            found[table] = {"rows": rows, "checksum": f"{total:x}"}
    return found


def applied_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """The migrations recorded as applied in that database, as ``app.name``, sorted. (Read with SQL: Django's
    MigrationRecorder queries by alias, which a connection made by ``connection_to`` shares with the default.)"""
    table = MigrationRecorder.Migration._meta.db_table
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return []
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(table)}")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def migrations_in_code() -> set[str]:
    """Every migration this code has, squashed ones included under the names they replace."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    for migration in loader.disk_migrations.values():
        known.update(f"{app}.{name}" for app, name in migration.replaces)
    return known


def fingerprint_differences(expected: dict[str, dict], found: dict[str, dict]) -> list[str]:
    """What differs between two ``table_fingerprints``, one line per table; empty when they are the same."""
    lines = []
    for table in sorted(set(expected) | set(found)):
        if table not in found:
            lines.append(f"{table}: missing (expected {expected[table]['rows']} rows)")
        elif table not in expected:
            lines.append(f"{table}: not in the backup ({found[table]['rows']} rows)")
        elif found[table] != expected[table]:
            want, got = expected[table], found[table]
            lines.append(f"{table}: {got['rows']} rows, checksum {got['checksum']} (expected {want['rows']}, {want['checksum']})")
    return lines


# --- PostgreSQL tools ------------------------------------------------------------------------------------------


def _libpq_environment(settings_dict: dict) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: Django's connection settings as libpq variables (the password too,
    so it never appears on a command line)."""
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    env["PGDATABASE"] = settings_dict["NAME"]
    for option, variable in LIBPQ_OPTIONS.items():
        if settings_dict.get("OPTIONS", {}).get(option) not in (None, ""):
            env[variable] = str(settings_dict["OPTIONS"][option])
    return env


def _tool_major_version(tool: str) -> tuple[str, int]:
    """The path of pg_dump or pg_restore and its major version, or a BackupError saying it is missing."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} was not found on PATH. Install the PostgreSQL client tools (Debian: apt-get install postgresql-client) "
            "of the same major version as the server or newer."
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    if not match:
        raise BackupError(f"Could not read the version of {path} from {output.strip()!r}.")
    return path, int(match.group(1))


def _server_major_version(connection: BaseDatabaseWrapper) -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000  # e.g. 150020 -> 15


# --- backup ----------------------------------------------------------------------------------------------------


def default_backup_path(directory: Path) -> Path:
    return directory / f"portal-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar"


def backup_create(*, connection: BaseDatabaseWrapper, output: Path, media_root: str | os.PathLike | None) -> dict:
    """Write a backup of that database and of the files under ``media_root`` to ``output`` (a tar file); return
    its manifest. The file appears only once complete, readable by its owner only."""
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    if connection.in_atomic_block:
        raise BackupError("A backup cannot be taken inside a transaction (it would not see its own snapshot).")
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} exists already; a backup never overwrites one.")
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a backup holds password hashes and personal data
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".backup-") as work:
        dump = Path(work) / DUMP_NAMES[connection.vendor]
        dumped = _dump_postgresql(connection, dump) if connection.vendor == "postgresql" else _copy_sqlite(connection, dump)
        media = _media_files(media_root)
        database_name = Path(str(connection.settings_dict["NAME"])).name  # a SQLite file's name, not its folder
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "django": django.get_version(),
            "database": {"vendor": connection.vendor, "name": database_name, **dumped["database"]},
            "migrations": dumped["migrations"],
            "tables": dumped["tables"],
            "media": {"root": str(media_root) if media_root else None, "files": {name: digest for name, _, digest in media}},
        }
        partial = Path(work) / "backup.tar"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            archive.add(dump, arcname=dump.name, filter=_private)
            for name, path, _ in media:
                archive.add(path, arcname=MEDIA_PREFIX + name, recursive=False, filter=_private)
        os.replace(partial, output)  # same folder, so atomic: a file at `output` is a whole backup
    return manifest


def _dump_postgresql(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    pg_dump, tool_major = _tool_major_version("pg_dump")
    server_major = _server_major_version(connection)
    if tool_major < server_major:
        raise BackupError(
            f"{pg_dump} is version {tool_major} but the server runs PostgreSQL {server_major}: pg_dump must be the "
            f"server's major version or newer (Debian: apt-get install postgresql-client-{server_major})."
        )
    # One snapshot for the manifest's figures and for pg_dump, which dumps exactly what this transaction sees.
    # (The connection's own methods, not transaction.atomic(): that looks the alias up in django.db.connections.)
    connection.ensure_connection()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
        tables = table_fingerprints(connection)
        migrations = applied_migrations(connection)
        result = subprocess.run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
            env=_libpq_environment(connection.settings_dict),
            capture_output=True,
            text=True,
        )
    finally:
        connection.rollback()
        connection.set_autocommit(True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {result.returncode}): {result.stderr.strip()}")
    return {
        "database": {"server_version": server_version, "pg_dump_major": tool_major},
        "migrations": migrations,
        "tables": tables,
    }


def _copy_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    connection.ensure_connection()
    target = sqlite3.connect(dump)
    try:
        connection.connection.backup(target)  # SQLite's online backup: safe while the portal writes
    finally:
        target.close()
    copy = connection_to(connection.settings_dict | {"NAME": str(dump)})
    try:
        return {
            "database": {"server_version": sqlite3.sqlite_version},
            "migrations": applied_migrations(copy),
            "tables": table_fingerprints(copy),
        }
    finally:
        copy.close()


def _media_files(media_root) -> list[tuple[str, Path, str]]:
    """Every regular file under ``media_root`` as (name relative to it, path, sha256), sorted by name."""
    if not media_root or not Path(media_root).is_dir():
        return []
    root = Path(media_root)
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            files.append((path.relative_to(root).as_posix(), path, _sha256_of(path)))
    return files


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Files unpacked from a backup by hand are readable by their owner only, and name no local user."""
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    """The manifest of a backup file, or a BackupError if the file is not a backup this code can read."""
    try:
        with tarfile.open(path, mode="r") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a portal backup ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is a backup of format {manifest.get('format')!r}; this code reads format {FORMAT}.")
    return manifest


def restore_problems(manifest: dict, connection: BaseDatabaseWrapper) -> list[str]:
    """Why that backup cannot be restored into that database by this code; empty when it can."""
    problems = []
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        problems.append(f"The backup is of a {vendor} database; it restores into {vendor} only, not {connection.vendor}.")
    unknown = sorted(set(manifest["migrations"]) - migrations_in_code())
    if unknown:
        problems.append(
            "The backup was taken by newer code: it has migrations this code does not know ("
            + ", ".join(unknown[:10])
            + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            + "). Restore it with the code version that made it."
        )
    return problems


def rows_in(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """The tables of that database that hold rows, with their counts."""
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            if count := cursor.fetchone()[0]:
                counts[table] = count
    return counts


def backup_restore(
    *,
    path: Path,
    connection: BaseDatabaseWrapper,
    media_root: str | os.PathLike | None,
    replace_data: bool,
    progress: Callable[[str], None] = lambda message: None,
) -> dict:
    """Replace that database's content (and write the backup's files under ``media_root``) with the backup at
    ``path``, then check every table against the manifest. Refuses a backup from newer code or of another vendor,
    and a database that holds rows unless ``replace_data``. Returns a report: the manifest, the files written and
    the files under ``media_root`` that the backup does not have (left in place)."""
    manifest = read_manifest(path)
    if problems := restore_problems(manifest, connection):
        raise BackupError(" ".join(problems))
    existing = rows_in(connection)
    if existing and not replace_data:
        largest = ", ".join(f"{table} {count}" for table, count in sorted(existing.items(), key=lambda item: -item[1])[:3])
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty ({len(existing)} tables hold "
            f"{sum(existing.values())} rows; most in {largest}). Restoring replaces all of it with the backup taken "
            f"{manifest['created_at']}. Run again with --yes to go ahead."
        )
    dump_name = DUMP_NAMES[connection.vendor]
    with tarfile.open(path, mode="r") as archive:
        progress(f"Restoring the database from the backup taken {manifest['created_at']}")
        if connection.vendor == "postgresql":
            _restore_postgresql(connection, archive, dump_name, manifest)
        else:
            _restore_sqlite(connection, archive, dump_name)
        written, extra = _restore_media(archive, manifest, media_root, progress)
    if differences := fingerprint_differences(manifest["tables"], table_fingerprints(connection)):
        raise BackupError("The restored database does not match the backup's manifest:\n  " + "\n  ".join(differences))
    pending = sorted(migrations_in_code() - set(applied_migrations(connection)))
    return {"manifest": manifest, "media_written": written, "media_not_in_backup": extra, "migrations_to_apply": pending}


def _restore_postgresql(connection: BaseDatabaseWrapper, archive: tarfile.TarFile, dump_name: str, manifest: dict) -> None:
    pg_restore, tool_major = _tool_major_version("pg_restore")
    if tool_major < manifest["database"]["pg_dump_major"]:
        raise BackupError(
            f"{pg_restore} is version {tool_major}; the backup was written by pg_dump {manifest['database']['pg_dump_major']}, "
            "which only a pg_restore of that version or newer reads."
        )
    # Tables the backup does not have (made by later migrations) would stay behind and break the next `migrate`.
    with connection.cursor() as cursor:
        extra = sorted(set(connection.introspection.table_names(cursor)) - set(manifest["tables"]))
        if extra:
            cursor.execute("DROP TABLE " + ", ".join(connection.ops.quote_name(table) for table in extra) + " CASCADE")
    name = connection.settings_dict["NAME"]
    connection.close()  # pg_restore takes locks on every table: this process must hold none
    with _extracted(archive, dump_name) as dump:
        result = subprocess.run(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                name,
                dump,
            ],
            env=_libpq_environment(connection.settings_dict),
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore failed (exit {result.returncode}); it ran in one transaction, so the database's tables are as "
            f"they were (less any it had that the backup does not): {result.stderr.strip()}"
        )


def _restore_sqlite(connection: BaseDatabaseWrapper, archive: tarfile.TarFile, dump_name: str) -> None:
    with _extracted(archive, dump_name) as copy:
        connection.ensure_connection()
        source = sqlite3.connect(copy)
        try:
            source.backup(connection.connection)  # replaces every page of the target, under its lock
        finally:
            source.close()


@contextmanager
def _extracted(archive: tarfile.TarFile, name: str) -> Iterator[Path]:
    """One file of the backup, copied to a private temporary folder for the time of the block."""
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
        copy = Path(work) / name
        with _member(archive, name) as source, open(copy, "wb") as target:
            shutil.copyfileobj(source, target)
        yield copy


@contextmanager
def _member(archive: tarfile.TarFile, name: str) -> Iterator[io.BufferedReader]:
    try:
        member = archive.extractfile(name)
    except KeyError as exc:
        raise BackupError(f"The backup has no {name}.") from exc
    try:
        yield member
    finally:
        member.close()


def _restore_media(archive: tarfile.TarFile, manifest: dict, media_root, progress) -> tuple[int, int]:
    """Write the backup's files under ``media_root``, each checked against the manifest's sha256. Files there that
    the backup does not have are left in place (and counted)."""
    expected = manifest["media"]["files"]
    if not expected:
        return 0, 0
    if not media_root:
        raise BackupError(f"The backup holds {len(expected)} uploaded files but MEDIA_ROOT is not set: nowhere to put them.")
    root = Path(media_root)
    progress(f"Restoring {len(expected)} files into {root}")
    written = 0
    for name, digest in expected.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"The backup names a file outside MEDIA_ROOT ({name!r}); refusing it.")
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        with _member(archive, MEDIA_PREFIX + name) as source, open(partial, "wb") as file:
            shutil.copyfileobj(source, file)
        if _sha256_of(partial) != digest:
            partial.unlink()
            raise BackupError(f"The backup's copy of {name} does not match its checksum in the manifest.")
        os.replace(partial, target)
        written += 1
    extra = sum(1 for name, _, _ in _media_files(root) if name not in expected)
    return written, extra


def connection_to(settings_dict: dict) -> BaseDatabaseWrapper:
    """A Django connection, outside django.db.connections, to a database with these settings (a backup's copy, a
    restore target); close it when done."""
    return ConnectionHandler({"default": dict(settings_dict)})["default"]


def backup_verify(path: Path) -> tuple[dict, list[str]]:
    """Read a backup through without restoring it: its manifest, then what is wrong with it (empty when nothing).

    Checks that the database dump is there and readable (PostgreSQL: ``pg_restore --list``; SQLite: an integrity
    check, then every table against the manifest) and that each uploaded file matches its checksum. Only a restore
    proves a PostgreSQL dump's content; docs/operations.md#backups says how to rehearse one."""
    manifest = read_manifest(path)
    problems = []
    vendor = manifest["database"]["vendor"]
    with tarfile.open(path, mode="r") as archive:
        if vendor == "postgresql":
            pg_restore, _ = _tool_major_version("pg_restore")
            with _extracted(archive, DUMP_NAMES[vendor]) as dump:
                result = subprocess.run([pg_restore, "--list", dump], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append(f"pg_restore cannot read the dump: {result.stderr.strip()}")
        else:
            with _extracted(archive, DUMP_NAMES[vendor]) as copy:
                # Through Django's connection: the tables' CHECK constraints call the REGEXP function it defines.
                restored = connection_to({"ENGINE": "django.db.backends.sqlite3", "NAME": str(copy)})
                try:
                    with restored.cursor() as cursor:
                        cursor.execute("PRAGMA integrity_check")
                        verdict = cursor.fetchone()[0]
                    if verdict != "ok":
                        problems.append(f"The SQLite copy fails its integrity check: {verdict}")
                    else:
                        problems += fingerprint_differences(manifest["tables"], table_fingerprints(restored))
                except DatabaseError as exc:
                    problems.append(f"The SQLite copy cannot be read: {exc}")
                finally:
                    restored.close()
        for name, digest in manifest["media"]["files"].items():
            try:
                member = archive.extractfile(MEDIA_PREFIX + name)
            except KeyError:
                problems.append(f"media/{name} is missing")
                continue
            hasher = hashlib.sha256()
            while chunk := member.read(1 << 20):
                hasher.update(chunk)
            if hasher.hexdigest() != digest:
                problems.append(f"media/{name} does not match its checksum")
    return manifest, problems
