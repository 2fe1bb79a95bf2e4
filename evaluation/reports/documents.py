"""What the quarterly and annual reports say, and their spreadsheet.

A report is built for a county main hall or a city centre hall and covers its whole subtree. Its
content is kept as plain data (``ReportRun.data``): sections of rows, each with an optional
chart, so that the spreadsheet and the printable page are both drawn from the same numbers and
the page never recomputes them. Every figure comes from an aggregate query over the subtree's
range, so the number of queries does not depend on the number of halls.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity, Booking, Category
from activities.orders.models import Order
from activities.resources.models import Dispatch, ResourceKind
from activities.selectors import participants_of
from common.xlsx import Column, Sheet, write_workbook
from evaluation.returns import selectors as returns
from evaluation.returns.models import NOT_REPORTED, AssetReturn, ReturnKind, ServiceReturn
from evaluation.scoring import selectors as scoring
from evaluation.scoring.models import AssessmentScheme, Grade
from network.models import KIND_BY_LEVEL, Hall, HallKind, NamingScheme, subtree_q

from .models import ReportRun

REPORT_HALL_KINDS = (HallKind.CENTRE, HallKind.MAIN)


def _level_labels(hall: Hall) -> dict[int, str]:
    """What the hall's tree calls each level (支馆 in a 澄江 tree), by depth."""
    scheme = NamingScheme.for_tree(hall.tree_id)
    return {level: scheme.level_name(kind) for level, kind in enumerate(KIND_BY_LEVEL)}


# Rows of one table the printed page shows; the spreadsheet always has them all.
PRINT_ROWS = 300


# --- Periods --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # "2026Q3" or "2026"
    year: int
    quarter: int | None
    start: datetime
    end: datetime  # exclusive

    def previous(self) -> Period:
        if self.quarter is None:
            return parse_period(self.kind, str(self.year - 1))
        year, quarter = (self.year, self.quarter - 1) if self.quarter > 1 else (self.year - 1, 4)
        return parse_period(self.kind, f"{year}Q{quarter}")


def _moment(year: int, month: int) -> datetime:
    if month > 12:
        year, month = year + 1, month - 12
    return datetime(year, month, 1, tzinfo=timezone.get_current_timezone())


def parse_period(kind: str, text: str) -> Period:
    """``2026Q3`` for a quarterly report, ``2026`` for an annual one; a clear error otherwise."""
    text = (text or "").strip().upper()
    if kind == ReportRun.Kind.QUARTERLY:
        match = re.fullmatch(r"(\d{4})Q([1-4])", text)
        if not match:
            raise ValidationError(
                {
                    "period": _("季度报告的期间应写作“2026Q3”(年份加 Q1–Q4),而不是“%(p)s”。")
                    % {"p": text}
                }
            )
        year, quarter = int(match[1]), int(match[2])
        first = 3 * (quarter - 1) + 1
        start, end = _moment(year, first), _moment(year, first + 3)
    elif kind == ReportRun.Kind.ANNUAL:
        if not re.fullmatch(r"\d{4}", text):
            raise ValidationError(
                {"period": _("年度报告的期间应写作四位年份,如“2026”,而不是“%(p)s”。") % {"p": text}}
            )
        year, quarter = int(text), None
        start, end = _moment(year, 1), _moment(year + 1, 1)
    else:
        raise ValidationError({"kind": _("报告类型应为 quarterly(季度)或 annual(年度)。")})
    if not 2000 <= year <= 2100:
        raise ValidationError({"period": _("年份 %(y)s 不在 2000–2100 之间。") % {"y": year}})
    return Period(kind=kind, label=text, year=year, quarter=quarter, start=start, end=end)


def period_just_ended(kind: str, now: datetime | None = None) -> Period:
    """The quarter (or year) before the one ``now`` falls in: what the scheduled run reports."""
    now = timezone.localtime(now or timezone.now())
    if kind == ReportRun.Kind.ANNUAL:
        return parse_period(kind, str(now.year - 1))
    current = parse_period(kind, f"{now.year}Q{(now.month - 1) // 3 + 1}")
    return current.previous()


