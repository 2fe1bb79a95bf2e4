"""``write_workbook`` through XlsxWriter's public API in ``constant_memory`` mode, for
``bench/evaluation_bench.py --writers xlsxwriter``: the same interface as ``common.xlsx``, and on
the assessment export the same cells read back (the bench checks it). Measured on 2026-12-07 and
not taken (docs/BENCHMARKS.md): slower than the writer in ``common.xlsx``, and it cannot do
everything that writer does:

* **A header merged over two rows.** In ``constant_memory`` mode a row is written out as soon as
  a cell of a later row is written, and ``merge_range`` over two rows writes both, so the second
  such merge finds its first row gone (``merge_range`` returns -1). The grouped headers of the
  statistics and coverage exports need several (``_group_row`` tries them in order; the first
  test of tests/common/test_xlsx.py fails on it). XlsxWriter's author declines to support it
  (libxlsxwriter issue 435).
* **Control characters in text.** An inline string's "\\r" is written as ``_x000D_`` and a
  literal ``_x0041_`` as ``_x005F_x0041_``. Excel turns them back; openpyxl does not, so an
  address typed in a browser's text box (CRLF) reads back changed, and ``import_network`` of an
  exported file would see a change. (Other control characters are refused here, as openpyxl
  does.)
* **One open file per sheet** until the workbook is closed: at the common limit of 1,024 open
  files it fails after about 1,019 sheets; a national export has 2,941.
* The header fill reads back as ``FFDDEBF7`` (openpyxl writes ``00DDEBF7``): Excel ignores the
  alpha, but tests/common/test_xlsx.py checks it.

Column widths are given in pixels (``set_column_pixels``), 7 a character, so that the file holds
the same width as openpyxl's (XlsxWriter's ``set_column`` adds its padding to the width).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import IllegalCharacterError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.xlsx import Column, Sheet, _unique_title  # noqa: E402

_MAX_TEXT = 32767
# openpyxl's formats for a date without one of its own, so that it reads back as a date.
_DATE_FORMATS = {
    dt.datetime: "yyyy-mm-dd h:mm:ss",
    dt.date: "yyyy-mm-dd",
    dt.time: "h:mm:ss",
    dt.timedelta: "[hh]:mm:ss",
}
_DATE_CODES = ("d", "m", "y", "h", "s")


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    wb = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    formats = _Formats(wb)
    used: set[str] = set()
    try:
        for sheet in sheets:
            _write_sheet(wb, sheet, _unique_title(sheet.title, used), formats)
    finally:
        wb.close()


class _Formats(dict):
    def __init__(self, wb):
        super().__init__()
        self._wb = wb
        self.header = wb.add_format(
            {
                "bold": True,
                "pattern": 1,
                "fg_color": "#DDEBF7",
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.title = wb.add_format({"bold": True, "font_size": 13})

    def __missing__(self, number_format: str):
        fmt = self[number_format] = self._wb.add_format({"num_format": number_format})
        return fmt


def _text(value) -> str:
    value = str(value)
    if ILLEGAL_CHARACTERS_RE.search(value):
        raise IllegalCharacterError(f"{value!r} cannot be used in worksheets.")
    return value[:_MAX_TEXT]


def _group_row(ws, columns: Sequence[Column], row: int, fmt) -> None:
    """The group row and the header row below it, merged as ``common.xlsx`` merges them. Only
    the first merge over two rows takes: see the module's docstring."""
    i = 0
    while i < len(columns):
        group = columns[i].group
        j = i
        while group and j + 1 < len(columns) and columns[j + 1].group == group:
            j += 1
        if group and j > i:
            ws.merge_range(row, i, row, j, _text(group), fmt)
        elif group:
            ws.write_string(row, i, _text(group), fmt)
        else:
            ws.merge_range(row, i, row + 1, i, _text(columns[i].header), fmt)
        i = j + 1


def _write_sheet(wb, sheet: Sheet, title: str, formats: _Formats) -> None:
    ws = wb.add_worksheet(title)
    columns = list(sheet.columns)
    for i, column in enumerate(columns):
        # openpyxl's width is the file's own; XlsxWriter's is in characters and adds the
        # padding: the same pixels give the same file width.
        ws.set_column_pixels(i, i, round(column.width * 7))
    grouped = any(c.group for c in columns)
    first_header = len(sheet.title_rows)  # zero-based from here on
    header_row = first_header + (1 if grouped else 0)
    ws.freeze_panes(header_row + 1, 0)
    ws.repeat_rows(first_header, header_row)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    for r, line in enumerate(sheet.title_rows):
        ws.write_string(r, 0, _text(line), formats.title)
    if grouped:
        _group_row(ws, columns, first_header, formats.header)
    header = formats.header
    for c, column in enumerate(columns):
        if grouped and not column.group:
            ws.write_blank(header_row, c, None, header)
        else:
            ws.write_string(header_row, c, _text(column.header), header)
    styles = [formats[c.number_format] if c.number_format else None for c in columns]
    ncols = len(styles)
    write_string, write_number = ws.write_string, ws.write_number
    r = header_row
    for values in sheet.rows:
        r += 1
        for c, value in enumerate(values):
            if value is None:
                continue
            style = styles[c] if c < ncols else None
            kind = type(value)
            if kind is str:
                if ILLEGAL_CHARACTERS_RE.search(value):
                    raise IllegalCharacterError(f"{value!r} cannot be used in worksheets.")
                write_string(r, c, value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT], style)
            elif kind is int or kind is float or kind is Decimal:
                try:
                    # A Decimal through float, as openpyxl writes it ("8", not "8.0").
                    write_number(r, c, float(value) if kind is Decimal else value, style)
                except TypeError:  # NaN or infinity: openpyxl writes an empty value
                    ws.write_blank(r, c, None, style)
            else:
                _write_other(ws, formats, r, c, value, columns[c] if c < ncols else None)


def _write_other(ws, formats, r, c, value, column) -> None:
    if isinstance(value, bool):
        ws.write_boolean(
            r, c, value, formats[column.number_format] if column and column.number_format else None
        )
    elif isinstance(value, str):
        style = formats[column.number_format] if column and column.number_format else None
        ws.write_string(r, c, _text(value), style)
    elif isinstance(value, int | float | Decimal):
        style = formats[column.number_format] if column and column.number_format else None
        ws.write_number(r, c, value, style)
    elif isinstance(value, dt.date | dt.time | dt.timedelta):
        fmt = column.number_format if column else None
        if not fmt or not any(code in fmt.lower() for code in _DATE_CODES):
            fmt = next(f for t, f in _DATE_FORMATS.items() if isinstance(value, t))
        ws.write_datetime(r, c, value, formats[fmt])
    else:
        raise ValueError(f"Cannot convert {value!r} to Excel")
