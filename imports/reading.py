"""Reading an uploaded spreadsheet safely, a row at a time.

The file is checked before any row is read: its size, what it really is (a CSV is text, an XLSX is a zip holding a
workbook), the uncompressed size its zip directory declares (a zip bomb is refused before openpyxl opens it), NUL
bytes, and the number of rows. Then rows are streamed: ``csv`` over the decoded text, openpyxl in read-only mode for
XLSX, so memory does not grow with the file.

Cells are text. A cell that would run as a formula in a spreadsheet program (``=``, ``@``, or ``+``/``-`` followed
by something other than a number or a phone number) is refused in its row, never stored: the portal's downloads
would otherwise carry it back to someone's spreadsheet.
"""

import codecs
import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

CSV, XLSX = "csv", "xlsx"
XLSX_MAGIC = b"PK\x03\x04"
BOM = codecs.BOM_UTF8
SNIFF_BYTES = 64 * 1024
# A sign followed by a number or a phone number ("+33 1 23 45 67 89", "-12.5") is data, not a formula.
SIGNED_NUMBER = re.compile(r"^[+-][\d\s().,/]*$")


class FileRefused(Exception):
    """The whole file is refused, with a message a user can act on."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_cell_chars: int
    max_uncompressed_bytes: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_bytes=settings.IMPORT_MAX_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        )


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.0f}"


def detect_format(handle) -> str:
    """``csv`` or ``xlsx`` from the file's first bytes (never from its name); anything else is refused."""
    handle.seek(0)
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    if head.startswith(XLSX_MAGIC):
        return XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(_("This is an old Excel file (.xls): save it as .xlsx or CSV and upload that."))
    if not head.strip():
        raise FileRefused(_("The file is empty."))
    if b"\x00" in head:
        raise FileRefused(_("The file holds NUL bytes: it is not a text spreadsheet (save it as CSV UTF-8 or XLSX)."))
    return CSV


def detect_encoding(handle) -> str:
    """UTF-8 (with or without its byte order mark), else Windows-1252: the two encodings spreadsheets save CSV in.
    The whole file is decoded in chunks to decide (an accent far down the file counts too)."""
    handle.seek(0)
    if handle.read(3) == BOM:
        handle.seek(0)
        return "utf-8-sig"
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(SNIFF_BYTES):
            if b"\x00" in chunk:
                raise FileRefused(_("The file holds NUL bytes: it is not a text spreadsheet (save it as CSV UTF-8 or XLSX)."))
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        handle.seek(0)


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise FileRefused(
            _("The file is %(size)s MB; at most %(max)s MB can be imported at once. Split it into smaller files.")
            % {"size": _megabytes(size), "max": _megabytes(limits.max_bytes)}
        )


def check_xlsx(handle, limits: Limits) -> None:
    """Read the zip's directory (not its contents): refuse what is not a workbook, and what would expand beyond the
    limit (a zip bomb) before any of it is decompressed."""
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FileRefused(_("The file is not a valid XLSX workbook (it is damaged or not a spreadsheet).")) from exc
    finally:
        handle.seek(0)
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("The file is a zip archive but not an XLSX workbook."))
    expanded = sum(m.file_size for m in members)
    if expanded > limits.max_uncompressed_bytes:
        raise FileRefused(
            _("The workbook would expand to %(size)s MB, more than the %(max)s MB allowed: it is refused unopened.")
            % {"size": _megabytes(expanded), "max": _megabytes(limits.max_uncompressed_bytes)}
        )


def count_csv_rows(handle, encoding: str, limits: Limits) -> int:
    """The number of data rows (lines after the header), counted in one pass before any row is parsed."""
    n = 0
    for n, _row in enumerate(_csv_reader(handle, encoding, limits)):  # noqa: B007
        if n > limits.max_rows:
            break
    handle.seek(0)
    return n


def _csv_reader(handle, encoding: str, limits: Limits):
    handle.seek(0)
    # Windows-1252 leaves five bytes undefined: shown as a replacement character rather than refusing the file.
    text = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="replace" if encoding == "cp1252" else "strict")
    sample = text.read(SNIFF_BYTES)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # A field longer than this is refused by the csv module itself (it would otherwise be read whole into memory).
    csv.field_size_limit(limits.max_cell_chars * 4)
    try:
        yield from csv.reader(text, dialect)
    except csv.Error as exc:
        raise FileRefused(
            _("The file could not be read as CSV (%(error)s). Cells may hold at most %(max)d characters.")
            % {"error": exc, "max": limits.max_cell_chars}
        ) from exc
    finally:
        text.detach()


