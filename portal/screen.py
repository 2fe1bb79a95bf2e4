"""The big screen (大屏) of a hall's scope, for a wall display in a meeting room or a visiting
inspection: coverage against the task table, today's and this week's activities, participants
this year by month, the order response rate, the annual returns' completeness, the grades and
the best halls.

Nothing personal is on it (no names, no phones): it is also shown through a secret link without
an account. Every figure is an aggregate over the scope's ranges, so it costs the same handful
of queries for a township as for a city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from activities.models import Activity
from activities.orders.models import Order
from activities.selectors import held_between_q, participants_of, with_next_session
from common.charts import Series, bar_chart
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import halls_below, reporting
from evaluation.selectors import coverage_target
from network.models import Hall, HallKind, HallStatus, subtree_q

from .dashboard import assessment_summary

UPCOMING = 6
COVERED_KINDS = (HallKind.MAIN, HallKind.BRANCH, HallKind.POINT)


@dataclass
class Screen:
    title: str
    now: datetime
    year: int
    coverage: list[dict] = field(default_factory=list)
    today: int = 0
    week: int = 0
    upcoming: list[Activity] = field(default_factory=list)
    participants_total: int = 0
    orders: dict[str, int] = field(default_factory=dict)
    returns_year: int = 0
    returns: dict[str, int] = field(default_factory=dict)
    scheme_name: str = ""
    grades: list[tuple[str, int]] = field(default_factory=list)
    top: list[dict] = field(default_factory=list)
    charts: dict[str, SafeString] = field(default_factory=dict)

    @staticmethod
    def _rate(part: int, whole: int) -> str:
        return f"{part / whole:.0%}" if whole else "—"

    @property
    def on_time_rate(self) -> str:
        return self._rate(self.orders["on_time"], self.orders["received"])

    @property
    def service_rate(self) -> str:
        return self._rate(self.returns["service"], self.returns["expected"])

    @property
    def asset_rate(self) -> str:
        return self._rate(self.returns["asset"], self.returns["expected"])


def _scope_q(halls: list[Hall] | None, through: str = "") -> Q:
    if halls is None:
        return Q()
    q = Q(pk__in=[])
    for hall in halls:
        q |= subtree_q(hall, through=through)
    return q


def _coverage(halls: list[Hall] | None) -> list[dict]:
    """Open and planned halls of each level in the scope, beside the task table's targets for
    the counties in it (no target for a scope below a county)."""
    scope = _scope_q(halls)
    rows = Hall.objects.filter(scope, level__gte=1).aggregate(
        **{
            f"{kind}_{status}": Count("pk", filter=Q(kind=kind, status=status))
            for kind in COVERED_KINDS
            for status in (HallStatus.OPEN, HallStatus.PLANNED)
        }
    )
    targets = {kind: 0 for kind in COVERED_KINDS}
    matched = False
    for code, locality, name in Hall.objects.filter(scope, kind=HallKind.MAIN).values_list(
        "code", "locality", "name"
    ):
        target = coverage_target(code=code, locality=locality or "", name=name)
        if target is not None:
            matched = True
            targets[HallKind.MAIN] += target.main
            targets[HallKind.BRANCH] += target.branch
            targets[HallKind.POINT] += target.point
    out = []
    for kind in COVERED_KINDS:
        opened = rows[f"{kind}_{HallStatus.OPEN}"]
        target = targets[kind] if matched else None
        out.append(
            {
                "kind": kind,
                "label": HallKind(kind).label,
                "open": opened,
                "planned": rows[f"{kind}_{HallStatus.PLANNED}"],
                "target": target,
                "percent": min(round(opened * 100 / target), 100) if target else None,
            }
        )
    return out


def screen_for(halls: list[Hall] | None, *, now: datetime | None = None) -> Screen:
    """The screen of the subtrees of ``halls`` (``None``: the whole network)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    tz = timezone.get_current_timezone()
    title = _("全部文化馆") if halls is None else "、".join(dict.fromkeys(h.name for h in halls))
    screen = Screen(title=title, now=local, year=local.year)
    screen.coverage = _coverage(halls)

    activities = Activity.objects.filter(_scope_q(halls, "hall"), status=Activity.Status.PUBLISHED)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    week_end = week + timedelta(days=7)
    # A course counts and shows by its sessions, not by its first one (weeks back, maybe).
    counts = activities.aggregate(
        today=Count("pk", filter=held_between_q(day, day + timedelta(days=1))),
        week=Count("pk", filter=held_between_q(week, week_end)),
    )
    screen.today, screen.week = counts["today"], counts["week"]
    screen.upcoming = list(
        with_next_session(activities.filter(end__gte=now), now=now)
        .filter(next_start__lt=week_end)
        .select_related("hall")
        .only("title", "start", "end", "venue", "hall__name")
        .order_by("next_start", "pk")[:UPCOMING]
    )

    year_start = datetime(local.year, 1, 1, tzinfo=tz)
    by_month = {
        timezone.localtime(row["month"]).month: row["n"] or 0
        for row in activities.filter(start__gte=year_start, start__lt=now)
        .annotate(month=TruncMonth("start"))
        .values("month")
        .annotate(n=Sum(participants_of()))
        .order_by()
    }
    participants = [by_month.get(month, 0) for month in range(1, 13)]
    screen.participants_total = sum(participants)

    screen.orders = Order.objects.filter(
        _scope_q(halls, "point"), created_at__gte=year_start
    ).aggregate(
        received=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        on_time=Count("pk", filter=Order.answered_on_time_q()),
    )

    # Last year's returns, the ones due by now, of the open halls below the scope's own.
    screen.returns_year = local.year - 1
    below = halls_below(*(halls or ()))
    counts = reporting(year=screen.returns_year, halls=below)[None]
    screen.returns = {
        "expected": counts[ReturnKind.SERVICE].expected,
        "service": counts[ReturnKind.SERVICE].submitted,
        "asset": counts[ReturnKind.ASSET].submitted,
    }

    screen.scheme_name, screen.grades, screen.top = assessment_summary(
        [h.pk for h in halls or ()], everything=halls is None
    )
    screen.top = screen.top[:5]

    size = {"width": 480, "height": 360}
    screen.charts["participants"] = bar_chart(
        _("%(year)s 年每月参与人次") % {"year": local.year},
        [_("%(month)s月") % {"month": month} for month in range(1, 13)],
        [Series(_("参与人次"), participants)],
        **size,
    )
    if any(n for _label, n in screen.grades):
        screen.charts["grades"] = bar_chart(
            _("考核等次分布"),
            [label for label, _n in screen.grades],
            [Series(_("馆数"), [n for _label, n in screen.grades])],
            **size,
        )
    return screen
