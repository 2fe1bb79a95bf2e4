"""The admin home page's view of the user's scope: activities per month, participants (the
attendance staff recorded, or else the checked-in seats: ``activities.selectors``), orders
answered on time, figures submitted and scores.

Every number is an aggregate over the scope's ranges, so the page costs the same handful of
queries for a village manager as for the director of a city's whole network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from activities.models import Activity
from activities.orders.models import Order
from activities.selectors import participants_of
from common.charts import Series, bar_chart, line_chart
from evaluation.reports.models import ReportRun
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import halls_below, reporting
from evaluation.scoring.models import AssessmentScheme, Grade
from evaluation.scoring.selectors import assessment_results
from network.models import Hall, Membership
from network.selectors import user_scope

MONTHS = 12
TOP_HALLS = 10
CHART_WIDTH, CHART_HEIGHT = 480, 240


@dataclass
class Dashboard:
    scope_label: str
    months: list[str]
    activities: list[int]
    participants: list[int]
    orders: dict[str, int]
    figures_year: int
    figures: dict[str, int]
    scheme_name: str = ""
    grades: list[tuple[str, int]] = field(default_factory=list)
    top: list[dict] = field(default_factory=list)
    runs: list[ReportRun] = field(default_factory=list)
    charts: dict[str, SafeString] = field(default_factory=dict)

    @property
    def activities_total(self) -> int:
        return sum(self.activities)

    @property
    def participants_total(self) -> int:
        return sum(self.participants)

    @staticmethod
    def _rate(part: int, whole: int) -> str:
        return f"{part / whole:.0%}" if whole else "—"

    @property
    def on_time_rate(self) -> str:
        return self._rate(self.orders["on_time"], self.orders["answered"])

    @property
    def service_rate(self) -> str:
        return self._rate(self.figures["service"], self.figures["expected"])

    @property
    def asset_rate(self) -> str:
        return self._rate(self.figures["asset"], self.figures["expected"])


def _month_starts(now: datetime) -> list[datetime]:
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now)
    starts = []
    year, month = local.year, local.month
    for _i in range(MONTHS + 1):
        starts.append(datetime(year, month, 1, tzinfo=tz))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    # Oldest first; the last entry is the start of the month before the window.
    return list(reversed(starts))


def month_labels(starts: list[datetime]) -> list[str]:
    """``1月`` … ``12月`` for the months that begin at ``starts``."""
    return [_("%(month)s月") % {"month": start.month} for start in starts]


def _by_month(rows, key: str, labels: list[str]) -> list[int]:
    found = {timezone.localtime(row["month"]).strftime("%Y-%m"): row[key] or 0 for row in rows}
    return [found.get(label, 0) for label in labels]


def dashboard_for(user, now: datetime | None = None) -> Dashboard | None:
    """The user's scope at a glance, or ``None`` for an account with no scope."""
    scope = user_scope(user)
    if not scope.everything and not scope.ranges:
        return None
    now = now or timezone.now()
    starts = _month_starts(now)
    since, labels = starts[1], [s.strftime("%Y-%m") for s in starts[1:]]
    current = starts[-1]
    until = current.replace(year=current.year + current.month // 12, month=current.month % 12 + 1)

    if scope.everything:
        tops = []
        scope_label = _("全部文化馆")
    else:
        tops = list(
            Membership.objects.filter(user=user)
            .order_by("hall__tree_id", "hall__lft")
            .values_list("hall_id", "hall__name")
        )
        scope_label = "、".join(dict.fromkeys(name for _pk, name in tops))

    # Held: started by now; what is still to come this month is not counted yet.
    held = Activity.objects.filter(
        scope.q("hall__"),
        status=Activity.Status.PUBLISHED,
        start__gte=since,
        start__lt=min(until, now),
    )
    activities = _by_month(
        held.annotate(month=TruncMonth("start")).values("month").annotate(n=Count("pk")).order_by(),
        "n",
        labels,
    )
    participants = _by_month(
        held.annotate(month=TruncMonth("start"))
        .values("month")
        .annotate(n=Sum(participants_of()))
        .order_by(),
        "n",
        labels,
    )
    orders = Order.objects.filter(scope.q("point__"), created_at__gte=since).aggregate(
        received=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        on_time=Count("pk", filter=Order.answered_on_time_q()),
        fulfilled=Count("pk", filter=Order.fulfilled_q()),
    )

    # Last year's yearly figures: the ones due by now. The count of the reports and the
    # statistics export: the open halls below the user's own, which collect the figures.
    year = timezone.localtime(now).year - 1
    counts = reporting(year=year, halls=halls_below(*(pk for pk, _name in tops)))[None]
    figures = {
        "expected": counts[ReturnKind.SERVICE].expected,
        "service": counts[ReturnKind.SERVICE].submitted,
        "asset": counts[ReturnKind.ASSET].submitted,
    }

    board = Dashboard(
        scope_label=scope_label,
        months=labels,
        activities=activities,
        participants=participants,
        orders=orders,
        figures_year=year,
        figures=figures,
    )
    _scores(board, scope, [pk for pk, _name in tops])
    board.runs = list(
        ReportRun.objects.filter(scope.q("hall__"))
        .select_related("hall")
        .order_by("-created_at")[:5]
    )
    short = month_labels(starts[1:])
    # One size for every chart, so that their text comes out the same size side by side.
    size = {"width": CHART_WIDTH, "height": CHART_HEIGHT}
    board.charts = {
        "activities": line_chart(
            _("每月活动场次"), short, [Series(_("活动场次"), activities)], **size
        ),
        "participants": bar_chart(
            _("每月参与人次"), short, [Series(_("参与人次"), participants)], **size
        ),
    }
    if board.grades:
        board.charts["grades"] = bar_chart(
            _("考核等次分布"),
            [label for label, _n in board.grades],
            [Series(_("馆数"), [n for _label, n in board.grades])],
            **size,
        )
    return board


def assessment_summary(
    top_ids: list[int], *, everything: bool = False
) -> tuple[str, list[tuple[str, int]], list[dict]]:
    """The latest assessment of the halls one level below ``top_ids`` (a county director sees
    the branches, a city the counties), or of those halls themselves when nothing is below:
    the scheme's name, the grade distribution and the best halls. Empty without a scheme."""
    scheme = AssessmentScheme.objects.order_by("-year").first()
    if scheme is None:
        return "", [], []
    if everything:
        halls = list(Hall.objects.filter(level=1).order_by("tree_id", "lft"))
    else:
        halls = list(
            Hall.objects.filter(Q(parent_id__in=top_ids) | Q(pk__in=top_ids)).order_by(
                "tree_id", "lft"
            )
        )
        below = [h for h in halls if h.pk not in top_ids]
        halls = below or halls
    # Only assessed halls are graded and ranked: an unassessed or planned hall is no failure.
    results = [r for r in assessment_results(scheme, halls) if r.assessed]
    counts = {value: 0 for value in Grade.values}
    for result in results:
        counts[result.grade] += 1
    grades = [(str(label), counts[value]) for value, label in Grade.choices]
    best = sorted(results, key=lambda r: r.total, reverse=True)[:TOP_HALLS]
    top = [
        {"name": r.hall.name, "total": r.total, "grade": r.grade_label, "rank": r.rank}
        for r in best
    ]
    return scheme.name, grades, top


def _scores(board: Dashboard, scope, top_ids: list[int]) -> None:
    board.scheme_name, board.grades, board.top = assessment_summary(
        top_ids, everything=scope.everything
    )
