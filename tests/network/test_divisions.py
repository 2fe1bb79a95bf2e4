"""import_divisions: the hall network from the statistical division codes, and its yearly update,
on small hand-made editions in the package's CSV layout (and the shipped Yunnan rows)."""

from __future__ import annotations

import gzip
from datetime import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluation.returns.services import return_get_or_create
from network import services
from network.division_update import apply_update, plan_update
from network.divisions import read_edition
from network.models import Hall, HallKind, HallStatus, OpeningHours, Operator
from tests.activities.factories import published_activity

pytestmark = pytest.mark.django_db

HEADERS = {
    "provinces.csv": "code,name",
    "cities.csv": "code,name,provinceCode",
    "areas.csv": "code,name,cityCode,provinceCode",
    "streets.csv": "code,name,areaCode,provinceCode,cityCode",
    "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode",
}

# A small edition: one prefecture city with two counties, a municipality (its 市辖区 and 县
# rows), a province's directly administered counties, and a 虚拟社区 placeholder.
BASE = {
    "provinces.csv": ['53,"云南省"', '50,"重庆市"', '42,"湖北省"'],
    "cities.csv": [
        '5301,"昆明市",53',
        '5001,"市辖区",50',
        '5002,"县",50',
        '4290,"省直辖县级行政区划",42',
    ],
    "areas.csv": [
        '530102,"五华区",5301,53',
        '530111,"官渡区",5301,53',
        '500101,"万州区",5001,50',
        '500229,"城口县",5002,50',
        '429004,"仙桃市",4290,42',
    ],
    "streets.csv": [
        '530102001,"华山街道",530102,53,5301',
        '530111001,"关上街道",530111,53,5301',
        '530111002,"太和街道",530111,53,5301',
        '500101001,"高笋塘街道",500101,50,5001',
        '500229100,"葛城街道",500229,50,5002',
        '429004001,"沙嘴街道",429004,42,4290',
    ],
    "villages.csv": [
        '530102001001,"西仓坡社区居委会",530102001,53,5301,530102',
        '530111001001,"关上社区居民委员会",530111001,53,5301,530111',
        '530111001002,"石桥铺村委会",530111001,53,5301,530111',
        '530111001003,"关上虚拟社区",530111001,53,5301,530111',
        '530111002001,"太和社区居委会",530111002,53,5301,530111',
        '530111002002,"双桥村民委员会",530111002,53,5301,530111',
        '500101001001,"白岩社区居委会",500101001,50,5001,500101',
        '500229100001,"南大街社区居委会",500229100,50,5002,500229',
        '429004001001,"沙嘴村委会",429004001,42,4290,429004',
    ],
}


