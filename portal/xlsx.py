"""Spreadsheets the way officials print them: Chinese headers in bold on a frozen first row,
column widths that fit, repeated header rows on every printed page.

Workbooks are written in openpyxl's write-only mode from row generators, so memory stays flat
however many rows an export has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    number_format: str | None = None  # e.g. "0", "0.00", "yyyy-mm-dd hh:mm"


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    title_rows: Sequence[str] = ()  # lines printed above the header (report name, period)


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb, sheet)
    wb.save(target)


def _safe_title(title: str) -> str:
    # Excel forbids these in sheet names and caps them at 31 characters.
    for ch in "[]:*?/\\":
        title = title.replace(ch, "·")
    return title[:31] or "Sheet"


def _write_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(_safe_title(sheet.title))
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    header_row = len(sheet.title_rows) + 1
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    for line in sheet.title_rows:
        cell = WriteOnlyCell(ws, value=line)
        cell.font = Font(bold=True, size=13)
        ws.append([cell])
    header = []
    for column in sheet.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
        header.append(cell)
    ws.append(header)
    formats = [c.number_format for c in sheet.columns]
    if not any(formats):
        for row in sheet.rows:
            ws.append(row)
        return
    for row in sheet.rows:
        out = []
        for value, fmt in zip(row, formats, strict=False):
            if fmt is None or value is None:
                out.append(value)
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                out.append(cell)
        ws.append(out)
