"""Tables out of the portal (dashboards, audit log) as CSV or XLSX: exactly the rows shown on screen with its filters."""

import csv
import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection): prefix a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    if isinstance(value, (int, float, Decimal, datetime.date)):
        return value
    return _safe(str(value))


def export_response(fmt: str, name: str, headers: list[str], rows) -> HttpResponse:
    """A download of ``rows`` (lists of values, in the order of ``headers``) named ``name``-YYYY-MM-DD.ext."""
    filename = f"{name}-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31])
        sheet.append([_safe(str(h)) for h in headers])
        for row in rows:
            sheet.append([_plain(v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=FORMATS["xlsx"])
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_safe(str(h)) for h in headers])
        for row in rows:
            writer.writerow([_plain(v) for v in row])
        # A byte-order mark so that spreadsheet programs read UTF-8 (accents in country names) correctly.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type=FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