def _xlsx_rows(handle):
    from openpyxl import load_workbook

    handle.seek(0)
    try:
        workbook = load_workbook(handle, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise FileRefused(_("The workbook could not be opened: %(error)s") % {"error": exc}) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            yield [_xlsx_cell(cell) for cell in row]
    finally:
        workbook.close()


class Formula(str):
    """A cell that held a formula in the workbook (its text kept to say which)."""


def _xlsx_cell(cell):
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_row_count(handle) -> int | None:
    """The row count the sheet declares (its dimension), read without reading the rows; None if it declares none."""
    from openpyxl import load_workbook

    handle.seek(0)
    try:
        workbook = load_workbook(handle, read_only=True)
        sheet = workbook.worksheets[0]
        try:
            declared = sheet.max_row if sheet.calculate_dimension(force=False) else None
        except ValueError:
            declared = None
        workbook.close()
        return max(declared - 1, 0) if declared else None
    except Exception:  # noqa: BLE001 - a damaged file is refused when its rows are read
        return None
    finally:
        handle.seek(0)


@dataclass
class Sheet:
    """An opened, checked file: its format, encoding, header and data row count; ``rows()`` streams the rest."""

    handle: object
    format: str
    encoding: str
    header: list[str]
    row_count: int
    limits: Limits

    def rows(self):
        """``(line number, cells)`` for every data row, blank rows skipped. Cells are strings (``Formula`` for a
        workbook formula); a row is padded to the header's width."""
        source = _xlsx_rows(self.handle) if self.format == XLSX else _csv_reader(self.handle, self.encoding, self.limits)
        width = len(self.header)
        for line, cells in enumerate(source, start=1):
            if line == 1:
                continue
            if line - 1 > self.limits.max_rows:
                raise FileRefused(_("The file has more than %(max)d rows.") % {"max": self.limits.max_rows})
            cells = [c if isinstance(c, str) else str(c) for c in cells]
            if not any(c.strip() for c in cells):
                continue
            yield line, (cells + [""] * width)[: max(width, len(cells))]


def open_sheet(handle, size: int, limits: Limits | None = None) -> Sheet:
    """Check the file (size, kind, zip directory, NUL bytes, encoding, rows) and read its header row."""
    limits = limits or Limits.from_settings()
    check_size(size, limits)
    fmt = detect_format(handle)
    encoding = ""
    if fmt == XLSX:
        check_xlsx(handle, limits)
        rows = xlsx_row_count(handle)
        source = _xlsx_rows(handle)
    else:
        encoding = detect_encoding(handle)
        rows = count_csv_rows(handle, encoding, limits)
        source = _csv_reader(handle, encoding, limits)
    if rows is not None and rows > limits.max_rows:
        raise FileRefused(
            _("The file has %(rows)d rows; at most %(max)d can be imported at once. Split it into smaller files.")
            % {"rows": rows, "max": limits.max_rows}
        )
    header = next(iter(source), None)
    if hasattr(source, "close"):
        source.close()
    handle.seek(0)
    if not header or not any(str(h).strip() for h in header):
        raise FileRefused(_("The first row must name the columns; it is empty."))
    header = [str(h).strip() for h in header]
    return Sheet(handle=handle, format=fmt, encoding=encoding, header=header, row_count=rows or 0, limits=limits)


def refused_cell(value: str, limits: Limits) -> str | None:
    """Why a cell is refused (a formula, a NUL, too long), or None."""
    if isinstance(value, Formula):
        return _("holds a formula (%(formula)s): type the value instead.") % {"formula": value[:40]}
    if "\x00" in value:
        return _("holds a NUL byte.")
    if len(value) > limits.max_cell_chars:
        return _("is %(n)d characters long; at most %(max)d are allowed.") % {"n": len(value), "max": limits.max_cell_chars}
    stripped = value.lstrip()
    if stripped[:1] in ("=", "@") or (stripped[:1] in ("+", "-") and not SIGNED_NUMBER.match(stripped)):
        return _("starts with “%(char)s”, which a spreadsheet would run as a formula: it is refused.") % {"char": stripped[0]}
    return None
