"""``seed_demo`` builds the Kunming demo; a second run changes nothing and prints the same."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import Activity, Attendance, AttendanceChange, Booking
from activities.orders.models import Order
from activities.venues import selectors as venue_selectors
from activities.venues import services as venue_services
from activities.venues.models import Reservation, ReservationSeries, Venue
from evaluation.scoring.models import AssessmentScheme, Score
from network.management.commands.check_tree import find_damage
from network.models import Hall, HallStatus

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> tuple:
    return (
        Hall.objects.count(),
        sorted(Booking.objects.values_list("code", "phone", "status")),
        sorted(Order.objects.values_list("code", "status")),
        Activity.objects.count(),
        sorted(Attendance.objects.values_list("activity_id", "head_count", "method")),
        AttendanceChange.objects.count(),
        sorted(Reservation.objects.values_list("code", "status")),
    )


def test_seed_demo_runs_twice_to_the_same_result(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = seed()
    before = snapshot()

    assert seed() == first
    assert snapshot() == before
    assert find_damage() == []
    assert "共 1897 个馆" in first
    assert f"演示活动:{before[3]} 场" in first
    # Past exhibitions and performances have attendance a newcomer can see, both methods.
    assert {method for _a, _n, method in before[4]} == {"counted", "estimated"}
    assert f"已登记参与人次的往期展览、演出:{len(before[4])} 场" in first
    # The booking it prints can be looked up by a resident, with the code it prints.
    code, phone = re.search(r"预约码 (\w+),手机号码 (\d+)", first).groups()
    assert activity_services.booking_lookup(code=code, phone=phone) is not None
    # Venues: a reservation in every state, a weekly series, free slots in the coming weeks.
    code, phone = re.search(r"演示场馆预约.*预约码 (\w+),手机号码 (\d+)", first).groups()
    assert venue_services.reservation_lookup(code=code, phone=phone).status == "confirmed"
    assert set(Reservation.objects.values_list("status", flat=True)) == set(Reservation.Status)
    assert ReservationSeries.objects.get().reservations.count() == 12
    for venue in Venue.objects.all():
        days = venue_selectors.venue_days(venue, timezone.localdate(), 14)
        assert sum(day.free_count for day in days) > 0, venue


def _column(ws, group: str, header: str) -> int:
    """The 0-based column of ``header`` under ``group`` in the two header rows of a sheet (under the title and sign-off)."""
    current = None
    for top, low in zip(ws[3], ws[4], strict=True):
        current = top.value or current
        if low.value == header and current == group:
            return low.column - 1
    raise KeyError((group, header))


def test_the_demo_reports_one_count_everywhere_and_no_week_over_168_hours(settings, tmp_path):
    """Issue 11: the dashboard, the quarterly report and the statistics export say the same
    number of halls reported, and no weekly opening hours in the export exceed 168."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from openpyxl import load_workbook

    from evaluation import exports
    from evaluation.reports.documents import parse_period, quarterly_data
    from evaluation.reports.models import ReportRun
    from portal.dashboard import dashboard_for

    settings.MEDIA_ROOT = tmp_path
    seed()
    this_year = timezone.localdate().year
    year = this_year - 1
    city = Hall.objects.get(level=0, name="昆明市文化馆")
    director = get_user_model().objects.get(username="centre_director")

    board = dashboard_for(director)
    assert board.figures_year == year
    report = quarterly_data(city, parse_period(ReportRun.Kind.QUARTERLY, f"{this_year}Q1"))
    row = next(s for s in report["sections"] if s["key"] == "completeness")["rows"][0]
    target = tmp_path / "statistics.xlsx"
    exports.write_statistics(year, str(target))
    wb = load_workbook(target, read_only=True)
    cities = {r[2]: r for r in wb["市级汇总"].iter_rows(min_row=5, values_only=True)}
    done = _column(wb["市级汇总"], "服务年报报送", "已报送/应报送")

    expected, service = board.figures["expected"], board.figures["service"]
    assert service > 0 and expected > service  # some halls of the demo did not report
    assert f"应报 {expected} 个馆" in row[0] and row[1] == service
    assert cities[city.name][done] == f"{service}/{expected}"

    for ws in wb.worksheets:
        hours = _column(ws, "服务统计年报", "每周开放时长(小时,报送馆平均)")
        values = [r[hours] for r in ws.iter_rows(min_row=5, values_only=True)]
        numbers = [v for v in values if v != "未报送"]
        assert numbers and all(0 <= v <= 168 for v in numbers), ws.title
    counties = wb["县级汇总"]
    hours = _column(counties, "服务统计年报", "每周开放时长(小时,报送馆平均)")
    # The demo's counties other than 官渡 and 五华 did not report: 未报送, not 0.
    assert any(r[hours] == "未报送" for r in counties.iter_rows(min_row=5, values_only=True))


