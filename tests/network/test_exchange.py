from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from network import services
from network.exchange import COLUMNS, ImportRejected, export_network, import_network
from network.models import Hall, HallKind, HallStatus, Operator

pytestmark = pytest.mark.django_db

HEADER = [c.header for c in COLUMNS]


def snapshot() -> list[dict]:
    return list(Hall.objects.order_by("pk").values())


def write_csv(path, rows, header=None):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or ["编码", "名称", "所在地名", "层级", "上级编码", "上级编号"])
        writer.writerows(rows)
    return path


def rejected(path) -> list[str]:
    with pytest.raises(ImportRejected) as exc:
        import_network(path)
    return [str(e) for e in exc.value.errors]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_importing_an_export_again_changes_nothing(cast, tmp_path, suffix):
    services.hall_update(
        hall=cast.point,
        latitude=Decimal("25.040123"),
        longitude=Decimal("102.712251"),
        operator=Operator.SCHOOL,
        operator_name="关上中学",
        services="阅览\n培训, “广场舞”",
        phone="0871-63100000",
    )
    services.hall_create(parent=cast.other_branch, name="无编码服务点", locality="无编码社区")
    before = snapshot()
    path = tmp_path / f"halls{suffix}"

    assert export_network(path) == len(before)
    result = import_network(path)

    assert (result.created, result.updated, result.moved) == (0, 0, 0)
    assert result.unchanged == len(before)
    assert snapshot() == before


def test_the_csv_opens_in_excel_and_lists_parents_before_children(cast, tmp_path):
    path = tmp_path / "halls.csv"
    export_network(path)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == HEADER
    codes = [r[1] for r in rows[1:]]
    for row in rows[1:]:
        if row[5]:
            assert codes.index(row[5]) < codes.index(row[1])
    point = next(r for r in rows if r[1] == cast.point.code)
    assert point[4] == "基层服务点" and point[7] == "开放" and point[8] == "政府主办"
    assert point[16] == "官渡区文化馆关上街道分馆关上一社区基层服务点"


