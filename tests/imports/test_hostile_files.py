"""Files refused or neutralised before their rows are read: sizes, kinds, zip bombs, NUL bytes, encodings, cells."""

import io
import zipfile

import pytest

from engagements.models import Engagement
from imports.models import ImportJob
from imports.reading import FileRefused
from partnerships.services import partnership_create
from tests import factories

from .helpers import csv_bytes, dry_run_and_apply, results, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["Country", "Date", "Summary", "Outcome"]


@pytest.fixture(autouse=True)
def gb(staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"), started_on=None)


def test_utf8_with_a_byte_order_mark_and_windows_1252_are_both_read(staff_user):
    rows = [HEADER, ["GB", "2026-01-10", "Réunion à Londres", "Décidé"]]
    with_bom = b"\xef\xbb\xbf" + csv_bytes(rows)
    job = dry_run_and_apply(staff_user, "engagements", with_bom)
    assert job.encoding == "utf-8-sig" and job.mapping["country"] == 0
    rows[1][2] = "Déjeuner à Paris — suite"
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes(rows, encoding="cp1252"))
    assert job.encoding == "cp1252"
    assert set(Engagement.objects.values_list("summary", flat=True)) == {"Réunion à Londres", "Déjeuner à Paris — suite"}


def test_semicolon_separated_csv_is_read(staff_user):
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes([HEADER, ["GB", "2026-01-10", "Call", ""]], delimiter=";"))
    assert job.applied_counts["create"] == 1


def test_a_file_too_large_is_refused_before_it_is_read(staff_user, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(FileRefused, match="at most"):
        upload(staff_user, "engagements", csv_bytes([HEADER] + [["GB", "2026-01-10", "x" * 50, ""]] * 5))
    assert not ImportJob.objects.exists()


def test_too_many_rows_are_refused_before_any_is_parsed(staff_user, settings):
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(FileRefused, match="rows"):
        upload(staff_user, "engagements", csv_bytes([HEADER] + [["GB", "2026-01-10", f"n{i}", ""] for i in range(4)]))
    with pytest.raises(FileRefused, match="rows"):
        upload(staff_user, "engagements", xlsx_bytes([HEADER] + [["GB", "2026-01-10", f"n{i}", ""] for i in range(4)]))


def test_a_file_that_is_not_a_spreadsheet_is_refused(staff_user):
    with pytest.raises(FileRefused, match="NUL"):
        upload(staff_user, "engagements", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(FileRefused, match="not an XLSX"):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("readme.txt", "hello")
        upload(staff_user, "engagements", archive.getvalue())
    with pytest.raises(FileRefused, match=".xls"):
        upload(staff_user, "engagements", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(FileRefused, match="empty"):
        upload(staff_user, "engagements", b"   \n")


def test_an_xlsx_zip_bomb_is_refused_from_its_directory_unopened(staff_user, settings, monkeypatch):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1_000_000
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * 5_000_000)  # 5 MB of zeros: a few kilobytes compressed
    data = archive.getvalue()
    assert len(data) < 50_000

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(FileRefused, match="expand"):
        upload(staff_user, "engagements", data)


def test_nul_bytes_in_a_csv_are_refused(staff_user):
    data = csv_bytes([HEADER] + [["GB", "2026-01-10", f"ok {i}", ""] for i in range(3000)]) + b"GB,2026-01-10,bad\x00,\n"
    with pytest.raises(FileRefused, match="NUL"):
        upload(staff_user, "engagements", data)


def test_a_huge_cell_is_refused_in_its_row_and_a_monstrous_one_refuses_the_file(staff_user, settings):
    settings.IMPORT_MAX_CELL_CHARS = 100
    job = dry_run_and_apply(staff_user, "engagements", csv_bytes([HEADER, ["GB", "2026-01-10", "y" * 150, ""]]))
    line = results(job)[2]
    assert line.action == "error" and line.column == "Summary" and "at most 100" in line.message
    with pytest.raises(FileRefused, match="at most 100 characters"):
        upload(staff_user, "engagements", csv_bytes([HEADER, ["GB", "2026-01-10", "z" * 1000, ""]]))


def test_formulas_are_refused_but_signed_numbers_and_phones_are_text(staff_user):
    rows = [
        ["Country", "Name", "Phone", "Title"],
        ["GB", "Ada", "+44 20 7946 0000", ""],
        ["GB", "Bob", "", "-cmd|' /C calc'!A0"],
        ["GB", "Cy", "", "+SUM(1)"],
        ["GB", "Di", "", "@foo"],
    ]
    job = dry_run_and_apply(staff_user, "counterparts", csv_bytes(rows))
    by_line = results(job)
    assert by_line[2].action == "create"
    assert [by_line[n].action for n in (3, 4, 5)] == ["error"] * 3
    assert all("formula" in by_line[n].message for n in (3, 4, 5))
