"""Spreadsheets the way officials print them: Chinese headers in bold on a frozen first row,
column widths that fit, repeated header rows on every printed page.

Workbooks are written in openpyxl's write-only mode from row generators, so memory stays flat
however many rows an export has. The data rows go below ``append``: see ``_Rows``.

That leans on openpyxl's private write-only internals, hence the 3.1 pin in pyproject.toml. The
public routes were measured against it on 2026-12-07 (docs/BENCHMARKS.md): openpyxl's public
``append`` with a styled cell per formatted value took about 2.1× bare openpyxl (this writer
0.75×; the target is 1.2×). XlsxWriter's ``constant_memory`` mode took 1.4× on a tenth of the
nation and 0.9× in one national run, but in that mode it cannot merge a header over two rows (the
grouped headers), and it writes a carriage return in a way openpyxl does not read back. Both are
kept as ``bench/xlsx_openpyxl_public.py`` and ``bench/xlsx_xlsxwriter.py``, to measure again
(``bench/evaluation_bench.py --writers portal,openpyxl-public,xlsxwriter``) before moving off the
pin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import LXML, Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
SIGNOFF_ALIGN = (
    Alignment(horizontal="left"),
    Alignment(horizontal="center"),
    Alignment(horizontal="right"),  # overflows leftwards, so it stays on the printed page
)


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
    signoff: SignOff | None = None  # the row under the title a bureau's form carries


@dataclass(frozen=True)
class SignOff:
    """填报单位, 负责人 and 填报日期, written as one row under the title rows. ``head`` left
    empty gives a line to sign on."""

    unit: str
    on: date
    head: str = ""

    def cells(self) -> list[str]:
        on = _("%(year)d年%(month)d月%(day)d日") % {
            "year": self.on.year,
            "month": self.on.month,
            "day": self.on.day,
        }
        return [
            _("填报单位:%(unit)s") % {"unit": self.unit or "_" * 16},
            _("负责人:%(head)s") % {"head": self.head or "_" * 12},
            _("填报日期:%(date)s") % {"date": on},
        ]


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    wb = Workbook(write_only=True)
    used: set[str] = set()
    numbers = _NumberText()
    for sheet in sheets:
        _write_sheet(wb, sheet, _unique_title(sheet.title, used), numbers)
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


def _write_group_row(ws, rows: _Rows, columns: Sequence[Column], row: int) -> None:
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
    rows.cells(cells)


def _signoff_row(ws, signoff: SignOff, width: int) -> list[WriteOnlyCell | None]:
    """The sign-off's three cells spread over the columns: the unit at the left, the head in
    the middle, the date at the right edge."""
    places = [0, width // 2, width - 1] if width >= 3 else [0, 1, 2]
    row: list[WriteOnlyCell | None] = [None] * (places[-1] + 1)
    for place, text, align in zip(places, signoff.cells(), SIGNOFF_ALIGN, strict=True):
        cell = WriteOnlyCell(ws, value=text)
        cell.alignment = align
        row[place] = cell
    return row


def _write_sheet(wb: Workbook, sheet: Sheet, title: str, numbers: _NumberText) -> None:
    ws = wb.create_sheet(title)
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    grouped = any(c.group for c in sheet.columns)
    first_header = len(sheet.title_rows) + (1 if sheet.signoff else 0) + 1
    header_row = first_header + (1 if grouped else 0)
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{first_header}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    # Everything above is written at the top of the sheet's file, which _Rows starts.
    rows = _Rows(ws, sheet.columns, numbers)
    try:
        for line in sheet.title_rows:
            cell = WriteOnlyCell(ws, value=line)
            cell.font = Font(bold=True, size=13)
            rows.cells([cell])
        if sheet.signoff:
            rows.cells(_signoff_row(ws, sheet.signoff, len(sheet.columns)))
        if grouped:
            _write_group_row(ws, rows, sheet.columns, first_header)
        rows.cells(
            [_header_cell(ws, None if grouped and not c.group else c.header) for c in sheet.columns]
        )
        for row in sheet.rows:
            rows.values(row)
    except BaseException:
        rows.abandon()
        raise
    # Closed now rather than at save: each open sheet holds a file open, and a national export
    # has thousands of sheets.
    ws.close()


class _SheetFileWriter(WorksheetWriter):
    """openpyxl's worksheet writer, with lxml writing into a file object of ours instead of
    opening the sheet's temporary file itself, so that ``_Rows`` can write rendered rows into
    the same file between lxml's own writes."""

    def get_stream(self):
        # As WorksheetWriter.get_stream, but for the file object.
        with open(self.out, "wb") as self.file, xmlfile(self.file) as xf:
            with xf.element("worksheet", xmlns=SHEET_MAIN_NS):
                try:
                    while True:
                        el = yield
                        if el is True:
                            yield xf
                        elif el is not None:
                            xf.write(el)
                except GeneratorExit:
                    pass


