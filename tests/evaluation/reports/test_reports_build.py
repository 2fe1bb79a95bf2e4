"""Quarterly and annual reports: periods, idempotent runs, content, spreadsheet, command, admin
and joint meetings."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import Activity, Booking, Category
from activities.orders import services as order_services
from activities.orders.models import Order
from activities.resources import services as resource_services
from activities.resources.models import Dispatch, ResourceKind
from common.jobs import ClaimLost
from evaluation.reports import documents
from evaluation.reports import services as report_services
from evaluation.reports.models import JointMeeting, ReportRun
from evaluation.returns.models import ReturnStatus, ServiceReturn
from evaluation.scoring import services as scoring
from evaluation.scoring.models import AssessmentScheme
from network import services as network_services
from network.models import Hall
from tests.activities.factories import published_activity

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
Q3 = datetime(2026, 8, 10, 10, tzinfo=TZ)
Q2 = datetime(2026, 5, 10, 10, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def eager_celery():
    """Tasks run in the test's process, as with no REDIS_URL (the worker test uses a broker)."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _held(hall, when, *, category=Category.PERFORMANCE, checked_in=(), no_shows=0):
    """An activity moved to ``when`` with bookings: ``checked_in`` party sizes that came and
    ``no_shows`` single seats that did not."""
    activity = published_activity(hall, capacity=40, category=category, max_seats_per_booking=10)
    phones = iter(f"1380000{n:04d}" for n in range(10_000))
    for seats in checked_in:
        booking = activity_services.booking_create(
            activity_id=activity.pk, name="张三", phone=next(phones), seats=seats
        )
        Booking.objects.filter(pk=booking.pk).update(checked_in_at=when)
    for _ in range(no_shows):
        activity_services.booking_create(
            activity_id=activity.pk, name="李四", phone=next(phones), seats=1
        )
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=2))
    return activity


def _order(point, when, *, answered_after=None, by=None):
    order = order_services.order_create(
        point_id=point.pk, name="王五", phone="13900000001", description="想看花灯戏", now=when
    )
    Order.objects.filter(pk=order.pk).update(created_at=when)
    if answered_after is not None:
        order_services.order_accept(order=order, by_user=by, now=when + answered_after)
    return order


def _dispatch(resource, hall, when, status=Dispatch.Status.APPROVED):
    return Dispatch.objects.create(
        resource=resource,
        requesting_hall=hall,
        approver_hall=resource.hall,
        purpose="送戏下乡",
        start=when,
        end=when + timedelta(days=1),
        status=status,
    )


def _row(data, key, label):
    section = next(s for s in data["sections"] if s["key"] == key)
    return next(r for r in section["rows"] if r[0] == label)


# --- Periods --------------------------------------------------------------------------------------


def test_periods_parse_and_step_back():
    q1 = documents.parse_period("quarterly", "2026q1")
    assert (q1.label, q1.start, q1.end) == (
        "2026Q1",
        datetime(2026, 1, 1, tzinfo=TZ),
        datetime(2026, 4, 1, tzinfo=TZ),
    )
    assert q1.previous().label == "2025Q4"
    assert documents.parse_period("annual", "2026").previous().label == "2025"
    now = datetime(2026, 10, 1, 2, tzinfo=TZ)
    assert documents.period_just_ended("quarterly", now).label == "2026Q3"
    assert documents.period_just_ended("annual", datetime(2027, 1, 20, tzinfo=TZ)).label == "2026"


@pytest.mark.parametrize(
    "kind,text,field",
    [
        ("quarterly", "2026Q5", "period"),
        ("quarterly", "2026", "period"),
        ("annual", "2026Q3", "period"),
        ("annual", "1899", "period"),
        ("monthly", "2026", "kind"),
    ],
)
def test_bad_periods_are_refused_by_name(kind, text, field):
    with pytest.raises(ValidationError) as exc:
        documents.parse_period(kind, text)
    assert field in exc.value.message_dict


