"""``write_workbook`` through openpyxl's public write-only API only, for
``bench/evaluation_bench.py --writers openpyxl-public``: ``ws.append`` of plain values, with a
``WriteOnlyCell`` where a cell needs a style (a header, a column's number format). The same
interface and the same cells read back as ``common.xlsx`` (the bench checks it on the export).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.xlsx import Column, Sheet, _unique_title  # noqa: E402

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TITLE_FONT = Font(bold=True, size=13)


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    wb = Workbook(write_only=True)
    used: set[str] = set()
    for sheet in sheets:
        _write_sheet(wb, sheet, _unique_title(sheet.title, used))
    wb.save(target)


def _header_cell(ws, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
    return cell


def _group_row(ws, columns: Sequence[Column], row: int) -> list[WriteOnlyCell]:
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
    return cells


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
        cell.font = TITLE_FONT
        ws.append([cell])
    if grouped:
        ws.append(_group_row(ws, sheet.columns, first_header))
    ws.append(
        [_header_cell(ws, None if grouped and not c.group else c.header) for c in sheet.columns]
    )
    append, data_row = ws.append, _DataRows(ws, sheet.columns)
    for row in sheet.rows:
        append(data_row(row))
    # Closed now rather than at save: each open sheet holds a file open, and a national export
    # has thousands of sheets.
    ws.close()


# Strings openpyxl would store as a formula ("=…", "=" alone is text) or an error value
# ("#N/A"). An export's text comes from people (a resident's name, a hall's address): it is
# written as text, never as a formula that a spreadsheet would run when the file is opened
# (formula injection).
_NOT_TEXT_START = ("=", "#")


class _DataRows:
    """A data row as ``append`` takes it: a plain value where the column has no number format,
    and that column's own styled cell, refilled for every row, where it has one (``append``
    writes a row out before it returns, so the cell is free again by the next row). A value
    openpyxl would not store as plain text or a number gets a cell of its own: a string that
    looks like a formula (forced to text) or a date (so that a column without a date format
    gets openpyxl's, and the refilled cell keeps the column's)."""

    def __init__(self, ws, columns: Sequence[Column]):
        self._ws = ws
        self._formats = [c.number_format for c in columns]
        self._styled: list[WriteOnlyCell | None] = []
        for fmt in self._formats:
            cell = None
            if fmt is not None:
                cell = WriteOnlyCell(ws)
                cell.number_format = fmt
            self._styled.append(cell)
        self._width = len(columns)

    def __call__(self, values: Sequence[Any]) -> list[Any]:
        out = list(values)
        styled = self._styled
        for i, value in enumerate(out):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if value[:1] in _NOT_TEXT_START:
                    out[i] = self._text(i, value)
                elif i < self._width and styled[i] is not None:
                    cell = styled[i]
                    cell.value = value
                    out[i] = cell
            elif i < self._width and styled[i] is not None:
                if kind is int or kind is float or kind is Decimal:
                    cell = styled[i]
                    cell.value = value
                    out[i] = cell
                else:
                    out[i] = self._other(i, value)
            elif isinstance(value, str):  # a str subclass (SafeString)
                out[i] = self._text(i, str(value)) if value[:1] in _NOT_TEXT_START else str(value)
        return out

    def _format(self, i: int) -> str | None:
        return self._formats[i] if i < self._width else None

    def _text(self, i: int, value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._ws, value=value)
        cell.data_type = "s"
        if (fmt := self._format(i)) is not None:
            cell.number_format = fmt
        return cell

    def _other(self, i: int, value: Any) -> WriteOnlyCell:
        """A value of another kind (a date, a bool) in a column with a number format."""
        cell = WriteOnlyCell(self._ws)
        cell.number_format = self._formats[i]
        cell.value = value  # a date keeps a date format, else gets openpyxl's
        if isinstance(value, str):
            cell.data_type = "s"
        return cell
