from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from evaluation import exports, selectors
from evaluation.returns import services as returns
from evaluation.returns.models import AssetReturn, ReturnKind
from evaluation.scoring import selectors as scoring_selectors
from evaluation.scoring import services as scoring
from evaluation.scoring.models import Dimension
from network import services as network_services
from network.models import Hall, HallStatus, Role, subtree_q

from .factories import YEAR, open_window

pytestmark = pytest.mark.django_db

SERVICE, ASSET = ReturnKind.SERVICE, ReturnKind.ASSET
IN_YEAR = datetime(YEAR, 5, 10, 10, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def scheme(db):
    return scoring.scheme_create(year=YEAR)


def score(scheme, hall, by, **points):
    for code, value in points.items():
        scoring.score_set(
            dimension=scheme.dimensions.get(code=code), hall=hall, points=value, by=by
        )


@pytest.fixture
def scored(cast, scheme):
    """官渡区 full marks (100); 五华区 6 of 8 on one dimension (scaled: 75); branches 关上 22.7
    of 25 (with satisfaction 4.5/5; scaled: 90.8) and 太和 15.5 of 17 (scaled: 91.2); point 关上一
    5 less an unfixed 1-point finding = 4 of 8 (scaled: 50); the other points are unscored."""
    by = cast.centre_director
    scored = scheme.dimensions.filter(source=Dimension.Source.SCORED)
    score(scheme, cast.county, by, **{d.code: d.max_points for d in scored})
    for phone in ("13800000001", "13800000002"):
        scoring.satisfaction_submit(hall_id=cast.county.pk, phone=phone, rating=5, now=IN_YEAR)
    score(scheme, cast.other_county, by, service_standard=6)
    score(scheme, cast.branch, by, service_standard="7.5", service_content=8)
    score(scheme, cast.other_branch, by, service_standard="7.5", service_content=8)
    scoring.satisfaction_submit(hall_id=cast.branch.pk, phone="13800000003", rating=4, now=IN_YEAR)
    scoring.satisfaction_submit(hall_id=cast.branch.pk, phone="13800000004", rating=5, now=IN_YEAR)
    score(scheme, cast.point, by, service_standard=5)
    scoring.inspection_record(
        hall=cast.point,
        inspector_hall=cast.county,
        inspected_on=date(YEAR, 3, 1),
        findings="开放时间未公示",
        dimension=scheme.dimensions.get(code="service_standard"),
        deduction=1,
        fix_by=date(YEAR, 3, 15),
        by=cast.county_director,
    )
    return scheme


def read(write, *args, **kwargs):
    buffer = io.BytesIO()
    write(*args, buffer, **kwargs)
    buffer.seek(0)
    return load_workbook(buffer)


def values(ws, first_row):
    return [list(row) for row in ws.iter_rows(min_row=first_row, values_only=True)]


# --- assessment -----------------------------------------------------------------------------------


def test_assessment_workbook_has_a_summary_and_a_sheet_per_county(cast, scored):
    wb = read(exports.write_assessment, scored)
    assert wb.sheetnames == ["汇总", "官渡区文化馆", "五华区文化馆"]

    summary = wb["汇总"]
    assert summary["A1"].value == scored.name
    assert summary["A2"].value == "等级:优秀 ≥ 90 分;良好 ≥ 75 分;合格 ≥ 60 分;不合格 < 60 分"
    assert [c.value for c in summary[4]] == [
        "序号", "编码", "县(市)区文化馆", "所属中心馆", "总分", "等级", "同级排名", "备注",
    ]  # fmt: skip
    assert summary.freeze_panes == "A5"
    assert values(summary, 5) == [
        [1, "530111", "官渡区文化馆", "昆明市文化馆", 100, "优秀", 1, None],
        [
            2,
            "530102",
            "五华区文化馆",
            "昆明市文化馆",
            75,
            "良好",
            2,
            "缺项 12 项,总分按有数据的维度折算",
        ],
    ]
    assert summary["E5"].number_format == "0.0"


def test_a_county_sheet_has_a_row_per_hall_in_tree_order(cast, scored):
    ws = read(exports.write_assessment, scored)["官渡区文化馆"]
    assert ws["A1"].value == f"{scored.name} · 官渡区文化馆"
    header = [c.value for c in ws[3]]
    assert header[:5] == ["序号", "编码", "馆名", "层级", "上级馆"]
    assert header[5:8] == ["服务标准(8分)", "服务内容(9分)", "服务方式(8分)"]
    assert header[17] == "满意度(8分)"
    assert header[18:] == ["总分", "等级", "同级排名", "备注"]
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"

    rows = values(ws, 4)
    assert [r[:5] for r in rows] == [
        [1, "530111", "官渡区文化馆", "总馆", "昆明市文化馆"],
        [2, "530111001", "关上街道综合文化站", "分馆", "官渡区文化馆"],
        [3, "530111001001", "关上一社区服务中心", "基层服务点", "关上街道综合文化站"],
        [4, "530111001002", "关上二社区服务中心", "基层服务点", "关上街道综合文化站"],
        [5, "530111002", "太和街道综合文化站", "分馆", "官渡区文化馆"],
        [6, "530111002001", "太和一社区服务中心", "基层服务点", "太和街道综合文化站"],
    ]
    county, branch, point, point2, other_branch, _ = rows
    assert county[5:] == [8, 9, 8, 8, 8, 8, 7, 8, 7, 7, 7, 7, 8, 100, "优秀", 1, None]
    assert branch[5:8] == [7.5, 8, "缺项"]
    # satisfaction 4.5 / 5 × 8; 22.7 of 25 scaled to 100
    assert branch[17:] == [7.2, 90.8, "优秀", 2, "缺项 10 项,总分按有数据的维度折算"]
    assert other_branch[17:] == ["缺项", 91.2, "优秀", 1, "缺项 11 项,总分按有数据的维度折算"]
    # 5 less the unfixed finding, of 8
    assert point[5] == 4 and point[18] == 50 and point[19] == "不合格" and point[20] == 1
    # Unscored: no points, no total, no grade, no rank.
    assert point2[5:] == [None] * 13 + ["未考核", None, None, None]
    for cell in ws[5][5:19]:
        assert cell.number_format == "0.0"
    assert ws["A5"].number_format == "0" and ws["U5"].number_format == "0"


def test_a_planned_hall_is_neither_graded_nor_ranked(cast, scored):
    network_services.hall_update(hall=cast.other_county, status=HallStatus.PLANNED)
    network_services.hall_update(hall=cast.other_branch, status=HallStatus.PLANNED)
    wb = read(exports.write_assessment, scored)
    assert values(wb["汇总"], 5)[1][4:] == ["待建", None, None, None]
    rows = {r[2]: r for r in values(wb["官渡区文化馆"], 4)}
    assert rows["太和街道综合文化站"][5:] == [None] * 13 + ["待建", None, None, None]
    # 关上 is now first among the assessed branches of the county.
    assert rows["关上街道综合文化站"][18:21] == [90.8, "优秀", 1]


def test_assessment_within_a_county_or_a_branch(cast, scored):
    wb = read(exports.write_assessment, scored, within=cast.county)
    assert wb.sheetnames == ["汇总", "官渡区文化馆"]
    # Still ranked among all the counties of the city.
    assert values(wb["汇总"], 5) == [
        [1, "530111", "官渡区文化馆", "昆明市文化馆", 100, "优秀", 1, None]
    ]
    rows = values(wb["官渡区文化馆"], 4)
    assert len(rows) == 6

    wb = read(exports.write_assessment, scored, within=cast.other_branch)
    rows = values(wb["官渡区文化馆"], 4)
    assert [r[2] for r in rows] == ["太和街道综合文化站", "太和一社区服务中心"]
    assert rows[0][-2] == 1  # its rank among all the branches of the county


def test_assessment_progress_reaches_the_number_of_counties(cast, scored):
    seen = []
    exports.write_assessment(scored, io.BytesIO(), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_counties_with_the_same_name_get_distinct_sheets(cast, scored):
    other_city = network_services.hall_create(parent=None, name="曲靖市文化馆", locality="曲靖市")
    network_services.hall_create(parent=other_city, name="官渡区文化馆", locality="官渡区")
    wb = read(exports.write_assessment, scored)
    assert wb.sheetnames == ["汇总", "官渡区文化馆", "五华区文化馆", "官渡区文化馆(2)"]


def _assessment_queries(scheme, within) -> int:
    with CaptureQueriesContext(connection) as ctx:
        exports.write_assessment(scheme, io.BytesIO(), within=within)
    return len(ctx)


def test_assessment_queries_do_not_grow_with_the_halls_of_a_county(cast, scored):
    one = _assessment_queries(scored, cast.county)
    for i in range(6):
        point = network_services.hall_create(
            parent=cast.other_branch, name=f"新建{i}社区服务中心", locality=f"新建{i}社区"
        )
        score(scored, point, cast.superuser, service_standard=3)
    branch = network_services.hall_create(parent=cast.county, name="新街道", locality="新街道")
    score(scored, branch, cast.superuser, service_standard=4)
    assert _assessment_queries(scored, cast.county) == one
    # A second county (of another size) adds one fixed set of queries.
    two = _assessment_queries(scored, cast.centre)
    assert two - one == 4
    wb = read(exports.write_assessment, scored, within=cast.county)
    assert len(values(wb["官渡区文化馆"], 4)) == 13


def test_county_results_by_tree_range_match_results_by_hall(cast, scored):
    """The export reads a county by its tree range, as rows: the same points, totals, grades
    and ranks as ``assessment_results`` over the same halls, and nothing from the next county."""
    dimensions = list(scored.dimensions.all())
    county = Hall.objects.get(pk=cast.county.pk)
    by_range = scoring_selectors.assessment_county_results(scored, county, dimensions)
    halls = Hall.objects.filter(subtree_q(county)).order_by("lft")
    by_hall = scoring_selectors.assessment_results(scored, halls, dimensions)
    assert [r.hall.pk for r in by_range] == [h.pk for h in halls]
    assert [(r.points, r.total, r.grade, r.rank, r.status, r.missing) for r in by_range] == [
        (r.points, r.total, r.grade, r.rank, r.status, r.missing) for r in by_hall
    ]
    assert list(by_range[0].points) == [d.pk for d in dimensions]
    point = next(r for r in by_range if r.hall.pk == cast.point.pk)
    assert point.hall.parent_name == cast.branch.name
    assert point.points[scored.dimensions.get(code="service_standard").pk] == 4
    assert point.total == 50  # 5 less the unfixed finding, of 8 scaled to 100


# --- statistics -----------------------------------------------------------------------------------


def _report(kind, hall, by, **figures):
    report = returns.return_get_or_create(kind=kind, hall=hall, year=YEAR)
    returns.return_update(kind=kind, annual_return=report, by=by, values=figures)
    returns.return_submit(kind=kind, annual_return=report, by=by)
    return report


@pytest.fixture
def figures(cast):
    open_window(SERVICE)
    open_window(ASSET)
    by = cast.centre_director
    _report(SERVICE, cast.point, by, volunteers=10, teams=1, opening_hours_weekly="40.5")
    _report(SERVICE, cast.point2, by, volunteers=20, teams=2)
    _report(SERVICE, cast.branch, by, volunteers=5)
    _report(SERVICE, cast.other_branch_point, by, volunteers=7)
    _report(SERVICE, cast.other_county_point, by, volunteers=100, opening_hours_weekly="30")
    _report(ASSET, cast.point, by, floor_area="120.5", staff=1)
    _report(ASSET, cast.branch, by, floor_area="300", equipment_value="12.34", staff=3)
    # Entered but never submitted: not counted.
    draft = returns.return_get_or_create(kind=SERVICE, hall=cast.other_branch, year=YEAR)
    returns.return_update(kind=SERVICE, annual_return=draft, by=by, values={"volunteers": 999})
    return cast


def _columns(ws) -> dict[tuple[str | None, str], int]:
    """(group, header) → column number, from the two header rows under the title and the
    sign-off row."""
    out = {}
    group = None
    for top, low in zip(ws[3], ws[4], strict=True):
        if low.value is None:
            group = None
            out[(None, top.value)] = top.column
        else:
            group = top.value or group
            out[(group, low.value)] = low.column
    return out


def _by_name(ws) -> dict[str, list]:
    return {row[2]: row for row in values(ws, 5)}


def test_statistics_workbook_rolls_up_level_by_level(figures):
    wb = read(exports.write_statistics, YEAR)
    assert wb.sheetnames == ["市级汇总", "县级汇总", "乡镇汇总"]
    counties = wb["县级汇总"]
    assert counties.freeze_panes == "A5"
    assert counties.print_title_rows == "$3:$4"
    cols = _columns(counties)
    assert ("服务统计年报", "培训人次") in cols
    assert ("服务统计年报", "场馆服务人次") in cols
    assert ("资产统计年报", "建筑面积(平方米)") in cols
    # Not additive: the column says it is the mean over the halls that reported.
    assert ("服务统计年报", "每周开放时长(小时,报送馆平均)") in cols
    assert [(None, "序号"), (None, "编码"), (None, "馆名"), (None, "上级馆")] == list(cols)[:4]
    trainees = cols[("服务统计年报", "文化志愿者(人)")] - 1
    teams = cols[("服务统计年报", "文艺团队(支)")] - 1
    hours = cols[("服务统计年报", "每周开放时长(小时,报送馆平均)")] - 1
    area = cols[("资产统计年报", "建筑面积(平方米)")] - 1
    value = cols[("资产统计年报", "设备价值(万元)")] - 1

    rows = _by_name(counties)
    assert list(rows) == ["官渡区文化馆", "五华区文化馆"]
    guandu, wuhua = rows["官渡区文化馆"], rows["五华区文化馆"]
    assert guandu[:4] == [1, "530111", "官渡区文化馆", "昆明市文化馆"]
    assert guandu[trainees] == 10 + 20 + 5 + 7
    assert guandu[teams] == 3
    assert guandu[hours] == 10.1  # (40.5 + 0 + 0 + 0) / 4 reporting halls, not their sum
    assert guandu[area] == 420.5
    assert guandu[value] == 12.34
    assert wuhua[trainees] == 100

    # Each level's additive cells are the sums of the level below (and so of the leaves).
    branches = _by_name(wb["乡镇汇总"])
    assert list(branches) == ["关上街道综合文化站", "太和街道综合文化站", "华山街道综合文化站"]
    assert branches["关上街道综合文化站"][trainees] == 35
    assert branches["太和街道综合文化站"][trainees] == 7  # the draft's 999 is not counted
    city = _by_name(wb["市级汇总"])["昆明市文化馆"]
    for col in (trainees, teams, area, value):
        reported = [r[col] for r in rows.values() if r[col] != "未报送"]
        assert city[col] == pytest.approx(sum(reported))
    assert wuhua[area] == "未报送"  # 五华 reported no assets
    assert guandu[trainees] == sum(
        branches[b][trainees] for b in ("关上街道综合文化站", "太和街道综合文化站")
    )
    assert guandu[area] == branches["关上街道综合文化站"][area]  # 太和 reported no assets
    assert city[trainees] == 142
    # The weekly hours are the mean over the city's five reporting halls, never above 168.
    assert city[hours] == 14.1  # (40.5 + 30) / 5
    assert branches["关上街道综合文化站"][hours] == 13.5
    assert branches["华山街道综合文化站"][hours] == 30
    # Where nobody reported, 未报送, not a zero that looks real.
    assert branches["太和街道综合文化站"][area] == "未报送"
    assert branches["华山街道综合文化站"][area] == "未报送"
    assert branches["太和街道综合文化站"][trainees] != "未报送"

    assert counties.cell(5, trainees + 1).number_format == "0"
    assert counties.cell(5, hours + 1).number_format == "0.0"
    assert counties.cell(5, value + 1).number_format == "0.00"


def test_statistics_completeness_columns(figures):
    wb = read(exports.write_statistics, YEAR)
    counties = wb["县级汇总"]
    cols = _columns(counties)
    service_done = cols[("服务年报报送", "已报送/应报送")] - 1
    service_on_time = cols[("服务年报报送", "按时")] - 1
    asset_done = cols[("资产年报报送", "已报送/应报送")] - 1
    rows = _by_name(counties)
    # 官渡区: 5 open halls below; 4 service reports submitted in time, 2 asset reports.
    assert rows["官渡区文化馆"][service_done] == "4/5"
    assert rows["官渡区文化馆"][service_on_time] == 4
    assert rows["官渡区文化馆"][asset_done] == "2/5"
    assert rows["五华区文化馆"][service_done] == "1/2"
    assert _by_name(wb["市级汇总"])["昆明市文化馆"][service_done] == "5/9"
    branches = _by_name(wb["乡镇汇总"])
    assert branches["关上街道综合文化站"][service_done] == "2/2"
    assert branches["太和街道综合文化站"][service_done] == "1/1"


def test_statistics_within_a_county(figures):
    wb = read(exports.write_statistics, YEAR, within=figures.county)
    assert wb.sheetnames == ["县级汇总", "乡镇汇总"]
    assert list(_by_name(wb["县级汇总"])) == ["官渡区文化馆"]
    assert list(_by_name(wb["乡镇汇总"])) == ["关上街道综合文化站", "太和街道综合文化站"]


def test_statistics_queries_are_per_level_not_per_hall(figures):
    with CaptureQueriesContext(connection) as ctx:
        exports.write_statistics(YEAR, io.BytesIO())
    small = len(ctx)
    for i in range(3):
        network_services.hall_create(
            parent=figures.other_county, name=f"新{i}街道", locality=f"新{i}街道"
        )
    with CaptureQueriesContext(connection) as ctx:
        exports.write_statistics(YEAR, io.BytesIO())
    assert len(ctx) == small


# --- coverage -------------------------------------------------------------------------------------


@pytest.fixture
def covered(cast):
    create = network_services.hall_create
    create(parent=cast.centre, name="高新区文化馆", locality="高新区", status=HallStatus.PLANNED)
    create(parent=cast.branch, name="关上三社区", locality="关上三社区", status=HallStatus.PLANNED)
    create(parent=cast.branch, name="关上四社区", locality="关上四社区", status=HallStatus.CLOSED)
    # 关上街道: branch_staff + 2 more = 3 staff, the standard; 太和街道: 1 staff and an official.
    for name in ("gs1", "gs2"):
        network_services.staff_create(username=name, hall=cast.branch, role=Role.STAFF)
    network_services.staff_create(
        username="th-official", hall=cast.other_branch, role=Role.OFFICIAL
    )
    network_services.staff_create(username="th-2", hall=cast.other_branch, role=Role.STAFF)
    # 关上一社区 has the village manager; 华山一社区 a public-welfare post; 关上二社区 a plain staff.
    user = network_services.staff_create(username="hs", hall=cast.other_county, role=Role.STAFF)
    network_services.membership_create(
        user=user, hall=cast.other_county_point, role=Role.STAFF, public_welfare_post=True
    )
    network_services.staff_create(username="gs-p2", hall=cast.point2, role=Role.STAFF)
    # What the halls reported for YEAR in their asset returns: 关上 3 编制 (the standard), 太和
    # 2; 关上一 1 公益岗位, 关上二 none, 华山一 2; 太和一 and 华山 did not report, and a return
    # never submitted does not count.
    open_window(ASSET)
    by = cast.centre_director
    _report(ASSET, cast.branch, by, staff=3)
    _report(ASSET, cast.other_branch, by, staff=2)
    _report(ASSET, cast.point, by, public_welfare_posts=1)
    _report(ASSET, cast.point2, by, public_welfare_posts=0)
    _report(ASSET, cast.other_county_point, by, public_welfare_posts=2)
    draft = returns.return_get_or_create(kind=ASSET, hall=cast.other_county_branch, year=YEAR)
    returns.return_update(kind=ASSET, annual_return=draft, by=by, values={"staff": 9})
    return cast


STAFFING_HEADERS = [
    "分馆编制≥3名", "分馆未报送", "服务点公益岗位≥1个", "服务点未报送",
    "分馆账号≥3个", "服务点有公益岗位或文化管理员账号",
]  # fmt: skip


def test_coverage_table_in_the_shape_of_attachment_2(covered):
    wb = read(exports.write_coverage, covered.centre, year=YEAR)
    assert wb.sheetnames == ["昆明市"]
    ws = wb["昆明市"]
    assert ws["A1"].value == "昆明市县级文化馆总分馆制建设布点与人员配备情况表"
    assert ws["A3"].value.startswith(f"人员配备按 {YEAR} 年度各馆已报送的资产统计年报")
    assert [c.value for c in ws[5]] == [
        "序号", "县(市)区名称", "县(市)区文化馆(总馆)", None, None, None,
        "乡镇(街道)文化站(分馆)", None, None, None,
        "村(社区)综合文化服务中心(服务点)", None, None, None,
        f"人员配备达标(按{YEAR}年资产统计年报)", None, None, None, "平台账号(参考)", None,
    ]  # fmt: skip
    assert [c.value for c in ws[6]][2:] == [
        *["目标", "布点", "已开放", "缺口"] * 3,
        *STAFFING_HEADERS,
    ]
    assert {str(r) for r in ws.merged_cells.ranges} >= {
        "A5:A6", "B5:B6", "C5:F5", "O5:R5", "S5:T5",
    }  # fmt: skip
    assert ws.freeze_panes == "A7"
    # Targets from the task table (官渡区 1/9/116, 五华区 1/10/92, 高新区 0/1/23); the gap is
    # the target less the open halls. Staffing by the asset returns: 官渡 关上 met, 太和 short,
    # 关上一 met, 关上二 short, 太和一 not reported; 五华 华山 not reported (a draft), 华山一 met.
    # Accounts beside: 关上 has 3 staff accounts, 关上一 its village manager, 华山一 a post.
    assert values(ws, 7) == [
        [1, "官渡区", 1, 1, 1, 0, 9, 2, 2, 7, 116, 4, 3, 113, 1, 0, 1, 1, 1, 1],
        [2, "五华区", 1, 1, 1, 0, 10, 1, 1, 9, 92, 1, 1, 91, 0, 1, 1, 0, 0, 1],
        [3, "高新区", 0, 1, 0, 0, 1, 0, 0, 1, 23, 0, 0, 23, 0, 0, 0, 0, 0, 0],
        [None, "合计", 2, 3, 2, 0, 20, 3, 3, 17, 231, 5, 4, 227, 1, 1, 2, 1, 1, 2],
    ]
    assert ws["C7"].number_format == "0"


def test_coverage_staffing_follows_the_reported_figures_not_the_accounts(covered):
    # 太和 reports a third 编制: it meets the standard though it still has two accounts.
    report = AssetReturn.objects.get(hall=covered.other_branch, year=YEAR)
    until = timezone.now() + timedelta(days=3)
    returns.return_reopen(kind=ASSET, annual_return=report, by=covered.centre_director, until=until)
    returns.return_update(
        kind=ASSET, annual_return=report, by=covered.centre_director, values={"staff": 3}
    )
    returns.return_submit(kind=ASSET, annual_return=report, by=covered.centre_director)
    ws = read(exports.write_coverage, covered.centre, year=YEAR)["昆明市"]
    assert values(ws, 7)[0][14:] == [2, 0, 1, 1, 1, 1]
    # Another year nobody reported: every open hall is 未报送, none met.
    ws = read(exports.write_coverage, covered.centre, year=YEAR - 1)["昆明市"]
    assert values(ws, 7)[0][14:] == [0, 2, 0, 3, 1, 1]


def test_coverage_of_today_reads_last_years_returns(covered):
    ws = read(exports.write_coverage, covered.centre)["昆明市"]
    last_year = timezone.localdate().year - 1
    assert ws["A2"].value.startswith("截至 ")
    assert f"按 {last_year} 年度" in ws["A3"].value
    assert ws["O5"].value == f"人员配备达标(按{last_year}年资产统计年报)"


def test_coverage_shows_no_target_for_a_county_the_task_table_lacks(covered):
    network_services.hall_create(parent=covered.centre, name="示范区文化馆", locality="示范区")
    ws = read(exports.write_coverage, covered.centre, year=YEAR)["昆明市"]
    rows = values(ws, 7)
    assert rows[3] == [4, "示范区", "—", 1, 1, "—", "—", 0, 0, "—", "—", 0, 0, "—", *[0] * 6]
    # The total adds the targets that exist and leaves the missing one out, never as 0.
    assert rows[4] == [
        None, "合计", 2, 4, 3, 0, 20, 3, 3, 17, 231, 5, 4, 227, 1, 1, 2, 1, 1, 2,
    ]  # fmt: skip


def test_coverage_targets_match_by_code_then_name():
    assert selectors.coverage_target(code="530111", locality="", name="x").district == "官渡区"
    assert selectors.coverage_target(code=None, locality="高新区", name="x").point == 23
    assert selectors.coverage_target(code=None, locality="", name="呈贡区文化馆").branch == 6
    assert selectors.coverage_target(code="999999", locality="示范区", name="示范区文化馆") is None


def test_coverage_says_what_the_year_means(covered):
    ws = read(exports.write_coverage, covered.centre, year=2025)["昆明市"]
    assert ws["A2"].value.startswith("2025 年度导出;馆没有开放日期记录")
    assert "不按年份回溯" in ws["A2"].value


def test_coverage_is_two_aggregate_queries(covered, django_assert_num_queries):
    with django_assert_num_queries(3):  # the counties, the hall counts, the staffing
        exports.write_coverage(covered.centre, io.BytesIO(), year=2025)


def test_coverage_within_a_county(covered):
    wb = read(exports.write_coverage, covered.centre, within=covered.other_county, year=YEAR)
    assert values(wb["昆明市"], 7) == [
        [1, "五华区", 1, 1, 1, 0, 10, 1, 1, 9, 92, 1, 1, 91, 0, 1, 1, 0, 0, 1],
        [None, "合计", 1, 1, 1, 0, 10, 1, 1, 9, 92, 1, 1, 91, 0, 1, 1, 0, 0, 1],
    ]


# --- sign-off, paper and file names -------------------------------------------------------------


@pytest.fixture
def march_8(monkeypatch):
    """Today is 8 March 2025 in Shanghai (the sign-off asks for that zone by name)."""
    asked = []

    def localdate(value=None, timezone=None):
        asked.append(timezone)
        return date(2025, 3, 8)

    monkeypatch.setattr(exports.timezone, "localdate", localdate)
    return asked


SIGNED = "填报日期:2025年3月8日"


def test_each_sheet_is_signed_off_by_the_hall_exported_and_prints_on_a4(cast, scored, march_8):
    wb = read(exports.write_assessment, scored, within=cast.county)
    for ws in wb.worksheets:
        row = [c.value for c in ws[3 if ws.title == "汇总" else 2]]
        assert row[0] == "填报单位:官渡区文化馆", ws.title
        assert row[-1] == SIGNED
        assert "负责人:____________" in row
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "landscape"
    assert str(march_8[0]) == "Asia/Shanghai"

    # The whole network of one city: the centre signs.
    wb = read(exports.write_assessment, scored)
    assert wb["汇总"]["A3"].value == "填报单位:昆明市文化馆"


def test_statistics_and_coverage_are_signed_off_too(cast, march_8):
    wb = read(exports.write_statistics, YEAR, within=cast.other_county)
    for ws in wb.worksheets:
        assert ws["A2"].value == "填报单位:五华区文化馆" and ws[2][-1].value == SIGNED
    ws = read(exports.write_coverage, cast.centre)["昆明市"]
    assert ws["A4"].value == "填报单位:昆明市文化馆" and ws[4][-1].value == SIGNED
    ws = read(exports.write_coverage, cast.centre, within=cast.county)["昆明市"]
    assert ws["A4"].value == "填报单位:官渡区文化馆"


def test_download_names_are_chinese(cast):
    assert exports.download_name("assessment", 2025, None) == "2025年度考核结果表-昆明市.xlsx"
    assert (
        exports.download_name("statistics", 2025, cast.county)
        == "2025年度服务统计与资产统计年报-官渡区文化馆.xlsx"
    )
    assert (
        exports.download_name("coverage", 2025, cast.centre)
        == "2025年度总分馆建设情况表-昆明市文化馆.xlsx"
    )
    # Several cities: no single hall to name.
    network_services.hall_create(parent=None, name="曲靖市文化馆", locality="曲靖市")
    assert exports.download_name("assessment", 2025, None) == "2025年度考核结果表.xlsx"


# --- the command ----------------------------------------------------------------------------------


def test_command_writes_each_kind(cast, scored, tmp_path, capsys):
    out = tmp_path / "考核.xlsx"
    call_command("export_assessment", "--year", str(YEAR), "--output", str(out))
    assert load_workbook(out).sheetnames == ["汇总", "官渡区文化馆", "五华区文化馆"]
    assert "已导出" in capsys.readouterr().out

    call_command("export_assessment", "--year", str(YEAR), "--hall", "530102", "--output", str(out))
    assert load_workbook(out).sheetnames == ["汇总", "五华区文化馆"]

    for kind, sheets in (
        ("statistics", ["市级汇总", "县级汇总", "乡镇汇总"]),
        ("coverage", ["昆明市"]),
    ):
        path = tmp_path / f"{kind}.xlsx"
        call_command(
            "export_assessment", "--year", str(YEAR), "--kind", kind, "--output", str(path)
        )
        assert load_workbook(path).sheetnames == sheets
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "coverage.xlsx", "statistics.xlsx", "考核.xlsx",
    ]  # fmt: skip


def test_command_takes_an_id_where_a_hall_has_no_code(cast, scheme, tmp_path):
    hall = network_services.hall_create(parent=cast.centre, name="经开区文化馆", locality="经开区")
    assert hall.code is None
    out = tmp_path / "a.xlsx"
    call_command(
        "export_assessment", "--year", str(YEAR), "--hall", str(hall.pk), "--output", str(out)
    )
    assert load_workbook(out).sheetnames == ["汇总", "经开区文化馆"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--year", "2030"], "2030 年还没有考核方案"),
        (["--year", str(YEAR), "--hall", "999999"], "找不到编码或编号为“999999”的馆"),
        (["--year", str(YEAR), "--hall", "no-such"], "找不到编码或编号为“no-such”的馆"),
    ],
)
def test_command_errors_are_clear_and_write_nothing(cast, scheme, tmp_path, args, message):
    out = tmp_path / "a.xlsx"
    with pytest.raises(CommandError, match=message):
        call_command("export_assessment", *args, "--output", str(out))
    assert list(tmp_path.iterdir()) == []


def test_command_refuses_an_output_that_is_not_xlsx(cast, scheme, tmp_path):
    with pytest.raises(CommandError, match=r"输出文件须以 \.xlsx 结尾"):
        call_command("export_assessment", "--year", str(YEAR), "--output", str(tmp_path / "a.csv"))
    with pytest.raises(CommandError, match="输出目录不存在"):
        call_command(
            "export_assessment", "--year", str(YEAR), "--output", str(tmp_path / "x" / "a.xlsx")
        )
    assert list(tmp_path.iterdir()) == []


def test_command_exits_non_zero_on_error(cast, tmp_path):
    from django.core.management import ManagementUtility

    argv = [
        "manage.py",
        "export_assessment",
        "--year",
        "2031",
        "--output",
        str(tmp_path / "a.xlsx"),
    ]
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(argv).execute()
    assert exc.value.code == 1


def test_decimal_points_are_kept(cast, scheme):
    score(scheme, cast.branch, cast.county_director, service_standard="6.5")
    ws = read(exports.write_assessment, scheme)["官渡区文化馆"]
    assert values(ws, 4)[1][5] == 6.5
    assert Decimal(str(ws["F5"].value)) == Decimal("6.5")