# --- Runs: one row per (kind, period, hall), claimed once -----------------------------------------


def test_a_run_is_claimed_once_and_a_done_run_is_left_alone(cast):
    run, claimed = report_services.report_run_claim(
        kind="quarterly", period="2026Q3", hall=cast.county, worker="a"
    )
    assert claimed and run.status == "running" and run.attempts == 1
    again, claimed = report_services.report_run_claim(
        kind="quarterly", period="2026Q3", hall=cast.county, worker="b"
    )
    assert not claimed and again.pk == run.pk and again.claimed_by == "a"

    assert report_services.report_run_finish(run=run, worker="a", content=b"PK", data={"x": 1})
    run.refresh_from_db()
    assert run.status == "done" and run.file.name and run.finished_at
    same, claimed = report_services.report_run_claim(
        kind="quarterly", period="2026Q3", hall=cast.county, worker="c"
    )
    assert not claimed and same.status == "done" and same.attempts == 1
    assert ReportRun.objects.count() == 1


def test_a_stale_run_is_taken_over_and_the_old_worker_cannot_finish_it(cast):
    run, _ = report_services.report_run_claim(
        kind="annual", period="2025", hall=cast.county, worker="dead"
    )
    fresh = timezone.now() + timedelta(seconds=settings.REPORT_STALE_SECONDS - 5)
    assert not report_services.report_run_claim(
        kind="annual", period="2025", hall=cast.county, worker="new", now=fresh
    )[1]
    later = timezone.now() + timedelta(seconds=settings.REPORT_STALE_SECONDS + 5)
    taken, claimed = report_services.report_run_claim(
        kind="annual", period="2025", hall=cast.county, worker="new", now=later
    )
    assert claimed and taken.attempts == 2 and taken.claimed_by == "new"

    with pytest.raises(ClaimLost):
        run.beat(worker="dead")
    assert not report_services.report_run_finish(run=run, worker="dead", content=b"PK", data={})
    assert not run.fail(worker="dead", error="boom")
    taken.refresh_from_db()
    assert taken.status == "running" and not taken.file
    assert not any((settings.MEDIA_ROOT / "reports").rglob("*.xlsx"))


def test_a_failed_build_is_recorded_and_the_next_attempt_finishes_it(cast, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(documents, "write_report_xlsx", broken)
    with pytest.raises(RuntimeError):
        report_services.report_run_build(
            kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w1"
        )
    run = ReportRun.objects.get()
    assert run.status == "failed" and "磁盘已满" in run.error
    monkeypatch.undo()
    run, outcome = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w2"
    )
    assert outcome == "built" and run.status == "done" and run.attempts == 2 and run.error == ""


def test_a_forced_rebuild_replaces_the_file(cast):
    first, _ = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w1"
    )
    old = first.file.name
    run, outcome = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w2"
    )
    assert outcome == "done" and run.attempts == 1
    run, outcome = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w3", force=True
    )
    assert outcome == "built" and run.attempts == 2
    files = list((settings.MEDIA_ROOT / "reports").rglob("*.xlsx"))
    assert [f.name for f in files] == [run.file.name.rsplit("/", 1)[-1]]
    assert old == run.file.name or not (settings.MEDIA_ROOT / old).exists()


def test_only_county_and_centre_halls_get_reports(cast):
    with pytest.raises(ValidationError) as exc:
        report_services.report_run_build(
            kind="quarterly", period="2026Q3", hall_id=cast.branch.pk, worker="w"
        )
    assert "hall" in exc.value.message_dict
    assert not ReportRun.objects.exists()


# --- Content --------------------------------------------------------------------------------------


