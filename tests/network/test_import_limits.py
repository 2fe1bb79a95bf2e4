"""import_network reads a file as a stream and refuses one beyond its limits early: a zip bomb
before any of it is unpacked, too many rows, columns or characters at the row that passes the
limit, each with its row (and column), and nothing written."""

from __future__ import annotations

import csv
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from network.exchange import COLUMNS, ImportRejected, export_network, import_network
from network.models import Hall

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
HEADER_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
FOOTER_XML = b"</sheetData></worksheet>"


def rejected(path) -> list[str]:
    with pytest.raises(ImportRejected) as exc:
        import_network(path)
    return [str(e) for e in exc.value.errors]


def bomb_xlsx(path, *, megabytes: int = 200):
    """A real workbook whose sheet is ``megabytes`` of the same row of 17 cells, packed to
    about a thousandth of that: built at run time, streamed into the zip."""
    Workbook().save(path)
    with zipfile.ZipFile(path) as small:
        parts = {name: small.read(name) for name in small.namelist() if name != SHEET}

    def row(texts) -> bytes:
        cells = (f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in texts)
        return ("<row>" + "".join(cells) + "</row>").encode()

    header = row(c.header for c in COLUMNS)
    row = row(["文化馆"] * len(COLUMNS))
    block = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        with archive.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(HEADER_XML + header)
            for _ in range(megabytes):
                sheet.write(block)
            sheet.write(FOOTER_XML)
    return path


def peak_mb(fn) -> tuple[list[str], float]:
    tracemalloc.start()
    try:
        errors = fn()
        return errors, tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(db, tmp_path):
    path = bomb_xlsx(tmp_path / "bomb.xlsx")
    info = zipfile.ZipFile(path).getinfo(SHEET)
    assert info.file_size > 200_000_000 and path.stat().st_size < 2 * 1024 * 1024

    errors, peak = peak_mb(lambda: rejected(path))

    assert len(errors) == 1 and "压缩比异常" in errors[0] and SHEET in errors[0]
    assert peak < 20  # the directory is read, never the sheet
    assert not Hall.objects.exists()


def test_a_bomb_that_passes_the_zip_checks_is_read_as_a_stream_and_stopped_at_the_row_limit(
    db, tmp_path, settings
):
    settings.IMPORT_MAX_ZIP_RATIO = 10_000
    settings.IMPORT_MAX_ROWS = 1_000
    path = bomb_xlsx(tmp_path / "bomb.xlsx", megabytes=20)

    errors, peak = peak_mb(lambda: rejected(path))

    assert errors == ["第 1002 行:文件超过 1000 行数据的上限,未导入;请分成几个文件。"]
    assert peak < 100  # a thousand parsed rows, not 20 MB of XML as cells
    assert not Hall.objects.exists()


def test_the_unpacked_size_of_an_xlsx_is_capped(cast, tmp_path, settings):
    path = tmp_path / "halls.xlsx"
    export_network(path)
    settings.IMPORT_MAX_UNZIPPED_MB = 0
    assert rejected(path) == ["Excel 文件解压后超过 0 MB 的上限,未导入。"]


def test_a_file_that_is_not_a_zip_is_refused(db, tmp_path):
    path = tmp_path / "halls.xlsx"
    path.write_bytes(b"not a zip at all")
    assert rejected(path) == ["无法读取 Excel 文件:BadZipFile"]


def write(path, rows):
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(rows)
    else:
        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(path)
    return path


HEAD = ["编码", "名称", "所在地名", "层级", "上级编码"]


def rows_below_the_cast(n: int) -> list[list[str]]:
    return [
        [f"5301119{i:02}", f"新服务点{i}", f"新社区{i}", "基层服务点", "530111001"]
        for i in range(n)
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_beyond_the_limit_are_refused_at_the_first_one(cast, tmp_path, settings, suffix):
    settings.IMPORT_MAX_ROWS = 2
    before = Hall.objects.count()
    path = write(tmp_path / f"halls{suffix}", [HEAD, *rows_below_the_cast(3)])
    assert rejected(path) == ["第 4 行:文件超过 2 行数据的上限,未导入;请分成几个文件。"]
    assert Hall.objects.count() == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_long_cell_is_refused_with_its_row_and_column(cast, tmp_path, settings, suffix):
    settings.IMPORT_MAX_CELL_CHARS = 50
    rows = [HEAD, *rows_below_the_cast(2)]
    rows[2][2] = "长" * 51
    before = Hall.objects.count()
    assert rejected(write(tmp_path / f"halls{suffix}", rows)) == [
        "第 3 行:C 列的内容超过 50 个字符的上限,未导入。"
    ]
    assert Hall.objects.count() == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_too_many_columns_are_refused_with_the_row(cast, tmp_path, settings, suffix):
    settings.IMPORT_MAX_COLUMNS = 6
    rows = [HEAD, *rows_below_the_cast(2)]
    rows[1] += ["", "x", ""]  # trailing blanks do not count
    assert rejected(write(tmp_path / f"halls{suffix}", rows)) == [
        "第 2 行:有 7 列,超过 6 列的上限,未导入。"
    ]


def test_a_csv_larger_than_the_limit_is_refused_unread(cast, tmp_path, settings):
    path = write(tmp_path / "halls.csv", [HEAD, *rows_below_the_cast(2)])
    settings.IMPORT_MAX_UNZIPPED_MB = 0
    assert rejected(path) == ["文件超过 0 MB 的上限,未导入。"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_within_the_limits_imports(cast, tmp_path, settings, suffix):
    settings.IMPORT_MAX_ROWS = 2
    settings.IMPORT_MAX_COLUMNS = 5
    path = write(tmp_path / f"halls{suffix}", [HEAD, *rows_below_the_cast(2)])
    assert import_network(path).created == 2
