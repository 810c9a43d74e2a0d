"""Downloadable templates: each kind's columns (English headers) and example rows, as CSV or XLSX."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from .kinds import KINDS


def template_rows(kind_name: str) -> list[list[str]]:
    kind = KINDS[kind_name]
    header = [str(f.label) for f in kind.fields]
    return [header] + [[row.get(f.name, "") for f in kind.fields] for row in kind.example_rows]


def template_csv(kind_name: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(template_rows(kind_name))
    return out.getvalue().encode("utf-8-sig")  # with its BOM, Excel opens the accents right


def template_xlsx(kind_name: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = kind_name
    for row in template_rows(kind_name):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