def _quarter_of_activity(cast):
    """Q3 against Q2 in the county of 官渡 (and one activity of 五华 that must not count)."""
    _held(cast.county, Q3, category=Category.LECTURE, checked_in=[2, 3], no_shows=1)
    _held(cast.branch, Q3, checked_in=[4])
    _held(cast.point, Q3 + timedelta(days=30), category=Category.READING)
    _held(cast.branch, Q2, checked_in=[1])
    _held(cast.other_county, Q3, checked_in=[9])
    _order(cast.point, Q3, answered_after=timedelta(hours=4), by=cast.branch_staff)
    _order(cast.point2, Q3, answered_after=timedelta(hours=8), by=cast.branch_staff)
    _order(cast.point, Q3 + timedelta(days=1))
    _order(cast.point, Q2, answered_after=timedelta(hours=2), by=cast.branch_staff)
    _order(cast.other_county_point, Q3)
    truck = resource_services.resource_create(
        hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车一号"
    )
    kit = resource_services.resource_create(
        hall=cast.county, kind=ResourceKind.EQUIPMENT, name="音响一套"
    )
    _dispatch(truck, cast.branch, Q3)
    _dispatch(kit, cast.point, Q3 + timedelta(days=3))
    _dispatch(kit, cast.point, Q3 + timedelta(days=9), status=Dispatch.Status.REJECTED)
    _dispatch(truck, cast.other_branch, Q2)


def test_the_quarterly_report_counts_the_subtree_against_the_previous_quarter(cast):
    _quarter_of_activity(cast)
    county = Hall.objects.get(pk=cast.county.pk)
    data = documents.report_data("quarterly", county, documents.parse_period("quarterly", "2026Q3"))

    assert data["period"] == "2026Q3" and data["previous_period"] == "2026Q2"
    assert _row(data, "summary", "举办活动(场次)")[1:3] == [3, 1]
    assert _row(data, "categories", "讲座")[1:3] == [1, 0]
    assert _row(data, "categories", "演出")[1:3] == [1, 1]
    assert _row(data, "categories", "阅读")[1:3] == [1, 0]
    assert [r[1] for r in next(s for s in data["sections"] if s["key"] == "levels")["rows"]] == [
        1,
        1,
        1,
    ]
    assert _row(data, "participation", "签到参与人次")[1:3] == [9, 1]
    # No attendance was recorded: the participants are the checked-in seats.
    assert _row(data, "participation", "参与人次")[1:3] == [9, 1]
    assert _row(data, "participation", "预约未到(笔)")[1] == 1
    assert _row(data, "orders", "收到点单")[1:3] == [3, 1]
    assert _row(data, "orders", "已答复")[1:3] == [2, 1]
    assert _row(data, "orders", "按期答复")[1] == 2
    assert _row(data, "orders", "平均答复用时(小时)")[1:3] == [6.0, 2.0]
    assert _row(data, "dispatches", "流动舞台车")[1:3] == [1, 1]
    assert _row(data, "dispatches", "设备")[1:3] == [1, 0]
    assert _row(data, "dispatches", "配送合计")[1:3] == [2, 1]
    assert _row(data, "dispatches", "申请合计(含未批准、撤回)")[1:3] == [3, 1]
    months = next(s for s in data["sections"] if s["key"] == "months")
    assert months["rows"][3:] == [["2026-07", 0], ["2026-08", 2], ["2026-09", 1]]

    centre = Hall.objects.get(pk=cast.centre.pk)
    city = documents.report_data("quarterly", centre, documents.parse_period("quarterly", "2026Q3"))
    assert _row(city, "summary", "举办活动(场次)")[1] == 4
    assert _row(city, "participation", "签到参与人次")[1] == 18


def test_completeness_compares_with_the_previous_quarters_own_report(cast):
    ServiceReturn.objects.create(
        hall=cast.branch, year=2025, status=ReturnStatus.SUBMITTED, submitted_at=timezone.now()
    )
    report_services.report_run_build(
        kind="quarterly", period="2026Q2", hall_id=cast.county.pk, worker="w"
    )
    ServiceReturn.objects.create(
        hall=cast.point, year=2025, status=ReturnStatus.APPROVED, submitted_at=timezone.now()
    )
    run, _ = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w"
    )
    row = next(r for r in run.data["sections"][-1]["rows"] if r[0].startswith("服务统计年报"))
    assert row[1:3] == [2, 1]  # now two of the county's halls have reported, one did by Q2


