"""Tables out of the portal (dashboards, audit log, engagements) as CSV or XLSX: exactly the rows shown on screen with
its filters.

- **Names** carry what was asked: ``<table>[-<filter>-<value>…]-<day>.<ext>``, the day being the "as of" date for a
  picture of the past (``…-as-of-2025-05-31``) and the day of the download otherwise, so two downloads with other
  filters or of another day never share a name.
- **CSV** is streamed (``StreamingHttpResponse``): rows are written as they are read, a few hundred at a time, so a
  large table (the audit log, every engagement) is never held in memory; callers pass an iterator.
- **XLSX** opens ready to read: columns sized to their content, the header row bold and frozen, an autofilter on
  the header, and typed cells (numbers as numbers; dates as dates shown ``yyyy-mm-dd``).
- **Dates** are ISO 8601 in both (``2025-06-30``, ``2025-06-30 14:05:00`` in the reader's time zone).
- **Formulas**: a text cell starting with ``= + - @``, a tab or a carriage return is run as a formula by spreadsheet
  programs (CSV injection); it gets a quote first. Numbers stay numbers (a negative number is not text).
"""

import csv
import datetime
import io
from decimal import Decimal
from itertools import chain, islice

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.text import slugify

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection): prefix a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# CSV lines sent to the client in one piece of the stream.
CSV_LINES_PER_CHUNK = 500
# The XLSX columns are sized from the header and the first rows (the sheet is written before the rest is read).
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH, MAX_WIDTH = 8, 60
FILENAME_MAX = 150


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value):
    """A value as a spreadsheet should hold it: numbers and dates stay typed, the rest becomes text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime.datetime):
        # Spreadsheets know no time zones: the reader's local time, to the second.
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if isinstance(value, (int, float, Decimal, datetime.date)):
        return value
    return _safe(str(value))


def export_filename(name: str, fmt: str, filters=None, as_of: datetime.date | None = None) -> str:
    """``name``, then each filter given (``{"region": "Europe", "track": "workforce"}``, empty ones left out) as
    ``key-value``, then ``as-of-<day>`` for a picture of a past day or the day of the download: ASCII, no spaces."""
    parts = [slugify(name)]
    for key, value in (filters or {}).items():
        value = slugify(str(value)) if value not in (None, "") else ""
        if value:
            parts.append(f"{slugify(key)}-{value}")
    stem = "-".join(parts)[:FILENAME_MAX].rstrip("-")
    day = f"as-of-{as_of.isoformat()}" if as_of else timezone.localdate().isoformat()
    return f"{stem}-{day}.{fmt}"


def export_response(fmt: str, name: str, headers: list[str], rows, *, filters=None, as_of=None):
    """A download of ``rows`` (an iterable of lists of values, in the order of ``headers``) named by
    ``export_filename``: CSV streamed, XLSX built in one go."""
    filename = export_filename(name, fmt, filters, as_of)
    headers = [str(h) for h in headers]  # in the language of the request, before the stream leaves the view
    if fmt == "xlsx":
        response = HttpResponse(_xlsx(name, headers, rows), content_type=FORMATS["xlsx"])
    else:
        response = StreamingHttpResponse(_in_request_context(_csv_chunks(headers, rows)), content_type=FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Line:
    """A file for ``csv.writer`` that hands back each line written instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(headers, rows):
    writer = csv.writer(_Line())
    # A byte-order mark so that spreadsheet programs read UTF-8 (accents in country names) correctly.
    lines = ["\ufeff" + writer.writerow([_safe(h) for h in headers])]
    for row in rows:
        lines.append(writer.writerow([_plain(v) for v in row]))
        if len(lines) >= CSV_LINES_PER_CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _in_request_context(chunks):
    """The stream is read after the view has returned: keep the request's language and time zone while it is."""
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def generate():
        with translation.override(language), timezone.override(zone):
            yield from chunks

    return generate()


def _width(value) -> int:
    if isinstance(value, datetime.datetime):
        return 19
    if isinstance(value, datetime.date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def _xlsx(name: str, headers: list[str], rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def cell(value):
        # Control characters (a pasted vertical tab) make the file unreadable: they are dropped.
        value = _plain(value)
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=slugify(name)[:31] or "export")
    rows = iter(rows)
    sample = [[cell(v) for v in row] for row in islice(rows, WIDTH_SAMPLE_ROWS)]
    # Widths, the frozen header and the autofilter's reach are written around the rows: sized before, closed after.
    for index, header in enumerate(headers):
        widest = max([_width(header), *(_width(row[index]) for row in sample if index < len(row))])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(MAX_WIDTH, max(MIN_WIDTH, widest + 2))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        header_cell = WriteOnlyCell(sheet, value=cell(header))
        header_cell.font = bold
        header_cells.append(header_cell)
    sheet.append(header_cells)
    count = 0
    for row in chain(sample, ([cell(v) for v in row] for row in rows)):
        sheet.append(row)
        count += 1
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