def check_period_ended(period: Period, now: datetime | None = None) -> None:
    """A period's report is built once the period is over: one built early would stand, with
    figures missing, in place of the real one. Before then only a preview (``preview_data``)."""
    if period.end <= (now or timezone.now()):
        return
    last = timezone.localtime(period.end - timedelta(seconds=1))
    raise ValidationError(
        {
            "period": _(
                "%(period)s 尚未结束(至 %(last)s 止),%(first)s 起才能生成该期间的报告;"
                "如需截至今日的数据,请生成预览(预览不保存为该期间的报告)。"
            )
            % {
                "period": period.label,
                "last": f"{last:%Y-%m-%d}",
                "first": f"{timezone.localtime(period.end):%Y-%m-%d}",
            }
        }
    )


def preview_period(period: Period, now: datetime | None = None) -> Period:
    """The part of ``period`` that has passed by ``now``: what a preview (截至今日) covers."""
    now = now or timezone.now()
    if period.start > now:
        raise ValidationError(
            {"period": _("%(period)s 尚未开始,没有可预览的数据。") % {"period": period.label}}
        )
    return replace(period, end=min(period.end, now))


def check_report_hall(hall: Hall) -> None:
    if hall.kind not in REPORT_HALL_KINDS:
        raise ValidationError(
            {
                "hall": _("“%(hall)s”是%(kind)s:报告只为总馆(县级)和中心馆(市级)生成。")
                % {"hall": hall.name, "kind": hall.get_kind_display()}
            }
        )


def report_halls():
    """Every hall a scheduled run reports on: the open county main halls and city centres."""
    return Hall.objects.filter(kind__in=REPORT_HALL_KINDS, status="open").order_by("tree_id", "lft")


# --- Building -------------------------------------------------------------------------------------

# Called between the sections of a build: (sections done, sections in all), for the progress
# bar, and a heartbeat that says the worker still holds the run.
Beat = Callable[[int, int], None]
QUARTERLY_STEPS, ANNUAL_STEPS = 4, 4


def _no_beat(done: int, total: int) -> None:
    pass


def _pause_for_tests(beat: Beat, done: int, total: int) -> None:
    """``REPORT_BUILD_PAUSE=N`` holds a build N seconds halfway, still beating: the worker test
    kills the worker there. Unset in any real deployment."""
    seconds = float(os.environ.get("REPORT_BUILD_PAUSE", "0") or 0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(1.0, deadline - time.monotonic()))
        beat(done, total)


def report_data(run_kind: str, hall: Hall, period: Period, beat: Beat = _no_beat) -> dict:
    check_report_hall(hall)
    if run_kind == ReportRun.Kind.QUARTERLY:
        return quarterly_data(hall, period, beat)
    return annual_data(hall, period, beat)


def preview_data(kind: str, hall: Hall, period: Period, now: datetime | None = None) -> dict:
    """A report of ``period`` up to ``now`` (截至今日), marked as a preview; never stored as
    the period's report."""
    now = now or timezone.now()
    data = report_data(kind, hall, preview_period(period, now))
    data["preview_until"] = f"{timezone.localtime(now):%Y-%m-%d}"
    return data


def _change(current, previous) -> str:
    if isinstance(current, str | None) or isinstance(previous, str | None):
        return ""  # 未报送 on either side: nothing to compare
    diff = current - previous
    if previous:
        return f"{diff:+,.0f} ({diff / previous:+.0%})" if isinstance(diff, int) else f"{diff:+.1f}"
    return f"{diff:+,}" if isinstance(diff, int) else f"{diff:+.1f}"


def _reported(figures: dict, name: str):
    """A rolled-up figure, or 未报送 where no hall reported (``halls`` 0): not a real zero."""
    if not figures.get("halls"):
        return str(NOT_REPORTED)
    return figures.get(name) or 0


def _number(value):
    return None if isinstance(value, str) else value