def _build_queries(hall, kind, period):
    hall = Hall.objects.get(pk=hall.pk)
    with CaptureQueriesContext(connection) as ctx:
        documents.report_data(kind, hall, documents.parse_period(kind, period))
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind,period", [("quarterly", "2026Q3"), ("annual", "2026")])
def test_the_number_of_queries_does_not_grow_with_the_tree(cast, kind, period):
    AssessmentScheme.objects.all().delete()
    _quarter_of_activity(cast)
    scoring.scheme_create(year=2026)
    small = _build_queries(cast.county, kind, period)
    for b in range(3):
        branch = network_services.hall_create(
            parent=Hall.objects.get(pk=cast.county.pk), name=f"新街道{b}文化站", locality=f"新{b}"
        )
        for p in range(4):
            point = network_services.hall_create(
                parent=branch, name=f"新{b}村{p}服务中心", locality=f"新{b}村{p}"
            )
            _held(point, Q3, checked_in=[1])
            ServiceReturn.objects.create(hall=point, year=2026, status=ReturnStatus.SUBMITTED)
    assert _build_queries(cast.county, kind, period) == small


def test_the_annual_report_rolls_up_and_ranks(cast):
    for hall, activities in ((cast.branch, 10), (cast.point, 4), (cast.other_branch, 7)):
        ServiceReturn.objects.create(
            hall=hall, year=2026, status=ReturnStatus.APPROVED, activities=activities
        )
    ServiceReturn.objects.create(hall=cast.branch, year=2025, status="approved", activities=5)
    ServiceReturn.objects.create(hall=cast.point2, year=2026, status="draft", activities=99)
    scheme = scoring.scheme_create(year=2026)
    first = scheme.dimensions.exclude(source="satisfaction").order_by("order").first()
    scoring.score_set(
        dimension=first, hall=cast.branch, points=first.max_points, by=cast.county_director
    )
    _order(cast.point, timezone.now(), answered_after=timedelta(hours=4), by=cast.branch_staff)
    county = Hall.objects.get(pk=cast.county.pk)
    data = documents.report_data("annual", county, documents.parse_period("annual", "2026"))

    assert _row(data, "stats_service", "举办活动(场次)")[1:3] == [21, 5]
    assert _row(data, "orders", "关上街道综合文化站")[1:5] == [1, 1, 0, 4.0]
    below = {r[0]: r for r in next(s for s in data["sections"] if s["key"] == "below")["rows"]}
    assert below["关上街道综合文化站"][2:4] == [2, 14]
    assert below["太和街道综合文化站"][2:4] == [1, 7]
    ranked = {
        r[0]: r for r in next(s for s in data["sections"] if s["key"] == "assessment")["rows"]
    }
    # Full marks on the one dimension with data, scaled to the scheme's 100 points.
    assert ranked["关上街道综合文化站"][3] == 100.0
    assert ranked["关上街道综合文化站"][5] == 1
    assert ranked["关上街道综合文化站"][-1] == "缺项 12 项,总分按有数据的维度折算"
    # 太和 was never scored: no total, grade or rank.
    assert ranked["太和街道综合文化站"][3:6] == ["未考核", "", None]
    grades = {r[0]: r[1] for r in next(s for s in data["sections"] if s["key"] == "grades")["rows"]}
    assert grades["优秀"] == 1 and grades["不合格"] == 0 and grades["未考核"] >= 1
    assert set(ranked) >= {"关上一社区服务中心", "太和一社区服务中心"}
    assert "华山街道综合文化站" not in ranked