def test_the_demo_assessment_grades_no_unscored_hall_and_ranks_no_planned_one(settings, tmp_path):
    """Issue 11: an unassessed hall is not a failed one, and a planned hall is not ranked."""
    settings.MEDIA_ROOT = tmp_path
    seed()
    scheme = AssessmentScheme.objects.get()
    output = tmp_path / "assessment.xlsx"
    call_command("export_assessment", year=scheme.year, output=str(output), stdout=io.StringIO())
    wb = load_workbook(output, read_only=True)
    scored = set(Score.objects.filter(scheme=scheme).values_list("hall_id", flat=True))
    # A hall by its name and its parent's (many demo halls have no code yet).
    halls = {
        (h.name, h.parent_name or None): h
        for h in Hall.objects.annotate(parent_name=F("parent__name"))
    }
    assert len(halls) == Hall.objects.count()
    seen = {"assessed": 0, "unassessed": 0, "planned": 0}

    def check(key, total, grade, rank):
        hall = halls[key]
        if hall.status == HallStatus.PLANNED:
            assert (total, grade, rank) == ("待建", None, None), hall.name
            seen["planned"] += 1
        elif hall.pk not in scored:
            assert (total, grade, rank) == ("未考核", None, None), hall.name
            seen["unassessed"] += 1
        else:
            assert isinstance(total, float | int) and grade and isinstance(rank, int), hall.name
            seen["assessed"] += 1

    summary = wb["汇总"]
    header = [c.value for c in next(summary.iter_rows(min_row=4, max_row=4))]
    at = header.index("总分")
    for row in summary.iter_rows(min_row=5, values_only=True):
        check((row[2], row[3]), *row[at : at + 3])
    for ws in wb.worksheets[1:]:
        header = [c.value for c in next(ws.iter_rows(min_row=3, max_row=3))]
        at = header.index("总分")
        for row in ws.iter_rows(min_row=4, values_only=True):
            check((row[2], row[4]), *row[at : at + 3])
    # The demo has all three kinds of hall, so each rule above was tried.
    assert all(seen.values()), seen


#: What the second seed's text says for the village centres (1679个村(社区)综合文化服务中心); the
#: task table's rows add up to one more (1,680). The demo's network is the real one; the rows are
#: its targets (README).
TASK_TABLE_TOTAL_LINE_POINTS = 1679


def test_the_demo_is_the_real_kunming_with_the_task_table_as_its_targets(settings, tmp_path):
    """Issue 17: the demo's districts, townships and villages are those of the shipped division
    codes, and the coverage export shows each district's task-table row as its target beside
    what is built."""
    import csv
    from collections import Counter

    from django.conf import settings as django_settings

    from evaluation import exports
    from network.divisions import read_edition
    from network.models import HallKind

    settings.MEDIA_ROOT = tmp_path
    path = django_settings.BASE_DIR / "fixtures" / "kunming_task_table.csv"
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert all(r["seq"].isdigit() for r in rows)  # the copy carries no total line
    points = sum(int(r["service_points"]) for r in rows)
    assert points == TASK_TABLE_TOTAL_LINE_POINTS + 1  # the seed's text counts one fewer
    assert sum(int(r["branches"]) for r in rows) == 139
    with open(
        django_settings.BASE_DIR / "fixtures" / "kunming_districts.csv", encoding="utf-8"
    ) as f:
        codes = {r["district"]: r["code"] for r in csv.DictReader(f)}

    seed()

    edition = read_edition(city="5301").divisions
    built = {h.code: h for h in Hall.objects.exclude(level=0)}
    assert set(built) == set(edition) - {"5301"}
    for code, division in edition.items():
        if division.parent is not None:
            assert built[code].parent.code == division.parent, code
            assert built[code].locality == division.locality, code
    assert Counter(h.kind for h in built.values()) == {
        HallKind.MAIN: 14,
        HallKind.BRANCH: 150,
        HallKind.POINT: 1732,
    }
    village = Hall.objects.get(code="530111001001")
    assert (village.parent.name, village.name) == ("关上街道综合文化站", "关上社区综合文化服务中心")
    # The development zones are township-level entries; those whose 文化馆 the table has as 待建
    # are planned.
    zones = {code: built[code] for code in ("530102401", "530111402", "530112403", "530125404")}
    assert {c: (h.kind, h.status) for c, h in zones.items()} == {
        "530102401": (HallKind.BRANCH, HallStatus.PLANNED),
        "530111402": (HallKind.BRANCH, HallStatus.OPEN),
        "530112403": (HallKind.BRANCH, HallStatus.PLANNED),
        "530125404": (HallKind.BRANCH, HallStatus.PLANNED),
    }

    target = tmp_path / "coverage.xlsx"
    exports.write_coverage(None, str(target), year=2025)
    sheet = load_workbook(target)["昆明市"]
    table = {r[1]: r for r in sheet.iter_rows(min_row=7, values_only=True)}
    by_code = {h.code: h for h in built.values() if h.kind == HallKind.MAIN}
    counted = 0
    for r in rows:
        if not codes[r["district"]]:
            continue  # a development zone: no county-level hall of its own
        main = by_code[codes[r["district"]]]
        row = table[main.name.removesuffix("文化馆")]
        branches = sum(1 for h in built.values() if h.parent_id == main.pk)
        villages = sum(1 for h in built.values() if h.main_hall_id == main.pk and h.kind == "point")
        # 目标/布点 of the branches (G, H) and points (K, L): the table's row beside the real tree.
        assert (row[6], row[7]) == (int(r["branches"]), branches), r["district"]
        assert (row[10], row[11]) == (int(r["service_points"]), villages), r["district"]
        counted += 1
    assert counted == 14
    assert table["合计"][7] == 150 and table["合计"][11] == 1732