def _compare(label: str, current, previous) -> list:
    return [label, current, previous, _change(current, previous)]


def _section(key: str, title: str, columns: list[str], rows: list[list], chart=None) -> dict:
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart}


def _hall_info(hall: Hall) -> dict:
    return {"id": hall.pk, "name": hall.name, "code": hall.code or "", "kind": hall.kind}


def _json(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def quarterly_data(hall: Hall, period: Period, beat: Beat = _no_beat) -> dict:
    previous = period.previous()
    now_cols = [_("项目"), period.label, previous.label, _("变化")]
    cur = Q(start__gte=period.start, start__lt=period.end)
    prev = Q(start__gte=previous.start, start__lt=previous.end)

    held = Activity.objects.filter(
        subtree_q(hall, through="hall"),
        status=Activity.Status.PUBLISHED,
        start__gte=previous.start,
        start__lt=period.end,
    )
    by_cat_level: dict[tuple[str, int], tuple[int, int]] = {
        (row["category"], row["hall__level"]): (row["cur"], row["prev"])
        for row in held.values("category", "hall__level")
        .annotate(cur=Count("pk", filter=cur), prev=Count("pk", filter=prev))
        .order_by()
    }
    totals = [0, 0]
    categories, levels = {}, {}
    for (category, level), (c, p) in by_cat_level.items():
        a = categories.setdefault(category, [0, 0])
        b = levels.setdefault(level, [0, 0])
        a[0], a[1], b[0], b[1] = a[0] + c, a[1] + p, b[0] + c, b[1] + p
        totals[0], totals[1] = totals[0] + c, totals[1] + p
    category_rows = [
        _compare(str(label), *categories.get(value, (0, 0))) for value, label in Category.choices
    ]
    level_labels = _level_labels(hall)
    level_rows = [
        _compare(level_labels[level], *levels.get(level, (0, 0)))
        for level in range(hall.level, len(KIND_BY_LEVEL))
    ]
    months = {
        timezone.localtime(row["month"]).strftime("%Y-%m") if row["month"] else "": row["n"]
        for row in held.annotate(month=TruncMonth("start"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    month_labels = [
        _moment(previous.start.year, previous.start.month + i).strftime("%Y-%m") for i in range(6)
    ]
    beat(1, QUARTERLY_STEPS)

    now = timezone.now()
    ended = Q(activity__end__lt=now)
    confirmed = Q(status=Booking.Status.CONFIRMED)
    checked = Booking.checked_in_q()

    def booking_figures(window: Q) -> dict:
        return {
            "bookings": Count("pk", filter=window & confirmed),
            "seats": Sum("seats", filter=window & confirmed),
            "waitlisted": Count("pk", filter=window & Q(status=Booking.Status.WAITLISTED)),
            "checked_in": Sum("seats", filter=window & checked),
            "no_shows": Count("pk", filter=window & confirmed & ended & Q(checked_in_at=None)),
        }

    bookings = Booking.objects.filter(
        subtree_q(hall, through="activity__hall"),
        activity__status=Activity.Status.PUBLISHED,
        activity__start__gte=previous.start,
        activity__start__lt=period.end,
    )
    acur = Q(activity__start__gte=period.start, activity__start__lt=period.end)
    aprev = Q(activity__start__gte=previous.start, activity__start__lt=previous.end)
    figures = bookings.aggregate(
        **{f"cur_{k}": v for k, v in booking_figures(acur).items()},
        **{f"prev_{k}": v for k, v in booking_figures(aprev).items()},
    )
    # Participants by the one rule of the figures (recorded attendance, or else check-ins);
    # the check-in rows below show how much of it came through bookings.
    people = held.aggregate(
        cur=Sum(participants_of(), filter=cur), prev=Sum(participants_of(), filter=prev)
    )
    participation_rows = [_compare(_("参与人次"), people["cur"] or 0, people["prev"] or 0)] + [
        _compare(label, figures[f"cur_{key}"] or 0, figures[f"prev_{key}"] or 0)
        for key, label in [
            ("checked_in", _("签到参与人次")),
            ("bookings", _("有效预约(笔)")),
            ("seats", _("预约座位")),
            ("waitlisted", _("候补(笔)")),
            ("no_shows", _("预约未到(笔)")),
        ]
    ]
    beat(2, QUARTERLY_STEPS)

    orders = order_figures(hall, period, previous)
    order_rows = [
        _compare(label, orders["cur"][key], orders["prev"][key])
        for key, label in [
            ("received", _("收到点单")),
            ("answered", _("已答复")),
            ("on_time", _("按期答复")),
            ("fulfilled", _("已完成")),
            ("rejected", _("未受理")),
            ("hours", _("平均答复用时(小时)")),
        ]
    ]
    _pause_for_tests(beat, 2, QUARTERLY_STEPS)

    live = Q(
        status__in=[Dispatch.Status.APPROVED, Dispatch.Status.HANDED_OVER, Dispatch.Status.RETURNED]
    )
    dispatches = {
        row["resource__kind"]: row
        for row in Dispatch.objects.filter(
            subtree_q(hall, through="requesting_hall"),
            start__gte=previous.start,
            start__lt=period.end,
        )
        .values("resource__kind")
        .annotate(
            cur=Count("pk", filter=cur & live),
            prev=Count("pk", filter=prev & live),
            asked_cur=Count("pk", filter=cur),
            asked_prev=Count("pk", filter=prev),
        )
        .order_by()
    }
    dispatch_rows = [
        _compare(
            str(label), dispatches.get(v, {}).get("cur", 0), dispatches.get(v, {}).get("prev", 0)
        )
        for v, label in ResourceKind.choices
    ]
    dispatch_rows.append(
        _compare(
            _("配送合计"),
            sum(r.get("cur", 0) for r in dispatches.values()),
            sum(r.get("prev", 0) for r in dispatches.values()),
        )
    )
    dispatch_rows.append(
        _compare(
            _("申请合计(含未批准、撤回)"),
            sum(r.get("asked_cur", 0) for r in dispatches.values()),
            sum(r.get("asked_prev", 0) for r in dispatches.values()),
        )
    )
    beat(3, QUARTERLY_STEPS)

    completeness_rows = _completeness_rows(hall, period, previous)

    summary = [
        _compare(_("举办活动(场次)"), totals[0], totals[1]),
        participation_rows[0],
        participation_rows[4],
        _compare(_("收到点单"), orders["cur"]["received"], orders["prev"]["received"]),
        _compare(_("按期答复点单"), orders["cur"]["on_time"], orders["prev"]["on_time"]),
        dispatch_rows[-2],
        completeness_rows[0],
    ]
    sections = [
        _section("summary", _("概况"), now_cols, summary),
        _section(
            "categories",
            _("按类别统计的活动(场次)"),
            now_cols,
            category_rows,
            _bar(category_rows, period.label, previous.label),
        ),
        _section(
            "levels",
            _("按主办馆层级统计的活动(场次)"),
            now_cols,
            level_rows,
            _bar(level_rows, period.label, previous.label),
        ),
        _section(
            "months",
            _("各月活动(场次)"),
            [_("月份"), _("活动场次")],
            [[m, months.get(m, 0)] for m in month_labels],
            {
                "type": "line",
                "labels": month_labels,
                "series": [[_("活动场次"), [months.get(m, 0) for m in month_labels]]],
            },
        ),
        _section(
            "participation",
            _("参与、预约与爽约"),
            now_cols,
            participation_rows,
            _bar(participation_rows, period.label, previous.label),
        ),
        _section(
            "orders",
            _("点单服务及答复时效"),
            now_cols,
            order_rows,
            _bar(order_rows[:5], period.label, previous.label),
        ),
        _section(
            "dispatches",
            _("资源配送(按资源类别)"),
            now_cols,
            dispatch_rows,
            _bar(dispatch_rows[:-2], period.label, previous.label),
        ),
        _section("completeness", _("上年度统计年报报送完整度"), now_cols, completeness_rows),
    ]
    return _document(ReportRun.Kind.QUARTERLY, hall, period, previous, sections)


def order_figures(hall: Hall, period: Period, previous: Period) -> dict[str, dict]:
    """The village orders of the subtree, by the quarter they came in, in one aggregate query:
    received, answered, answered by the deadline without escalation, fulfilled, rejected, and
    the mean hours to the first answer."""
    orders = Order.objects.filter(
        subtree_q(hall, through="point"), created_at__gte=previous.start, created_at__lt=period.end
    )
    took = ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
    on_time = Order.answered_on_time_q()
    done = Order.fulfilled_q()
    windows = {
        "cur": Q(created_at__gte=period.start, created_at__lt=period.end),
        "prev": Q(created_at__gte=previous.start, created_at__lt=previous.end),
    }
    aggregates = {}
    for name, w in windows.items():
        aggregates |= {
            f"{name}_received": Count("pk", filter=w),
            f"{name}_answered": Count("pk", filter=w & Q(answered_at__isnull=False)),
            f"{name}_on_time": Count("pk", filter=w & on_time),
            f"{name}_fulfilled": Count("pk", filter=w & done),
            f"{name}_rejected": Count("pk", filter=w & Q(status=Order.Status.REJECTED)),
            f"{name}_took": Avg(took, filter=w & Q(answered_at__isnull=False)),
        }
    row = orders.aggregate(**aggregates)
    result = {}
    for name in windows:
        took_value = row.pop(f"{name}_took")
        figures = {k.removeprefix(f"{name}_"): v for k, v in row.items() if k.startswith(name)}
        figures["hours"] = round(took_value.total_seconds() / 3600, 1) if took_value else None
        result[name] = figures
    return result


def _completeness_rows(hall: Hall, period: Period, previous: Period) -> list[list]:
    """Last year's figures as they stand at this report; the previous quarter's as its own
    report recorded them (a snapshot: reports keep arriving), or computed when it has none."""
    earlier = (
        ReportRun.objects.filter(
            kind=ReportRun.Kind.QUARTERLY,
            period=previous.label,
            hall=hall,
            status=ReportRun.Status.DONE,
        )
        .values_list("data", flat=True)
        .first()
    )
    snapshot = (earlier or {}).get("completeness") or {}
    rows = []
    for kind, label in ReturnKind.choices:
        now = returns.completeness(kind=kind, hall=hall, year=period.year - 1)
        if kind in snapshot:
            before = snapshot[kind]
        else:
            c = returns.completeness(kind=kind, hall=hall, year=previous.year - 1)
            before = {"expected": c.expected, "submitted": c.submitted, "on_time": c.on_time}
        rows.append(
            _compare(
                _("%(kind)s已报送(%(year)s 年度,应报 %(n)s 个馆)")
                % {"kind": label, "year": period.year - 1, "n": now.expected},
                now.submitted,
                before["submitted"],
            )
        )
        rows.append(_compare(_("其中按期报送"), now.on_time, before["on_time"]))
    return rows


def _bar(rows: list[list], current: str, previous: str) -> dict:
    return {
        "type": "bar",
        "labels": [r[0] for r in rows],
        "series": [[current, [r[1] for r in rows]], [previous, [r[2] for r in rows]]],
    }


def _document(kind: str, hall: Hall, period: Period, previous: Period, sections) -> dict:
    completeness = {}
    for s in sections:
        if s["key"] == "completeness" and kind == ReportRun.Kind.QUARTERLY:
            rows = s["rows"]
            for i, (k, _label) in enumerate(ReturnKind.choices):
                completeness[k] = {"submitted": rows[2 * i][1], "on_time": rows[2 * i + 1][1]}
    return {
        "kind": kind,
        "period": period.label,
        "previous_period": previous.label,
        "hall": _hall_info(hall),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "completeness": completeness,
        "sections": [
            {**s, "rows": [[_json(v) for v in row] for row in s["rows"]]} for s in sections
        ],
    }


def annual_data(hall: Hall, period: Period, beat: Beat = _no_beat) -> dict:
    previous = period.previous()
    year, last = period.year, previous.year
    cols = [_("项目"), str(year), str(last), _("变化")]
    sections = []
    kinds = ((ReturnKind.SERVICE, ServiceReturn), (ReturnKind.ASSET, AssetReturn))
    for step, (kind, model) in enumerate(kinds, start=1):
        now = returns.stats_for_hall(kind=kind, hall=hall, year=year)
        before = returns.stats_for_hall(kind=kind, hall=hall, year=last)
        rows = [_compare(_("报送馆数"), now["halls"], before["halls"])]
        rows += [
            _compare(model.figure_label(name), _reported(now, name), _reported(before, name))
            for name in model.FIGURES
        ]
        sections.append(
            _section(
                f"stats_{kind}",
                _("%(k)s汇总(全辖区)") % {"k": model._meta.verbose_name},
                cols,
                rows,
            )
        )
        beat(step, ANNUAL_STEPS)
    sections.append(
        _section("completeness", _("年报报送完整度"), cols, _annual_completeness(hall, year, last))
    )

    below_level = hall.level + 1
    below_kind = KIND_BY_LEVEL[below_level]
    names = list(returns.level_halls(below_kind, within=hall))
    rollup = returns.stats_rollup(kind=ReturnKind.SERVICE, year=year, level=below_kind, within=hall)
    shown = ["activities", "participants", "trainings", "mobile_services", "orders_fulfilled"]
    labels = [str(ServiceReturn._meta.get_field(n).verbose_name) for n in shown]
    rows = [
        [name, code or "", rollup.get(pk, {}).get("halls", 0)]
        + [_json(_reported(rollup.get(pk, {}), n)) for n in shown]
        for pk, code, name, _parent in names
    ]
    sections.append(
        _section(
            "below",
            _("下级馆服务统计(%(kind)s,含其下属)") % {"kind": _level_labels(hall)[below_level]},
            [_("馆"), _("代码"), _("报送馆数"), *labels],
            rows,
            {
                "type": "bar",
                "labels": [r[0] for r in rows][:40],
                "series": [[labels[1], [_number(r[4]) for r in rows][:40]]],
            },
        )
    )
    _pause_for_tests(beat, 2, ANNUAL_STEPS)
    sections.append(_order_section(hall, year))
    beat(3, ANNUAL_STEPS)
    sections += _assessment_sections(hall, year)
    return _document(ReportRun.Kind.ANNUAL, hall, period, previous, sections)


def _order_section(hall: Hall, year: int) -> dict:
    """The year's orders per handler hall in the subtree (``order_performance``: one query)."""
    from activities.orders.selectors import order_performance

    rows = [
        [
            p.hall_name,
            p.received,
            p.answered,
            p.fulfilled,
            p.median_response_hours,
            p.avg_response_hours,
            p.mean_rating,
        ]
        for p in order_performance(year=year, within=hall.pk)
    ]
    return _section(
        "orders",
        _("点单答复与完成(按承办馆)"),
        [
            _("承办馆"),
            _("收到"),
            _("已答复"),
            _("已完成"),
            _("答复用时中位数(小时)"),
            _("平均答复用时(小时)"),
            _("平均评分"),
        ],
        rows,
    )


def _annual_completeness(hall: Hall, year: int, last: int) -> list[list]:
    rows = []
    for kind, label in ReturnKind.choices:
        now = returns.completeness(kind=kind, hall=hall, year=year)
        before = returns.completeness(kind=kind, hall=hall, year=last)
        rows.append(_compare(_("%(k)s应报馆数") % {"k": label}, now.expected, before.expected))
        rows.append(_compare(_("%(k)s已报送") % {"k": label}, now.submitted, before.submitted))
        rows.append(_compare(_("%(k)s按期报送") % {"k": label}, now.on_time, before.on_time))
    return rows


def _assessment_sections(hall: Hall, year: int) -> list[dict]:
    """Scores, grades and ranks of the two levels below the hall (a county's branches and
    points; a city's counties and branches), ranked among siblings."""
    scheme = AssessmentScheme.objects.filter(year=year).first()
    if scheme is None:
        return [
            _section(
                "assessment",
                _("考核结果"),
                [_("说明")],
                [[_("%(y)s 年度尚无考核方案。") % {"y": year}]],
            )
        ]
    dimensions = list(scheme.dimensions.order_by("order"))
    halls = (
        Hall.objects.filter(
            subtree_q(hall), level__gt=hall.level, level__lte=min(hall.level + 2, 3)
        )
        .annotate(parent_name=F("parent__name"))
        .order_by("lft")
    )
    results = scoring.assessment_results(scheme, halls, dimensions)
    level_labels = _level_labels(hall)
    missing = _("缺项")
    rows = [
        [
            r.hall.name,
            level_labels[r.hall.level],
            r.hall.parent_name or "",
            _json(r.total) if r.assessed else str(r.status_label),
            str(r.grade_label),
            r.rank,
            *[
                missing if r.assessed and r.points.get(d.pk) is None else _json(r.points.get(d.pk))
                for d in dimensions
            ],
            r.note,
        ]
        for r in results
    ]
    # Grades count the assessed halls; the unassessed and planned ones are counted apart.
    grades = {g: 0 for g in Grade.values}
    apart = {scoring.ResultStatus.UNASSESSED: 0, scoring.ResultStatus.PLANNED: 0}
    for r in results:
        if r.assessed:
            grades[r.grade] += 1
        else:
            apart[r.status] += 1
    grade_rows = [[str(label), grades[value]] for value, label in Grade.choices]
    grade_rows += [
        [_("未考核"), apart[scoring.ResultStatus.UNASSESSED]],
        [_("待建"), apart[scoring.ResultStatus.PLANNED]],
    ]
    return [
        _section(
            "grades",
            _("考核等次分布(%(s)s)") % {"s": scheme.name},
            [_("等次"), _("馆数")],
            grade_rows,
            {
                "type": "bar",
                "labels": [r[0] for r in grade_rows],
                "series": [[_("馆数"), [r[1] for r in grade_rows]]],
            },
        ),
        _section(
            "assessment",
            _("考核得分、等次与排名(同级排名)"),
            [
                _("馆"),
                _("层级"),
                _("上级馆"),
                _("总分"),
                _("等次"),
                _("排名"),
                *[d.name for d in dimensions],
                _("备注"),
            ],
            rows,
        ),
    ]


# --- The spreadsheet ------------------------------------------------------------------------------


def report_title(data: dict) -> str:
    kind = _("季度报告") if data["kind"] == ReportRun.Kind.QUARTERLY else _("年度报告")
    title = f"{data['hall']['name']} {data['period']} {kind}"
    if data.get("preview_until"):
        title += _("(截至 %(day)s 的预览,非正式报告)") % {"day": data["preview_until"]}
    return title


def write_report_xlsx(data: dict, target: str | IO[bytes]) -> None:
    """One sheet a section, with the report's title and period above each header."""
    title = report_title(data)
    sheets = []
    for section in data["sections"]:
        widths = [28] + [14] * (len(section["columns"]) - 1)
        sheets.append(
            Sheet(
                title=section["title"],
                columns=[
                    Column(str(c), w) for c, w in zip(section["columns"], widths, strict=True)
                ],
                rows=section["rows"],
                title_rows=[title, section["title"]],
            )
        )
    write_workbook(sheets, target)


def chart_for(section: dict[str, Any]):
    """The section's chart as inline SVG, or ``None``."""
    from common.charts import Series, bar_chart, line_chart

    spec = section.get("chart")
    if not spec:
        return None
    series = [Series(name=str(name), values=values) for name, values in spec["series"]]
    draw = line_chart if spec["type"] == "line" else bar_chart
    return draw(section["title"], spec["labels"], series)