def test_the_spreadsheet_has_a_sheet_a_section_with_the_figures(cast):
    _quarter_of_activity(cast)
    run, _ = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w"
    )
    with run.file.open("rb") as f:
        book = load_workbook(io.BytesIO(f.read()))
    assert book.sheetnames[0] == "概况"
    rows = list(book["概况"].iter_rows(values_only=True))
    assert rows[0][0] == "官渡区文化馆 2026Q3 季度报告"
    assert rows[2] == ("项目", "2026Q3", "2026Q2", "变化")
    assert rows[3][:3] == ("举办活动(场次)", 3, 1)
    assert "资源配送(按资源类别)" in book.sheetnames


# --- Command and tasks ----------------------------------------------------------------------------


def test_the_command_builds_one_or_all_and_refuses_bad_input(cast):
    out = io.StringIO()
    call_command(
        "build_report", "quarterly", "--period", "2026Q3", "--hall", "530111", "--sync", stdout=out
    )
    assert "已生成" in out.getvalue()
    out = io.StringIO()
    call_command("build_report", "quarterly", "--period", "2026Q3", "--sync", stdout=out)
    assert "已存在" in out.getvalue()
    assert set(ReportRun.objects.values_list("hall__code", flat=True)) == {
        "530100",
        "530111",
        "530102",
    }
    with pytest.raises(CommandError, match="2026Q3"):
        call_command("build_report", "quarterly", "--period", "2026-3")
    with pytest.raises(CommandError, match="分馆"):
        call_command("build_report", "annual", "--period", "2025", "--hall", "530111001")
    with pytest.raises(CommandError, match="找不到"):
        call_command("build_report", "annual", "--period", "2025", "--hall", "999999")


# --- Only ended periods; a preview up to today is never the period's report -----------------------

DEC_7 = datetime(2026, 12, 7, 10, tzinfo=TZ)


@pytest.mark.parametrize(
    ("kind", "period", "first"),
    [("quarterly", "2027Q2", "2027-07-01"), ("quarterly", "2026Q4", "2027-01-01"),
     ("annual", "2026", "2027-01-01")],
)  # fmt: skip
def test_a_period_that_has_not_ended_is_refused_with_when_it_ends(cast, kind, period, first):
    with pytest.raises(ValidationError) as exc:
        report_services.report_run_build(
            kind=kind, period=period, hall_id=cast.county.pk, worker="w", now=DEC_7
        )
    message = exc.value.message_dict["period"][0]
    assert period in message and first in message and "预览" in message
    assert not ReportRun.objects.exists()


def test_a_period_is_built_once_it_has_ended(cast):
    run, outcome = report_services.report_run_build(
        kind="quarterly",
        period="2026Q4",
        hall_id=cast.county.pk,
        worker="w",
        now=datetime(2027, 1, 1, 0, 0, 1, tzinfo=TZ),
    )
    assert outcome == "built" and run.period == "2026Q4"


def test_a_report_built_before_its_period_ended_is_replaced_by_the_real_one(cast):
    early, _ = report_services.report_run_build(
        kind="quarterly",
        period="2026Q3",
        hall_id=cast.county.pk,
        worker="w1",
        now=datetime(2026, 10, 2, tzinfo=TZ),
    )
    ReportRun.objects.filter(pk=early.pk).update(finished_at=datetime(2026, 9, 20, tzinfo=TZ))
    run, outcome = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w2"
    )
    assert outcome == "built" and run.pk == early.pk and run.attempts == 2
    _again, outcome = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="w3"
    )
    assert outcome == "done"


def test_the_command_refuses_a_period_that_has_not_ended(cast):
    with pytest.raises(CommandError, match="2027Q2 尚未结束"):
        call_command("build_report", "quarterly", "--period", "2027Q2", "--sync")
    with pytest.raises(CommandError, match="2027Q2 尚未结束"):
        call_command("build_report", "quarterly", "--period", "2027Q2")
    with pytest.raises(ValidationError):
        report_services.enqueue_reports("quarterly", "2027Q2")
    assert not ReportRun.objects.exists()