def write_edition(directory: Path, files: dict[str, list[str]], *, gz: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        data = ("\n".join([HEADERS[name], *rows]) + "\n").encode()
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


def edit(files, name, *, drop=(), add=(), replace=None):
    """A copy of ``files`` with rows of ``name`` whose code is in ``drop`` left out, ``add``
    appended, and ``replace`` {code: row} put in place."""
    replace = replace or {}
    rows = []
    for row in files[name]:
        code = row.split(",")[0]
        if code in drop:
            continue
        rows.append(replace.get(code, row))
    return {**files, name: [*rows, *add]}


def run(source: Path, *args, edition=2023) -> str:
    from io import StringIO

    out = StringIO()
    call_command(
        "import_divisions", "--source", str(source), "--edition", str(edition), *args, stdout=out
    )
    return out.getvalue()


def snapshot() -> list[dict]:
    return list(Hall.objects.order_by("pk").values())


def hall(code: str) -> Hall:
    return Hall.objects.get(code=code)


def test_an_edition_becomes_one_tree_per_city_with_real_codes_names_and_plaques(tmp_path):
    out = run(write_edition(tmp_path / "e", BASE))

    assert "新增 22" in out and "未导入的统计用虚拟社区 1 个" in out
    centres = Hall.objects.filter(kind=HallKind.CENTRE).order_by("code")
    # Chongqing's 市辖区 and 县 rows make one centre named by the municipality; Hubei's
    # directly administered counties one centre named by the province.
    assert [(c.code, c.name) for c in centres] == [
        ("4290", "湖北省文化馆"),
        ("50", "重庆市文化馆"),
        ("5301", "昆明市文化馆"),
    ]
    assert len({c.tree_id for c in centres}) == 3
    assert sorted(hall("50").get_children().values_list("code", flat=True)) == ["500101", "500229"]
    point = hall("530111001001")
    assert (point.kind, point.locality, point.name) == (
        HallKind.POINT,
        "关上社区",
        "关上社区综合文化服务中心",
    )
    assert point.plaque_name == "官渡区文化馆关上街道分馆关上社区基层服务点"
    assert point.parent.code == "530111001" and point.main_hall.code == "530111"
    assert hall("530111001002").locality == "石桥铺村"
    assert hall("530111002").name == "太和街道综合文化站"
    assert not Hall.objects.filter(code="530111001003").exists()  # the placeholder
    assert set(Hall.objects.values_list("division_year", flat=True)) == {2023}
    call_command("check_tree")


def test_the_shipped_yunnan_rows_give_the_real_kunming(capsys):
    call_command("import_divisions", "--city", "5301")

    kunming = hall("5301")
    below = Hall.objects.filter(tree_id=kunming.tree_id)
    assert below.filter(kind=HallKind.MAIN).count() == 14
    assert below.filter(kind=HallKind.BRANCH).count() == 150
    # 1,738 village and community committees, six of them statistical placeholders.
    assert below.filter(kind=HallKind.POINT).count() == 1732
    guanshang = Hall.objects.get(name="关上街道综合文化站")
    assert guanshang.parent.name == "官渡区文化馆"
    assert guanshang.get_children().filter(locality="关上社区").exists()
    # The development zones are township-level entries of the district they are coded in.
    assert hall("530102401").name == "昆明国家高新技术产业开发区综合文化站"
    assert hall("530102401").parent.code == "530102"


def test_a_second_run_of_the_same_edition_changes_nothing(tmp_path):
    source = write_edition(tmp_path / "e", BASE, gz=True)
    run(source)
    before = snapshot()

    out = run(source)

    assert "未变 22" in out and "没有需要写入的变化" in out
    assert snapshot() == before


def test_an_update_applies_each_kind_of_change_and_keeps_what_staff_entered(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    # Staff fill in a village centre and rename a station; they add a 文化大院 as a point and a
    # 特色分馆 of their own.
    services.hall_update(
        hall=hall("530111002002"),
        address="双桥村活动室",
        operator=Operator.SCHOOL,
        operator_name="双桥小学",
    )
    OpeningHours.objects.create(
        hall=hall("530111002002"), weekday=1, opens=time(9), closes=time(17)
    )
    services.hall_update(hall=hall("530111002"), name="太和街道文化服务站")
    yard = services.hall_create(
        parent=hall("530111002"), name="双桥文化大院", locality="双桥文化大院"
    )
    special = services.hall_create(
        parent=hall("530111"), name="官渡古镇特色分馆", locality="官渡古镇"
    )
    guanshang_plaque = hall("530111001001").plaque_name
    # An activity at a village that will be abolished, a yearly return at one that will move.
    activity = published_activity(hall("500101001001"))
    moving_return = return_get_or_create(kind="service", hall=hall("530111001001"), year=2025)
    tree_ids = {c.code: c.tree_id for c in Hall.objects.filter(kind=HallKind.CENTRE)}

    files = edit(
        BASE,
        "streets.csv",
        # 太和街道 renamed; a new township with a village; 高笋塘 abolished.
        replace={"530111002": '530111002,"太和新街道",530111,53,5301'},
        add=['530111003,"矣六街道",530111,53,5301'],
        drop={"500101001"},
    )
    files = edit(
        files,
        "villages.csv",
        drop={"500101001001", "530102001001"},
        replace={
            # renamed
            "530111001002": '530111001002,"石桥铺社区居委会",530111001,53,5301,530111',
            # moved to 太和 with its code
            "530111001001": '530111001001,"关上社区居民委员会",530111002,53,5301,530111',
        },
        add=[
            '530111003001,"矣六村委会",530111003,53,5301,530111',
            # 西仓坡 renumbered into 华山 (recoded): same name, same city
            '530102001009,"西仓坡社区居委会",530102001,53,5301,530102',
        ],
    )
    source = write_edition(tmp_path / "2024", files)

    dry = run(source, "--dry-run", edition=2024)
    assert "新增 2、更名 2、改码 1、迁移 1、撤销(关闭) 2、恢复 0" in dry
    out = run(source, edition=2024)
    assert "已应用" in out

    # new
    assert hall("530111003001").parent.code == "530111003"
    assert hall("530111003").plaque_name == "官渡区文化馆矣六街道分馆"
    # renamed: the plaque follows; a name staff changed is theirs
    assert hall("530111001002").locality == "石桥铺社区"
    assert hall("530111001002").name == "石桥铺社区综合文化服务中心"
    taihe = hall("530111002")
    assert (taihe.locality, taihe.name) == ("太和新街道", "太和街道文化服务站")
    assert hall("530111002002").plaque_name == "官渡区文化馆太和新街道分馆双桥村基层服务点"
    # moved, with its plaque
    moved = hall("530111001001")
    assert moved.parent.code == "530111002"
    assert moved.plaque_name != guanshang_plaque
    assert moved.plaque_name == "官渡区文化馆太和新街道分馆关上社区基层服务点"
    # recoded: the same hall under its new code
    assert not Hall.objects.filter(code="530102001001").exists()
    assert hall("530102001009").locality == "西仓坡社区"
    # abolished: closed, never deleted
    assert hall("500101001").status == HallStatus.CLOSED
    assert hall("500101001001").status == HallStatus.CLOSED
    activity.refresh_from_db()
    assert activity.hall.code == "500101001001"
    # the moved village's return follows it (the services' hall_moved signal)
    moving_return.refresh_from_db()
    assert (moving_return.branch_id, moving_return.main_id) == (taihe.pk, hall("530111").pk)
    # staff's fields and hours survive; the hand-made halls are untouched
    village = hall("530111002002")
    assert (village.address, village.operator, village.operator_name) == (
        "双桥村活动室",
        Operator.SCHOOL,
        "双桥小学",
    )
    assert village.weekly_hours.count() == 1
    yard.refresh_from_db()
    special.refresh_from_db()
    assert yard.division_year is None and yard.parent_id == taihe.pk
    assert yard.plaque_name == "官渡区文化馆太和新街道分馆双桥文化大院基层服务点"
    assert special.status == HallStatus.OPEN and special.code is None
    assert {c.code: c.tree_id for c in Hall.objects.filter(kind=HallKind.CENTRE)} == tree_ids
    assert hall("530111003001").division_year == 2024
    assert hall("530102").division_year == 2023  # unchanged rows keep their edition
    call_command("check_tree")

    # The code comes back a year later: the closed hall reopens.
    source = write_edition(
        tmp_path / "2025", edit(files, "streets.csv", add=['500101001,"高笋塘街道",500101,50,5001'])
    )
    assert "恢复 1" in run(source, edition=2025)
    assert hall("500101001").status == HallStatus.OPEN
    assert hall("500101001001").status == HallStatus.CLOSED


def test_a_county_turned_into_a_district_keeps_its_townships_and_villages(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    files = edit(BASE, "areas.csv", drop={"530111"}, add=['530114,"官渡新区",5301,53'])
    files = edit(
        files,
        "streets.csv",
        drop={"530111001", "530111002"},
        add=['530114001,"关上街道",530114,53,5301', '530114002,"太和街道",530114,53,5301'],
    )
    files = edit(
        files,
        "villages.csv",
        drop={
            c
            for c in (
                "530111001001",
                "530111001002",
                "530111001003",
                "530111002001",
                "530111002002",
            )
        },
        add=[
            '530114001001,"关上社区居民委员会",530114001,53,5301,530114',
            '530114001002,"石桥铺村委会",530114001,53,5301,530114',
            '530114002001,"太和社区居委会",530114002,53,5301,530114',
            '530114002002,"双桥村民委员会",530114002,53,5301,530114',
        ],
    )
    guanshang = hall("530111001").pk

    out = run(write_edition(tmp_path / "2024", files), edition=2024)

    assert "新增 1、更名 0、改码 6、迁移 2、撤销(关闭) 1" in out
    assert hall("530114001").pk == guanshang
    assert hall("530114001").parent.code == "530114"
    assert hall("530111").status == HallStatus.CLOSED
    assert hall("530114001001").plaque_name == "官渡新区文化馆关上街道分馆关上社区基层服务点"
    call_command("check_tree")


def test_a_dry_run_lists_the_changes_and_writes_nothing(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    before = snapshot()
    files = edit(
        BASE,
        "villages.csv",
        drop={"530111002001"},
        add=['530111002003,"新村村委会",530111002,53,5301,530111'],
    )

    out = run(write_edition(tmp_path / "2024", files), "--dry-run", edition=2024)

    assert "新增 1" in out and "撤销(关闭) 1" in out
    assert "530111002003 新村(基层服务点) 上级 530111002" in out
    assert "530111002001 太和社区(基层服务点)" in out
    assert "试运行:未写入任何数据" in out
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "rows", "message"),
    [
        (
            "villages.csv",
            ['530111009001,"孤村村委会",530111009,53,5301,530111'],
            "villages.csv 第 11 行“streetCode”列:上级编码“530111009”在 streets.csv 中没有",
        ),
        (
            "streets.csv",
            ['530111001,"又一关上街道",530111,53,5301'],
            "streets.csv 第 8 行“code”列:编码 530111001 重复(第 3 行已有)",
        ),
        (
            "areas.csv",
            ['53011,"短码区",5301,53'],
            "areas.csv 第 7 行“code”列:编码“53011”应为 6 位数字",
        ),
    ],
)
def test_a_broken_file_is_refused_with_its_row_and_column(tmp_path, name, rows, message):
    files = {**BASE, name: [*BASE[name], *rows]}
    with pytest.raises(CommandError) as caught:
        run(write_edition(tmp_path / "bad", files))
    assert "未写入任何数据" in str(caught.value)
    assert message in str(caught.value)
    assert not Hall.objects.exists()


def test_a_file_not_in_utf8_is_refused_with_its_row_and_column(tmp_path):
    source = write_edition(tmp_path / "bad", BASE)
    path = source / "streets.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = '530111001,"关上街道",530111,53,5301'.encode("gbk")
    path.write_bytes(b"\n".join(lines))

    with pytest.raises(CommandError) as caught:
        run(source)

    assert "streets.csv 第 3 行“name”列:不是 UTF-8 编码的文字" in str(caught.value)
    assert not Hall.objects.exists()


def test_an_update_is_all_or_nothing(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    before = snapshot()
    # A staff-made hall holds a code the new edition brings: refused before anything is written.
    services.hall_create(
        parent=hall("530111001"), name="手工服务点", locality="手工", code="530111001007"
    )
    before = snapshot()
    files = edit(BASE, "villages.csv", add=['530111001007,"新社区居委会",530111001,53,5301,530111'])
    files = edit(
        files,
        "villages.csv",
        replace={"530111002002": '530111002002,"双桥社区居委会",530111002,53,5301,530111'},
    )

    with pytest.raises(CommandError) as caught:
        run(write_edition(tmp_path / "2024", files), edition=2024)

    assert "编码 530111001007 已被“手工服务点”使用" in str(caught.value)
    assert snapshot() == before


def test_an_older_edition_is_refused_once_a_newer_one_is_applied(tmp_path):
    source = write_edition(tmp_path / "e", BASE)
    run(source, edition=2024)
    with pytest.raises(CommandError, match="不能再用较早的 2023 年版"):
        run(source, edition=2023)


def test_province_and_city_limit_what_is_read_and_what_may_be_closed(tmp_path):
    source = write_edition(tmp_path / "e", BASE)
    run(source, "--city", "5301")
    assert sorted(Hall.objects.filter(kind=HallKind.CENTRE).values_list("code", flat=True)) == [
        "5301"
    ]
    run(source, "--province", "50")
    # Reading only Chongqing closes nothing of Kunming.
    assert not Hall.objects.filter(status=HallStatus.CLOSED).exists()
    assert Hall.objects.filter(tree_id=hall("50").tree_id).count() == 7
    with pytest.raises(CommandError, match="--city 须为 4 位"):
        run(source, "--city", "53")


def test_villages_beyond_a_branchs_room_are_placed_by_shifting_the_tree(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    # 20 new villages for 华山街道 (its room holds 16) and one moved there from 关上.
    added = [f'5301020010{n:02d},"新{n}村委会",530102001,53,5301,530102' for n in range(10, 30)]
    files = edit(BASE, "villages.csv", add=added)
    files = edit(
        files,
        "villages.csv",
        replace={"530111001002": '530111001002,"石桥铺村委会",530102001,53,5301,530102'},
    )

    plan = plan_update(read_edition(write_edition(tmp_path / "2024", files)), year=2024)
    applied = apply_update(plan)

    assert (applied.counts["new"], applied.counts["moved"]) == (20, 1)
    # Most went into the branch's room in one batch; the rest shifted the tree one by one.
    assert 0 < applied.shifted < 21
    huashan = hall("530102001")
    assert huashan.get_children().count() == 22
    assert hall("530102001029").plaque_name == "五华区文化馆华山街道分馆新29村基层服务点"
    assert hall("530111001002").plaque_name == "五华区文化馆华山街道分馆石桥铺村基层服务点"
    assert hall("530111001002").main_hall.code == "530102"
    call_command("check_tree")


def test_a_county_moved_to_a_new_city_takes_its_subtree_into_that_tree(tmp_path):
    run(write_edition(tmp_path / "2023", BASE))
    files = edit(BASE, "cities.csv", add=['5302,"滇中新市",53'])
    files = edit(files, "areas.csv", replace={"530111": '530111,"官渡区",5302,53'})

    out = run(write_edition(tmp_path / "2024", files), edition=2024)

    assert "新增 1" in out and "迁移 1" in out
    new_city = hall("5302")
    guandu = hall("530111")
    assert guandu.parent_id == new_city.pk and guandu.tree_id == new_city.tree_id
    village = hall("530111002002")
    assert village.tree_id == new_city.tree_id
    assert village.plaque_name == "官渡区文化馆太和街道分馆双桥村基层服务点"
    assert Hall.objects.filter(tree_id=hall("5301").tree_id).count() == 4
    call_command("check_tree")
