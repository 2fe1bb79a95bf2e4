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
    # Columns sharing a group get one merged header cell above their own headers, as in the
    # seeds' tables (e.g. 分馆 over 布点 and 已开放).
    group: str | None = None


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    title_rows: Sequence[str] = ()  # lines printed above the header (report name, period)


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    wb = Workbook(write_only=True)
    used: set[str] = set()
    for sheet in sheets:
        _write_sheet(wb, sheet, _unique_title(sheet.title, used))
    wb.save(target)


def _safe_title(title: str) -> str:
    # Excel forbids these in sheet names and caps them at 31 characters.
    for ch in "[]:*?/\\":
        title = title.replace(ch, "·")
    return title[:31] or "Sheet"


def _unique_title(title: str, used: set[str]) -> str:
    # Excel refuses two sheets whose names differ only in case; two counties may share a name.
    base = _safe_title(title)
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


def _header_cell(ws, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
    return cell


def _write_group_row(ws, columns: Sequence[Column], row: int) -> None:
    """The row above the headers: a group's name merged across its columns; a column without
    a group has its own header merged down over both rows."""
    cells = []
    i = 0
    while i < len(columns):
        group = columns[i].group
        j = i
        while group and j + 1 < len(columns) and columns[j + 1].group == group:
            j += 1
        cells.append(_header_cell(ws, group or columns[i].header))
        cells.extend(_header_cell(ws, None) for _ in range(j - i))
        first, last = get_column_letter(i + 1), get_column_letter(j + 1)
        if group and j > i:
            ws.merged_cells.add(f"{first}{row}:{last}{row}")
        elif not group:
            ws.merged_cells.add(f"{first}{row}:{first}{row + 1}")
        i = j + 1
    ws.append(cells)


def _write_sheet(wb: Workbook, sheet: Sheet, title: str) -> None:
    ws = wb.create_sheet(title)
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    grouped = any(c.group for c in sheet.columns)
    first_header = len(sheet.title_rows) + 1
    header_row = first_header + (1 if grouped else 0)
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{first_header}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    for line in sheet.title_rows:
        cell = WriteOnlyCell(ws, value=line)
        cell.font = Font(bold=True, size=13)
        ws.append([cell])
    if grouped:
        _write_group_row(ws, sheet.columns, first_header)
    ws.append(
        [_header_cell(ws, None if grouped and not c.group else c.header) for c in sheet.columns]
    )
    formats = [c.number_format for c in sheet.columns]
    if not any(formats):
        for row in sheet.rows:
            ws.append(row)
        return
    # One styled cell per formatted column, refilled for every row: a write-only sheet writes
    # each appended row out at once, so the cell is free again by the next row, and the style
    # is looked up once per column instead of once per cell.
    styled: list[WriteOnlyCell | None] = []
    for fmt in formats:
        cell = None
        if fmt is not None:
            cell = WriteOnlyCell(ws)
            cell.number_format = fmt
        styled.append(cell)
    for row in sheet.rows:
        out = []
        for value, cell in zip(row, styled, strict=False):
            if cell is None or value is None:
                out.append(value)
            else:
                cell.value = value
                out.append(cell)
        ws.append(out)
