"""The writer of every download (core.exports): XLSX that opens ready to read, CSV streamed, names that say what."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from core import exports
from core.exports import export_filename, export_response

TODAY = datetime.datetime(2025, 6, 30, 12, 0, tzinfo=datetime.UTC)
HEADERS = ["Id", "Date", "Logged at", "Summary", "MW", "Share (%)"]
LONG = "A long summary of a meeting that goes on and on about the skills programme and its budget lines, twice over."


def _rows():
    return [
        [1, datetime.date(2025, 6, 1), datetime.datetime(2025, 6, 1, 9, 30, 15, 999, tzinfo=datetime.UTC), "Short", 50, 12.5],
        [2, datetime.date(2025, 5, 2), None, LONG, Decimal("7.25"), -3],
        [3, datetime.date(2025, 4, 3), None, '=HYPERLINK("http://evil.example","x")', 0, 0.0],
        [4, datetime.date(2025, 3, 4), None, "-1+2 is text\x0bwith a vertical tab", 1, 1],
    ]


def _book(response):
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def test_xlsx_has_sized_columns_a_frozen_bold_header_and_an_autofilter():
    sheet = _book(export_response("xlsx", "engagements", HEADERS, iter(_rows())))
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEF"}
    assert widths["A"] == exports.MIN_WIDTH  # "Id" and one digit: the narrowest a column gets
    assert widths["B"] == 12  # an ISO date (10) and a margin
    assert widths["C"] == 21  # date and time to the second
    assert widths["D"] == exports.MAX_WIDTH  # a long text is cut at the widest a column gets
    assert widths["F"] == len("Share (%)") + 2  # the header, when it is wider than the values
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F5"  # the header and the four rows
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet.title == "engagements"


def test_xlsx_cells_are_typed_dates_iso_and_formulas_neutralised():
    sheet = _book(export_response("xlsx", "engagements", HEADERS, _rows()))
    first = sheet[2]
    assert [cell.data_type for cell in first] == ["n", "d", "d", "s", "n", "n"]
    assert first[1].value == datetime.datetime(2025, 6, 1) and first[1].number_format == "yyyy-mm-dd"
    # An aware time: the reader's local time (UTC here), no time zone, no microseconds, ISO order.
    assert first[2].value == datetime.datetime(2025, 6, 1, 9, 30, 15)
    assert first[2].number_format == "yyyy-mm-dd h:mm:ss"
    assert [cell.value for cell in sheet[3]][4:] == [7.25, -3]  # a negative number stays a number
    assert sheet["D4"].value == '\'=HYPERLINK("http://evil.example","x")' and sheet["D4"].data_type == "s"
    assert sheet["D5"].value == "'-1+2 is textwith a vertical tab"  # neutralised; the control character dropped


def test_xlsx_sizes_columns_from_the_first_rows_only(monkeypatch):
    monkeypatch.setattr(exports, "WIDTH_SAMPLE_ROWS", 2)
    sheet = _book(export_response("xlsx", "engagements", HEADERS, _rows()))
    assert sheet.column_dimensions["D"].width == exports.MAX_WIDTH  # row 2 is in the sample
    assert sheet.max_row == 5  # and every row is written, sampled or not
    monkeypatch.setattr(exports, "WIDTH_SAMPLE_ROWS", 1)
    sheet = _book(export_response("xlsx", "engagements", HEADERS, _rows()))
    assert sheet.column_dimensions["D"].width == len("Summary") + 2


def test_csv_is_streamed_as_it_is_read(monkeypatch):
    monkeypatch.setattr(exports, "CSV_LINES_PER_CHUNK", 10)
    read = []

    def rows():
        for n in range(25):
            read.append(n)
            yield [n, datetime.date(2025, 6, 1), "=1+1"]

    response = export_response("csv", "engagements", ["Id", "Date", "Note"], rows())
    assert response.streaming
    assert read == []  # nothing is read before the client reads
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert len(read) == 9  # one chunk of 10 lines (the header and nine rows) read, not every row
    body = (first + b"".join(chunks)).decode("utf-8")
    assert body.startswith("\ufeffId,Date,Note\r\n")
    lines = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert len(lines) == 26
    assert lines[1] == ["0", "2025-06-01", "'=1+1"]


def test_csv_keeps_iso_dates_and_the_readers_time():
    with timezone.override("Europe/Paris"):
        response = export_response(
            "csv", "audit-log", ["When", "Day"], [[datetime.datetime(2025, 6, 1, 9, 0, 0, 5, tzinfo=datetime.UTC), None]]
        )
        body = response.getvalue().decode("utf-8-sig")
    assert body.splitlines()[1] == "2025-06-01 11:00:00,"


def test_csv_stream_keeps_the_language_and_zone_of_the_request():
    """The stream is read after the view returns, when another request may have switched the language."""
    with translation.override("fr"), timezone.override("Europe/Paris"):
        response = export_response(
            "csv",
            "engagements",
            [gettext_lazy("Meeting")],
            ([gettext_lazy("Meeting"), datetime.datetime(2025, 6, 1, 9, tzinfo=datetime.UTC)] for _ in range(1)),
        )
    with translation.override("en"):
        lines = response.getvalue().decode("utf-8-sig").splitlines()
    assert lines == ["Réunion", "Réunion,2025-06-01 11:00:00"]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("filters", "as_of", "expected"),
    [
        (None, None, "pipeline-matrix-2025-06-30.csv"),
        ({"region": "", "track": None}, None, "pipeline-matrix-2025-06-30.csv"),  # empty filters say nothing
        ({"region": "Europe", "track": "workforce"}, None, "pipeline-matrix-region-europe-track-workforce-2025-06-30.csv"),
        ({"track": "workforce"}, datetime.date(2025, 5, 31), "pipeline-matrix-track-workforce-as-of-2025-05-31.csv"),
        (None, datetime.date(2025, 5, 31), "pipeline-matrix-as-of-2025-05-31.csv"),
        ({"region": "Amérique du Nord", "q": 'x"; y\r\n'}, None, "pipeline-matrix-region-amerique-du-nord-q-x-y-2025-06-30.csv"),
    ],
)
def test_file_names_carry_the_filters_and_the_day_shown(filters, as_of, expected):
    assert export_filename("pipeline-matrix", "csv", filters, as_of) == expected


@time_machine.travel(TODAY, tick=False)
def test_a_long_file_name_is_cut_before_its_day():
    name = export_filename("engagements", "xlsx", {"q": "word " * 100})
    assert len(name) <= exports.FILENAME_MAX + len("-2025-06-30.xlsx")
    assert name.endswith("-2025-06-30.xlsx") and "--" not in name