# Strings openpyxl would store as a formula or an error value. An export's text comes from
# people (a resident's name, a hall's address): it is written as text, never as a formula that
# a spreadsheet would run when the file is opened (formula injection).
_NOT_TEXT = frozenset(ERROR_CODES)


# A CSV cell that starts with one of these is run as a formula by Excel and LibreOffice. Written
# with a leading apostrophe (OWASP's advice), which the spreadsheet shows as plain text and
# ``csv_value`` takes off again when the file comes back.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def csv_value(cell: str) -> str:
    """The value ``csv_cell`` wrote."""
    if cell.startswith("'") and cell[1:2] and cell[1:].startswith(CSV_FORMULA_STARTS):
        return cell[1:]
    return cell


def _as_text(ws, value: str, number_format: str | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    if number_format is not None:
        cell.number_format = number_format
    return cell


_NUMBERS = (int, float, Decimal)
_MAX_TEXT = 32767  # Excel's limit; openpyxl truncates to it


class _NumberText(dict):
    """The text openpyxl's ``safe_string`` gives a number, kept per value for a workbook: an
    export repeats a few thousand values, and formatting a Decimal costs more than the rest of
    its cell."""

    def __missing__(self, value: int | float | Decimal) -> str:
        if len(self) > 50_000:
            self.clear()
        # Not format(): for a Decimal that keeps its trailing zeros ("8.0"), % goes through
        # float as openpyxl does ("8").
        text = "%.16g" % value  # noqa: UP031
        if text[-1] in "nf":  # nan, inf: openpyxl writes an empty value
            text = ""
        self[value] = text
        return text


class _Rows:
    """The rows of a write-only sheet, written below ``ws.append``.

    ``append`` makes a cell object per value, raises and catches a ValueError for every cell
    with a number format (then makes a fresh cell for the next value), and makes four lxml
    calls per cell; a formatted cell costs about twice a plain one. Here the title and header
    rows still go through openpyxl's cell writer
    (``cells``), but a data row of plain values (text, numbers, None) is rendered to XML in one
    string, with each column's style id looked up once, and written straight into the sheet's
    file (``values``): the same ``<c>`` elements openpyxl writes, inline strings included. Any
    other value (a date) sends its row through openpyxl. Either way a string is text, also one
    that starts with "=" (see ``_NOT_TEXT``).

    openpyxl's ``WriteOnlyWorksheet.close`` (at save) closes these rows through ``ws._rows``,
    then writes the sheet's tail (merged cells, page setup) after them.
    """

    def __init__(self, ws, columns: Sequence[Column], numbers: _NumberText):
        self._ws = ws
        self._writer = ws._writer = _SheetFileWriter(ws)
        self._writer.write_top()
        ws._rows = self
        self._xf = self._writer.xf.send(True)
        self._sheet_data = self._xf.element("sheetData")
        self._sheet_data.__enter__()
        self._row = 0
        self._lxml_pending = True  # lxml holds output not yet handed to our file object
        self._raw = LXML  # et_xmlfile, openpyxl's fallback, offers no flush
        self._styled: list[WriteOnlyCell | None] = []
        self._columns: list[tuple[str, str]] = []
        for i, column in enumerate(columns, start=1):
            cell = style = None
            if column.number_format is not None:
                cell = WriteOnlyCell(ws)
                cell.number_format = column.number_format
                style = f' s="{cell.style_id}"'
            self._styled.append(cell)
            self._columns.append((get_column_letter(i), style or ""))
        self._numbers = numbers

    def cells(self, values: Sequence[Any]) -> None:
        """A row of values and WriteOnlyCells, written by openpyxl."""
        self._row += 1
        self._writer.write_row(self._xf, self._ws._values_to_row(values, self._row), self._row)
        self._lxml_pending = True

    def values(self, values: Sequence[Any]) -> None:
        """A data row: each value in its column's number format."""
        if not isinstance(values, list | tuple):
            values = list(values)
        xml = self._render(values, self._row + 1) if self._raw else None
        if xml is None:
            # One styled cell per formatted column, refilled for every row: openpyxl writes
            # the row out at once, so the cell is free again by the next row.
            out = []
            for i, value in enumerate(values):
                cell = self._styled[i] if i < len(self._styled) else None
                if (
                    isinstance(value, str)
                    and value[:1] in ("=", "#")
                    and (value[0] == "=" or value in _NOT_TEXT)
                ):
                    out.append(_as_text(self._ws, value, cell and cell.number_format))
                elif cell is None or value is None:
                    out.append(value)
                else:
                    cell.value = value
                    out.append(cell)
            self.cells(out)
            return
        self._row += 1
        if self._lxml_pending:
            self._xf.flush()
            self._lxml_pending = False
        self._writer.file.write(xml)

    def _render(self, values: Sequence[Any], row: int) -> bytes | None:
        """The row's XML as openpyxl's lxml cell writer writes it, or None to leave the row to
        openpyxl."""
        if len(values) > len(self._columns):
            return None
        r = str(row)
        out = [f'<row r="{r}">']
        append = out.append
        numbers = self._numbers
        for value, (letter, style) in zip(values, self._columns, strict=False):
            kind = type(value)
            if kind is str:
                if not value:
                    append(f'<c r="{letter}{r}"{style} t="inlineStr"/>')
                    continue
                if len(value) > _MAX_TEXT:
                    value = value[:_MAX_TEXT]
                space = ' xml:space="preserve"' if value != value.strip() else ""
                if "&" in value or "<" in value or ">" in value or "\r" in value:
                    value = (
                        value.replace("&", "&amp;")
                        .replace("<", "&lt;")
                        .replace(">", "&gt;")
                        .replace("\r", "&#13;")
                    )
                append(
                    f'<c r="{letter}{r}"{style} t="inlineStr"><is><t{space}>{value}</t></is></c>'
                )
            elif kind in _NUMBERS:
                append(f'<c r="{letter}{r}"{style} t="n"><v>{numbers[value]}</v></c>')
            elif value is not None:
                return None
        append("</row>")
        xml = "".join(out)
        if ILLEGAL_CHARACTERS_RE.search(xml):
            return None  # openpyxl raises IllegalCharacterError for it
        try:
            return xml.encode()
        except UnicodeEncodeError:
            return None

    def close(self) -> None:
        self._sheet_data.__exit__(None, None, None)
        self._writer.xf.send(None)
        # The sheet, and these rows through it, stay in the workbook until it is saved.
        self._styled = self._columns = []

    def abandon(self) -> None:
        """After a failure: close the sheet's file and remove it."""
        self._sheet_data.__exit__(None, None, None)
        self._writer.close()
        self._writer.cleanup()