def test_a_preview_to_date_is_written_to_a_file_and_never_stored(cast, tmp_path):
    _quarter_of_activity(cast)
    target = tmp_path / "preview.xlsx"
    out = io.StringIO()
    this_quarter = documents.period_just_ended("quarterly").label  # any started period
    call_command(
        "build_report", "quarterly", "--period", this_quarter, "--hall", "530111",
        "--preview", "--output", str(target), stdout=out,
    )  # fmt: skip
    assert "预览" in out.getvalue() and target.exists()
    title = load_workbook(target).worksheets[0].cell(1, 1).value
    assert "截至" in title and "预览" in title
    assert not ReportRun.objects.exists()
    with pytest.raises(CommandError, match="--hall"):
        call_command("build_report", "quarterly", "--period", this_quarter, "--preview")
    with pytest.raises(CommandError, match="尚未开始"):
        call_command(
            "build_report", "quarterly", "--period", "2099Q1", "--hall", "530111", "--preview"
        )


def test_a_preview_covers_the_period_up_to_now(cast):
    period = documents.parse_period("quarterly", "2026Q4")
    data = documents.preview_data("quarterly", cast.county, period, now=DEC_7)
    assert data["period"] == "2026Q4" and data["preview_until"] == "2026-12-07"
    assert documents.preview_period(period, DEC_7).end == DEC_7


def test_the_schedule_fans_out_one_build_per_county_and_centre(cast, eager_celery):
    # Eager Celery here: the fan-out builds each report in turn.
    assert report_services.enqueue_reports("annual", "2025") == 3
    assert ReportRun.objects.filter(period="2025", status="done").count() == 3
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["quarterly-reports"]["args"] == ("quarterly",)
    assert schedule["annual-reports"]["schedule"].month_of_year == {1}
    assert schedule["quarterly-reports"]["schedule"].month_of_year == {1, 4, 7, 10}


# --- Admin and meetings ---------------------------------------------------------------------------


def _built(cast, hall=None, period="2026Q3"):
    run, _ = report_services.report_run_build(
        kind="quarterly", period=period, hall_id=(hall or cast.county).pk, worker="w"
    )
    return run