def test_an_xlsx_export_keeps_codes_as_text(cast, tmp_path):
    path = tmp_path / "halls.xlsx"
    export_network(path, top=cast.county)

    ws = load_workbook(path, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [r[1] for r in rows[1:]] == [
        "530111",
        "530111001",
        "530111001001",
        "530111001002",
        "530111002",
        "530111002001",
    ]
    assert rows[1][5] == "530100"


def test_an_import_creates_a_township_with_its_villages_in_one_file(cast, tmp_path):
    path = write_csv(
        tmp_path / "new.csv",
        [
            ["530111003", "小板桥街道综合文化站", "小板桥街道", "分馆", "530111", ""],
            [
                "530111003001",
                "小板桥社区综合文化服务中心",
                "小板桥社区",
                "基层服务点",
                "530111003",
                "",
            ],
            ["", "云溪村综合文化服务中心", "云溪村", "point", "530111003", ""],
            ["", "太和二社区服务中心", "太和二社区", "基层服务点", "", str(cast.other_branch.pk)],
        ],
    )

    result = import_network(path)

    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    branch = Hall.objects.get(code="530111003")
    assert (branch.kind, branch.parent_id, branch.main_hall_id) == (
        HallKind.BRANCH,
        cast.county.pk,
        cast.county.pk,
    )
    village = Hall.objects.get(name="云溪村综合文化服务中心")
    assert village.code is None and village.branch_hall_id == branch.pk
    assert village.plaque_name == "官渡区文化馆小板桥街道分馆云溪村基层服务点"
    assert Hall.objects.get(locality="太和二社区").parent_id == cast.other_branch.pk
    call_command("check_tree")


def test_an_import_updates_changed_halls_only_and_moves_a_point(cast, tmp_path):
    untouched = Hall.objects.get(pk=cast.other_county_point.pk).updated_at
    path = write_csv(
        tmp_path / "edit.csv",
        [
            ["530111001", "关上街道文化站", "关上", "分馆", "530111", "", "待建"],
            ["530111001002", "关上二社区服务中心", "关上二社区", "基层服务点", "530111002", "", ""],
            ["530102001001", "华山一社区服务中心", "华山一社区", "基层服务点", "530102001", "", ""],
        ],
        header=["编码", "名称", "所在地名", "层级", "上级编码", "上级编号", "状态"],
    )

    result = import_network(path)

    assert (result.created, result.updated, result.moved, result.unchanged) == (0, 1, 1, 1)
    branch = Hall.objects.get(pk=cast.branch.pk)
    assert (branch.name, branch.status) == ("关上街道文化站", HallStatus.PLANNED)
    assert (
        Hall.objects.get(pk=cast.point.pk).plaque_name == "官渡区文化馆关上分馆关上一社区基层服务点"
    )
    moved = Hall.objects.get(pk=cast.point2.pk)
    assert (moved.parent_id, moved.branch_hall_id) == (cast.other_branch.pk, cast.other_branch.pk)
    assert moved.plaque_name == "官渡区文化馆太和街道分馆关上二社区基层服务点"
    assert Hall.objects.get(pk=cast.other_county_point.pk).updated_at == untouched
    call_command("check_tree")


def test_english_field_names_and_values_are_accepted_as_headers(cast, tmp_path):
    path = write_csv(
        tmp_path / "en.csv",
        [["530102002", "护国街道综合文化站", "护国街道", "branch", "530102", "closed", "school"]],
        header=["code", "name", "locality", "kind", "parent_code", "status", "operator"],
    )

    import_network(path)

    hall = Hall.objects.get(code="530102002")
    assert (hall.status, hall.operator) == (HallStatus.CLOSED, Operator.SCHOOL)


def test_an_xlsx_written_by_hand_with_numeric_codes_imports(cast, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["编码", "名称", "所在地名", "层级", "上级编码", "纬度", "经度"])
    ws.append([530102003, "大观街道综合文化站", "大观街道", "分馆", 530102, 25.03, 102.7])
    path = tmp_path / "hand.xlsx"
    wb.save(path)

    import_network(path)

    hall = Hall.objects.get(code="530102003")
    assert (hall.latitude, hall.longitude) == (Decimal("25.03"), Decimal("102.7"))


BAD_FILES = {
    "unknown kind": (
        [["530111009", "某站", "某街道", "文化站", "530111", ""]],
        "第 2 行“层级”列:应为 中心馆、总馆、分馆、基层服务点 之一(或命名规则给该层级的名称,如 支馆),不是“文化站”。",
    ),
    "point under a point": (
        [["530111001001009", "某点", "某村", "基层服务点", "530111001001", ""]],
        "第 2 行“上级编码”列:基层服务点是最末一级,不能在“关上一社区服务中心”下再设下级馆。",
    ),
    "duplicate code within the file": (
        [
            ["530111009", "甲站", "甲街道", "分馆", "530111", ""],
            ["530111009", "乙站", "乙街道", "分馆", "530111", ""],
        ],
        "第 3 行“编码”列:编码“530111009”与第 2 行重复。",
    ),
    "missing parent": (
        [["530111009", "某站", "某街道", "分馆", "539999", ""]],
        "第 2 行“上级编码”列:找不到编码为“539999”的上级馆。",
    ),
    "parent after its child": (
        [
            ["530111009001", "某点", "某村", "基层服务点", "530111009", ""],
            ["530111009", "某站", "某街道", "分馆", "530111", ""],
        ],
        "第 2 行“上级编码”列:上级馆在第 3 行,须排在本行之前(先上级、后下级)。",
    ),
    "kind that does not fit the parent": (
        [["530111009", "某站", "某街道", "基层服务点", "530111", ""]],
        "第 2 行“层级”列:“官渡区文化馆”是总馆,其下级应为分馆,不是基层服务点。",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_row_is_refused_with_its_row_and_column_and_nothing_is_written(cast, tmp_path, case):
    rows, message = BAD_FILES[case]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = snapshot()

    assert rejected(path) == [message]
    assert snapshot() == before


def test_an_id_the_database_never_gave_out_is_refused(cast, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [["99999", "", "某站", "某街道", "分馆", "530111"]],
        header=["编号", "编码", "名称", "所在地名", "层级", "上级编码"],
    )

    assert rejected(path) == ["第 2 行“编号”列:没有编号为 99999 的馆;新增的馆请将编号留空。"]


def test_a_code_taken_by_another_hall_in_the_database_is_refused(cast, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [[cast.branch.pk, "530111002", "关上街道综合文化站", "关上街道", "分馆", "530111"]],
        header=["编号", "编码", "名称", "所在地名", "层级", "上级编码"],
    )
    before = snapshot()

    assert rejected(path) == [
        f"第 2 行“编码”列:编码“530111002”已被“太和街道综合文化站”(编号 {cast.other_branch.pk})使用。"
    ]
    assert snapshot() == before


def test_every_error_of_the_file_is_listed_at_once(cast, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["530111009", "某站", "某街道", "分馆", "530111", "", "北纬25度"],
            ["530111010", "", "某街道", "分馆", "530111", "", "95"],
            ["530111011", "好站", "好街道", "分馆", "530111", "", "25.1"],
        ],
        header=["编码", "名称", "所在地名", "层级", "上级编码", "上级编号", "纬度"],
    )
    before = snapshot()

    errors = rejected(path)

    assert errors[0] == "第 2 行“纬度”列:应为数字,如 25.040000,不是“北纬25度”。"
    assert errors[1].startswith("第 3 行“名称”列:")
    assert errors[2].startswith("第 3 行“纬度”列:")
    assert len(errors) == 3
    assert snapshot() == before


def test_a_wrong_header_names_the_unknown_and_the_missing_columns(cast, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [["530111009", "某站", "某街道", "分馆", "530111"]],
        header=["编码", "名字", "所在地名", "层级", "上级编码"],
    )

    errors = rejected(path)

    assert errors[0].startswith("第 1 行:表头有未知的列“名字”。")
    assert errors[1].startswith("第 1 行:表头缺少必需的列:名称。")


def test_empty_files_and_wrong_extensions_are_refused(db, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text(",".join(HEADER) + "\n", encoding="utf-8-sig")
    (tmp_path / "halls.txt").write_text("编码\n", encoding="utf-8")
    (tmp_path / "fake.xlsx").write_text("不是 Excel", encoding="utf-8")

    assert rejected(tmp_path / "empty.csv") == ["文件是空的:没有表头,也没有数据行。"]
    assert rejected(tmp_path / "header.csv") == ["文件只有表头,没有数据行。"]
    assert rejected(tmp_path / "halls.txt") == ["只支持 .xlsx 和 .csv 文件,不支持“.txt”。"]
    assert rejected(tmp_path / "fake.xlsx")[0].startswith("无法读取 Excel 文件")
    assert not Hall.objects.exists()


def test_a_gb18030_csv_saved_by_excel_imports(cast, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        "编码,名称,所在地名,层级,上级编码\n530102004,护国站,护国街道,分馆,530102\n".encode(
            "gb18030"
        )
    )

    import_network(path)

    assert Hall.objects.get(code="530102004").name == "护国站"


def test_the_commands_report_success_and_failure(cast, tmp_path, capsys):
    good = tmp_path / "halls.xlsx"
    call_command("export_network", str(good))
    assert "已导出 10 个馆" in capsys.readouterr().out
    call_command("import_network", str(good))
    assert "未变 10 个" in capsys.readouterr().out

    bad = write_csv(tmp_path / "bad.csv", [["530111009", "某站", "某街道", "文化站", "530111", ""]])
    with pytest.raises(CommandError) as exc:
        call_command("import_network", str(bad))
    assert "导入失败,未写入任何数据。共 1 处错误" in str(exc.value)
    assert "第 2 行“层级”列" in str(exc.value)
