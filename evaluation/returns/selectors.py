"""Reads of the yearly returns: figures, roll-ups and completeness.

Roll-ups group by the ancestor columns stored on every hall (``main_hall_id``,
``branch_hall_id``, ``tree_id``), so the totals of every hall of a level come from one
aggregate query, never from recursion over children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.digital import selectors as digital
from activities.models import Activity, Category
from activities.orders.models import Order
from activities.selectors import participants_total
from network.models import LEVEL_BY_KIND, Hall, HallKind, HallStatus, subtree_q
from network.selectors import with_staff_accounts

from .models import AssetReturn, ReturnKind, ReturnStatus, ReturnWindow, Rollup, ServiceReturn

RETURN_MODELS = {ReturnKind.SERVICE: ServiceReturn, ReturnKind.ASSET: AssetReturn}
REPORTED = (ReturnStatus.SUBMITTED, ReturnStatus.APPROVED)
# Columns of the return rows themselves (copies of the hall's ancestors): no join to the halls.
GROUP_COLUMN = {
    HallKind.CENTRE: "tree_id",
    HallKind.MAIN: "main_id",
    HallKind.BRANCH: "branch_id",
    HallKind.POINT: "hall_id",
}
HALL_GROUP_COLUMN = {
    HallKind.CENTRE: "tree_id",
    HallKind.MAIN: "main_hall_id",
    HallKind.BRANCH: "branch_hall_id",
    HallKind.POINT: "id",
}
LEVEL_KIND = {level: kind for kind, level in LEVEL_BY_KIND.items()}


def return_window(kind: str, year: int) -> ReturnWindow | None:
    return ReturnWindow.objects.filter(kind=kind, year=year).first()


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def portal_figures(*, hall_id: int, year: int) -> dict[str, int]:
    """What the portal itself recorded for a hall in a year: activities it held (by category),
    participants (the attendance staff recorded, or else the checked-in seats), plays of its
    digital resources (线上服务人次), orders it received and fulfilled."""
    start, end = year_bounds(year)
    held = Activity.objects.filter(
        hall_id=hall_id, status=Activity.Status.PUBLISHED, start__gte=start, start__lt=end
    )
    counts = held.aggregate(
        activities=Count("pk"),
        performances=Count("pk", filter=Q(category=Category.PERFORMANCE)),
        exhibitions=Count("pk", filter=Q(category=Category.EXHIBITION)),
        lectures=Count("pk", filter=Q(category=Category.LECTURE)),
        trainings=Count("pk", filter=Q(category=Category.TRAINING)),
        mobile_services=Count("pk", filter=Q(category=Category.MOBILE)),
    )
    counts["participants"] = participants_total(held)
    counts["online_services"] = digital.online_services(
        hall_id=hall_id, start=date(year, 1, 1), end=date(year + 1, 1, 1)
    )
    orders = Order.objects.filter(handler_id=hall_id)
    counts["orders_received"] = orders.filter(created_at__gte=start, created_at__lt=end).count()
    counts["orders_fulfilled"] = (
        orders.fulfilled().filter(done_at__gte=start, done_at__lt=end).count()
    )
    return counts


_AGGREGATE = {Rollup.SUM: Sum, Rollup.MEAN: Avg, Rollup.MAX: Max}


def _figure_aggregates(model) -> dict:
    """``halls`` (how many reported) and each figure by its declared roll-up; a figure that
    does not roll up (``Rollup.NONE``) is left out."""
    aggregates = {"halls": Count("pk")}
    for name in model.FIGURES:
        rollup = model.rollup_of(name)
        if rollup != Rollup.NONE:
            aggregates[name] = _AGGREGATE[rollup](name)
    return aggregates


def _figures(model, row: dict) -> dict:
    # A mean comes back with as many places as the database likes; show the field's own.
    for name in model.FIGURES:
        value = row.get(name)
        if value is not None and model.rollup_of(name) == Rollup.MEAN:
            places = Decimal(1).scaleb(-model._meta.get_field(name).decimal_places)
            row[name] = Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)
    return row


def stats_rollup(
    *, kind: str, year: int, level: str, within: Hall | None = None, statuses=REPORTED
) -> dict[int, dict[str, Decimal | int]]:
    """The figures over the subtree of every hall of ``level``, keyed by hall id, in one query:
    each by its declared roll-up (``model.ROLLUP``), with ``halls``, how many halls reported. A
    hall below which nobody reported is absent: a reader shows it as not reported, not as 0."""
    model = RETURN_MODELS[kind]
    column = GROUP_COLUMN[level]
    qs = model.objects.filter(year=year, status__in=statuses)
    if within is not None:
        qs = qs.filter(subtree_q(within, through="hall"))
    rows = (
        qs.exclude(**{f"{column}__isnull": True})
        .values(group=F(column))
        .annotate(**_figure_aggregates(model))
        .order_by()
    )
    totals = {row.pop("group"): _figures(model, row) for row in rows}
    if level == HallKind.CENTRE:
        centres = _centre_ids(totals)
        totals = {centres[tree_id]: row for tree_id, row in totals.items() if tree_id in centres}
    return totals


def stats_for_hall(*, kind: str, hall: Hall, year: int, statuses=REPORTED) -> dict:
    """One hall's figures over its whole subtree (itself included), each by its declared
    roll-up, with ``halls``, how many reported. With ``halls`` 0 the figures are 0 but mean
    "not reported"."""
    model = RETURN_MODELS[kind]
    row = model.objects.filter(
        subtree_q(hall, through="hall"), year=year, status__in=statuses
    ).aggregate(**_figure_aggregates(model))
    return {name: (value or 0) for name, value in _figures(model, row).items()}


@dataclass(frozen=True)
class Completeness:
    expected: int
    submitted: int
    on_time: int

    @property
    def rate(self) -> float:
        return self.submitted / self.expected if self.expected else 1.0


def reporting(*, year: int, halls: QuerySet[Hall], group: str | None = None) -> dict:
    """How many of ``halls`` were expected to report the year and how many of them reported
    each return, and on time, in one query over the halls: the one count behind the dashboard,
    the reports, the statistics export and the API. Only open halls are expected. Grouped by
    the hall column ``group`` (keyed by its value), or one total under the key None."""
    halls = halls.filter(status=HallStatus.OPEN)
    aggregates: dict = {"expected": Count("pk")}
    for kind, model in RETURN_MODELS.items():
        reported = model.objects.filter(hall=OuterRef("pk"), year=year, status__in=REPORTED)
        deadline = ReturnWindow.objects.filter(kind=kind, year=year).values("deadline")[:1]
        aggregates[f"{kind}_submitted"] = Count("pk", filter=Q(Exists(reported)))
        aggregates[f"{kind}_on_time"] = Count(
            "pk", filter=Q(Exists(reported.filter(submitted_at__lte=Subquery(deadline))))
        )
    if group is None:
        rows = {None: halls.aggregate(**aggregates)}
    else:
        rows = {
            row.pop("group"): row
            for row in halls.values(group=F(group)).annotate(**aggregates).order_by()
        }
    return {
        key: {
            kind: Completeness(
                expected=row["expected"],
                submitted=row[f"{kind}_submitted"],
                on_time=row[f"{kind}_on_time"],
            )
            for kind in RETURN_MODELS
        }
        for key, row in rows.items()
    }


def halls_below(*tops: Hall | int) -> QuerySet[Hall]:
    """The halls a report on ``tops`` counts as expected to report: each one's subtree without
    the hall itself (the hall that reads the figures collects them); every hall with no tops."""
    if not tops:
        return Hall.objects.all()
    below = Q(pk__in=[])
    for top in tops:
        below |= subtree_q(top) & ~Q(pk=getattr(top, "pk", top))
    return Hall.objects.filter(below)


def completeness(*, kind: str, hall: Hall, year: int) -> Completeness:
    """Of the open halls below ``hall``, how many returned the year, and how many on time."""
    return reporting(year=year, halls=halls_below(hall))[None][kind]


def _centre_ids(tree_ids) -> dict[int, int]:
    return dict(
        Hall.objects.filter(kind=HallKind.CENTRE, tree_id__in=list(tree_ids)).values_list(
            "tree_id", "pk"
        )
    )


def completeness_rollup(
    *, kind: str, year: int, level: str, within: Hall | None = None
) -> dict[int, Completeness]:
    """``completeness`` for every hall of ``level`` (inside ``within``) in one aggregate query
    (``reporting``, grouped by the stored ancestor column of that level)."""
    depth = LEVEL_BY_KIND[level]
    below = Hall.objects.filter(level__gt=depth)
    if within is not None:
        below = below.filter(subtree_q(within))
    result = {
        group: counts[kind]
        for group, counts in reporting(
            year=year, halls=below, group=HALL_GROUP_COLUMN[level]
        ).items()
    }
    if level == HallKind.CENTRE:
        centres = _centre_ids(result)
        result = {centres[t]: row for t, row in result.items() if t in centres}
    return result


def level_halls(level: str, within: Hall | None = None):
    """(id, code, name, parent name) of every hall of ``level`` inside ``within``, in tree
    order, in one query."""
    halls = Hall.objects.filter(kind=level)
    if within is not None:
        halls = halls.filter(subtree_q(within))
    return halls.order_by("tree_id", "lft").values_list("pk", "code", "name", "parent__name")


# --- Staff pages and the statistics API -----------------------------------------------------------


@dataclass(frozen=True)
class ChildStatus:
    """A hall directly below the one being looked at: its own return of the year, and how the
    halls below it returned theirs."""

    hall: Hall
    return_id: int | None
    status: str | None
    submitted_at: datetime | None
    on_time: bool
    below: Completeness

    @property
    def status_label(self) -> str:
        return str(ReturnStatus(self.status).label) if self.status else ""


def return_children_status(*, kind: str, hall: Hall, year: int) -> list[ChildStatus]:
    """Every child of ``hall`` with its own return's status and the completeness of its
    subtree, in a fixed number of queries however many children there are."""
    model = RETURN_MODELS[kind]
    children = list(Hall.objects.filter(parent=hall).order_by("lft"))
    if not children:
        return []
    returns = {
        row["hall_id"]: row
        for row in model.objects.filter(hall__parent=hall, year=year).values(
            "hall_id", "pk", "status", "submitted_at"
        )
    }
    window = return_window(kind, year)
    below = completeness_rollup(kind=kind, year=year, level=LEVEL_KIND[hall.level + 1], within=hall)
    empty = Completeness(expected=0, submitted=0, on_time=0)
    rows = []
    for child in children:
        row = returns.get(child.pk, {})
        submitted_at = row.get("submitted_at")
        reported = row.get("status") in REPORTED
        rows.append(
            ChildStatus(
                hall=child,
                return_id=row.get("pk"),
                status=row.get("status"),
                submitted_at=submitted_at,
                on_time=bool(
                    reported and window and submitted_at and submitted_at <= window.deadline
                ),
                below=below.get(child.pk, empty),
            )
        )
    return rows


# The cache namespace of the public statistics (``statistics/``): every write that can change
# a figure, a status or a deadline bumps it (``returns.services``), so a cached answer is never
# older than the last such write; settings.STATISTICS_CACHE_SECONDS bounds the rest (a hall
# opened or closed, or a bump lost while Redis was out).
STATISTICS_CACHE = "statistics"


def statistics_for_hall(*, hall: Hall, year: int) -> dict:
    """The public figures of a hall's subtree for a year: both returns' figures, each by its
    declared roll-up, counting submitted and approved returns only (every figure None, not 0,
    when none was: 未报送), and the completeness of the halls below."""
    result: dict = {"completeness": {}}
    below = reporting(year=year, halls=halls_below(hall))[None]
    for kind in (ReturnKind.SERVICE, ReturnKind.ASSET):
        figures = stats_for_hall(kind=kind, hall=hall, year=year)
        if not figures["halls"]:
            figures = {name: None for name in figures} | {"halls": 0}
        result[str(kind)] = figures
        done = below[kind]
        result["completeness"][str(kind)] = {
            "expected": done.expected,
            "submitted": done.submitted,
            "on_time": done.on_time,
            "rate": round(done.rate, 4),
        }
    return result


# --- Staffing -----------------------------------------------------------------------------------


class Staffing(TextChoices):
    """A hall against the staffing standard of the seeds, read from its asset return."""

    MET = "met", _("达标")
    SHORT = "short", _("未达标")
    UNREPORTED = "unreported", _("未报送")


def staffing(
    *, year: int, halls: QuerySet[Hall], min_branch: int, min_point: int
) -> QuerySet[Hall]:
    """The open branches and points of ``halls`` against the standard of the seeds (昆办发〔2019〕9号:
    every township station at least ``min_branch`` 编制, every village centre at least
    ``min_point`` 公益岗位), judged by what each reported in its asset return for ``year``:

    - ``reported``: the 在编人员 (a branch) or 公益岗位 (a point) it reported, None when it did
      not report (a return still being filled or sent back is not reported);
    - ``required``: the standard for its level; ``staffing``: a ``Staffing`` value;
    - ``accounts``: its staff accounts (a branch) or public-welfare and village-manager
      accounts (a point) on the platform, the second signal (``network.selectors
      .with_staff_accounts``).

    One query, whatever the number of halls."""
    filed = AssetReturn.objects.filter(hall=OuterRef("pk"), year=year, status__in=REPORTED)
    is_branch = Q(kind=HallKind.BRANCH)
    return with_staff_accounts(
        halls.filter(status=HallStatus.OPEN, kind__in=[HallKind.BRANCH, HallKind.POINT])
    ).annotate(
        reported=Case(
            When(is_branch, then=Subquery(filed.values("staff")[:1])),
            default=Subquery(filed.values("public_welfare_posts")[:1]),
        ),
        required=Case(When(is_branch, then=Value(min_branch)), default=Value(min_point)),
        accounts=Case(When(is_branch, then=F("account_staff")), default=F("account_posts")),
        staffing=Case(
            When(reported__isnull=True, then=Value(Staffing.UNREPORTED)),
            When(reported__gte=F("required"), then=Value(Staffing.MET)),
            default=Value(Staffing.SHORT),
            output_field=CharField(),
        ),
    )