def test_staff_list_print_and_download_the_reports_of_their_scope(client, cast):
    _quarter_of_activity(cast)
    ours, theirs = _built(cast), _built(cast, cast.other_county)
    client.force_login(cast.county_director)
    listing = client.get(reverse("admin:reports_reportrun_changelist"))
    assert [r.pk for r in listing.context["cl"].result_list] == [ours.pk]
    body = listing.content.decode()
    assert reverse("admin:reports_reportrun_print", args=[ours.pk]) in body

    page = client.get(reverse("admin:reports_reportrun_print", args=[ours.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") >= 5
    assert "官渡区文化馆 2026Q3 季度报告" in html
    # Its A4 layout comes from a stylesheet of our own (no inline styles under the CSP).
    assert "css/report_print.css" in html
    assert "@media print" in Path(finders.find("css/report_print.css")).read_text()
    download = client.get(reverse("admin:reports_reportrun_download", args=[ours.pk]))
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(b"".join(download.streaming_content))).sheetnames

    for name in ("print", "download", "change"):
        url = reverse(f"admin:reports_reportrun_{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404, name


def test_staff_regenerate_and_officials_may_not(client, cast, eager_celery):
    run = _built(cast)
    client.force_login(cast.county_official)
    url = reverse("admin:reports_reportrun_changelist")
    choices = client.get(url).context["action_form"].fields["action"].choices
    assert "regenerate" not in {name for name, _label in choices}
    client.post(url, {"action": "regenerate", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.attempts == 1

    client.force_login(cast.county_director)
    response = client.post(url, {"action": "regenerate", "_selected_action": [run.pk]})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.attempts == 2 and run.status == "done"


def test_staff_build_a_report_from_the_admin_and_follow_its_progress(
    client, cast, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(cast.county_director)
    listing = client.get(reverse("admin:reports_reportrun_changelist"))
    build = reverse("admin:reports_reportrun_build")
    assert build in listing.content.decode()
    assert client.get(build).status_code == 200

    future = {"kind": "quarterly", "period": "2027Q2", "hall": cast.county.pk, "_build": "1"}
    refused = client.post(build, future)
    assert refused.status_code == 200
    assert "2027-07-01" in str(refused.context["form"].errors["period"])
    assert not ReportRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(build, {**future, "period": "2026Q3"})
    run = ReportRun.objects.get()
    progress = reverse("admin:reports_reportrun_progress", args=[run.pk])
    assert response.status_code == 302 and response["Location"] == progress
    assert run.status == "done" and run.hall == cast.county
    page = client.get(progress).content.decode()
    assert reverse("admin:reports_reportrun_download", args=[run.pk]) in page
    assert 'http-equiv="refresh"' not in page


def test_the_progress_page_reads_the_run_row_while_it_waits(client, cast):
    client.force_login(cast.county_director)
    build = reverse("admin:reports_reportrun_build")
    client.post(build, {"kind": "annual", "period": "2025", "hall": cast.county.pk})
    run = ReportRun.objects.get()  # queued on commit: nothing ran in this test
    assert run.status == "pending"
    page = client.get(reverse("admin:reports_reportrun_progress", args=[run.pk]))
    assert 'http-equiv="refresh"' in page.content.decode() and "排队中" in page.content.decode()


@pytest.mark.parametrize(
    ("kind", "period", "steps"),
    [
        ("quarterly", "2026Q3", documents.QUARTERLY_STEPS),
        ("annual", "2025", documents.ANNUAL_STEPS),
    ],
)
def test_a_build_reports_its_sections_as_progress(client, cast, kind, period, steps):
    seen: list[tuple[int, int]] = []
    parsed = documents.parse_period(kind, period)
    documents.report_data(kind, cast.county, parsed, beat=lambda *step: seen.append(step))
    assert seen == [(n, steps) for n in range(1, steps)]
    # The page shows where a running build is, as parts and a percentage.
    run, _claimed = report_services.report_run_claim(
        kind=kind, period=period, hall=cast.county, worker="w"
    )
    run.beat(worker="w", progress=1, total=steps)
    client.force_login(cast.county_director)
    page = client.get(reverse("admin:reports_reportrun_progress", args=[run.pk])).content.decode()
    assert f"已完成 1 / {steps} 部分(25%)" in page and 'value="25"' in page


def test_a_preview_from_the_admin_is_downloaded_and_never_stored(client, cast):
    client.force_login(cast.county_director)
    this_quarter = documents.period_just_ended("quarterly").previous().label
    response = client.post(
        reverse("admin:reports_reportrun_build"),
        {"kind": "quarterly", "period": this_quarter, "hall": cast.county.pk, "_preview": "1"},
    )
    assert response.status_code == 200 and "preview" in response["Content-Disposition"]
    title = load_workbook(io.BytesIO(response.content)).worksheets[0].cell(1, 1).value
    assert "预览" in title
    assert not ReportRun.objects.exists()


def test_the_build_pages_keep_to_the_scope(client, cast):
    theirs = _built(cast, cast.other_county)
    client.force_login(cast.county_director)
    build = reverse("admin:reports_reportrun_build")
    response = client.post(
        build, {"kind": "quarterly", "period": "2026Q3", "hall": cast.other_county.pk}
    )
    assert response.status_code == 200 and "hall" in response.context["form"].errors
    assert ReportRun.objects.count() == 1
    progress = reverse("admin:reports_reportrun_progress", args=[theirs.pk])
    assert client.get(progress).status_code == 404

    with pytest.raises(ValidationError):
        report_services.report_run_start(
            kind="quarterly", period="2026Q3", hall=cast.other_county, by=cast.county_director
        )
    client.force_login(cast.county_official)
    assert client.get(build).status_code == 403
    assert build not in client.get(reverse("admin:reports_reportrun_changelist")).content.decode()


def test_a_joint_meeting_is_recorded_with_decisions_and_linked_to_its_report(client, cast):
    run = _built(cast)
    client.force_login(cast.county_director)
    form = {
        "hall": cast.county.pk,
        "quarter": "2026q3",
        "held_on": "2026-10-12",
        "place": "官渡区文化馆三楼会议室",
        "attendees": "张馆长,官渡区文化馆,馆长\n李站长,关上街道,站长",
        "agenda": "通报三季度服务情况",
        "minutes": "",
        "report": "",
        "decisions-TOTAL_FORMS": "1",
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "1000",
        "decisions-0-decision": "关上街道补齐三名专职人员",
        "decisions-0-owner": "李站长",
        "decisions-0-owner_hall": cast.branch.pk,
        "decisions-0-due_on": "2026-12-31",
        "decisions-0-done_on": "",
    }
    response = client.post(reverse("admin:reports_jointmeeting_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting = JointMeeting.objects.get()
    assert meeting.quarter == "2026Q3" and meeting.report_id == run.pk
    assert meeting.created_by == cast.county_director
    assert meeting.decisions.get().due_on == date(2026, 12, 31)
    printed = client.get(reverse("admin:reports_reportrun_print", args=[run.pk]))
    assert "关上街道补齐三名专职人员" in printed.content.decode()

    bad = dict(form, quarter="三季度", hall=cast.branch.pk)
    response = client.post(reverse("admin:reports_jointmeeting_add"), bad)
    errors = response.context["adminform"].form.errors
    assert response.status_code == 200 and {"quarter", "hall"} <= set(errors)
    assert JointMeeting.objects.count() == 1


def test_a_meeting_held_before_its_report_is_linked_when_the_report_is_done(cast):
    meeting = report_services.joint_meeting_save(
        meeting=JointMeeting(
            hall=cast.county,
            quarter="2026Q3",
            held_on=date(2026, 10, 1),
            attendees="张",
            agenda="通报",
        ),
        by=cast.county_director,
    )
    assert meeting.report is None
    _built(cast, cast.other_county)
    _built(cast, period="2026Q2")
    meeting.refresh_from_db()
    assert meeting.report is None
    run = _built(cast)
    meeting.refresh_from_db()
    assert meeting.report == run


def test_a_meeting_cannot_link_another_halls_report(cast):
    theirs = _built(cast, cast.other_county)
    meeting = JointMeeting(
        hall=cast.county,
        quarter="2026Q3",
        held_on=date(2026, 10, 1),
        attendees="x",
        agenda="y",
        report=theirs,
    )
    with pytest.raises(ValidationError) as exc:
        report_services.joint_meeting_save(meeting=meeting, by=cast.superuser)
    assert "report" in exc.value.message_dict


# Session, user, scope; the counts, the rows (hall joined) and the filters' choices. A meeting's
# decision counts come in the same query as its row; the date hierarchy adds its own.
REPORT_LIST_QUERIES = 7
MEETING_LIST_QUERIES = 9


def _changelist_queries(client, name) -> int:
    url = reverse(f"admin:reports_{name}_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_report_and_meeting_lists_cost_the_same_queries_for_more_rows(client, cast):
    client.force_login(cast.centre_director)

    def meeting(quarter):
        return report_services.joint_meeting_save(
            meeting=JointMeeting(
                hall=cast.county,
                quarter=quarter,
                held_on=date(2026, 10, 1),
                attendees="张",
                agenda="通报",
            ),
            by=cast.county_director,
        )

    _built(cast)
    meeting("2026Q3")
    runs, meetings = (
        _changelist_queries(client, "reportrun"),
        _changelist_queries(client, "jointmeeting"),
    )
    for period in ("2026Q1", "2026Q2"):
        _built(cast, period=period)
        _built(cast, cast.other_county, period=period)
        meeting(period)
    assert ReportRun.objects.count() == 5 and JointMeeting.objects.count() == 3
    assert _changelist_queries(client, "reportrun") == runs == REPORT_LIST_QUERIES
    assert _changelist_queries(client, "jointmeeting") == meetings == MEETING_LIST_QUERIES
