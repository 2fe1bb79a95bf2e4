"""Reads for figures, completeness, roll-ups and assessment results.

Roll-ups group by the ancestor columns stored on every hall (``main_hall_id``,
``branch_hall_id``, ``tree_id``), so the totals of every hall of a level come from one
aggregate query, never from recursion over children.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from activities.models import Activity, Booking, Category
from activities.orders.models import Order
from network.models import LEVEL_BY_KIND, Hall, HallKind, HallStatus
from network.selectors import subtree_q

from .models import (
    AssessmentScheme,
    AssetReport,
    Dimension,
    Grade,
    Inspection,
    ReportingWindow,
    ReportKind,
    ReportStatus,
    SatisfactionResponse,
    Score,
    ServiceReport,
)

REPORT_MODELS = {ReportKind.SERVICE: ServiceReport, ReportKind.ASSET: AssetReport}
REPORTED = (ReportStatus.SUBMITTED, ReportStatus.APPROVED)
# Columns of the report rows themselves (copies of the hall's ancestors): no join to the halls.
GROUP_COLUMN = {
    HallKind.CENTRE: "tree_id",
    HallKind.MAIN: "main_id",
    HallKind.BRANCH: "branch_id",
    HallKind.POINT: "hall_id",
}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def portal_figures(*, hall_id: int, year: int) -> dict[str, int]:
    """What the portal itself recorded for a hall in a year: activities it held (by category),
    residents checked in, orders it received and fulfilled."""
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
    counts["participants"] = (
        Booking.objects.filter(activity__in=held, checked_in_at__isnull=False).aggregate(
            n=Sum("seats")
        )["n"]
        or 0
    )
    orders = Order.objects.filter(handler_id=hall_id)
    counts["orders_received"] = orders.filter(created_at__gte=start, created_at__lt=end).count()
    counts["orders_fulfilled"] = (
        orders.fulfilled().filter(done_at__gte=start, done_at__lt=end).count()
    )
    return counts


def stats_rollup(
    *, kind: str, year: int, level: str, within: Hall | None = None, statuses=REPORTED
) -> dict[int, dict[str, Decimal | int]]:
    """Totals over the subtree of every hall of ``level``, keyed by hall id, in one query."""
    model = REPORT_MODELS[kind]
    column = GROUP_COLUMN[level]
    qs = model.objects.filter(year=year, status__in=statuses)
    if within is not None:
        qs = qs.filter(
            hall__tree_id=within.tree_id, hall__lft__gte=within.lft, hall__rght__lte=within.rght
        )
    rows = (
        qs.exclude(**{f"{column}__isnull": True})
        .values(group=F(column))
        .annotate(halls=Count("pk"), **{name: Sum(name) for name in model.FIGURES})
        .order_by()
    )
    totals = {row.pop("group"): row for row in rows}
    if level == HallKind.CENTRE:
        centres = dict(
            Hall.objects.filter(kind=HallKind.CENTRE, tree_id__in=totals).values_list(
                "tree_id", "pk"
            )
        )
        totals = {centres[tree_id]: row for tree_id, row in totals.items() if tree_id in centres}
    return totals


def stats_for_hall(*, kind: str, hall: Hall, year: int, statuses=REPORTED) -> dict:
    """One hall's totals over its whole subtree (itself included)."""
    model = REPORT_MODELS[kind]
    row = model.objects.filter(
        year=year,
        status__in=statuses,
        hall__tree_id=hall.tree_id,
        hall__lft__gte=hall.lft,
        hall__rght__lte=hall.rght,
    ).aggregate(halls=Count("pk"), **{name: Sum(name) for name in model.FIGURES})
    return {name: (value or 0) for name, value in row.items()}


@dataclass(frozen=True)
class Completeness:
    expected: int
    submitted: int
    on_time: int

    @property
    def rate(self) -> float:
        return self.submitted / self.expected if self.expected else 1.0


def completeness(*, kind: str, hall: Hall, year: int) -> Completeness:
    """Of the open halls below ``hall``, how many reported the year, and how many on time."""
    model = REPORT_MODELS[kind]
    below = Hall.objects.filter(
        tree_id=hall.tree_id, lft__gt=hall.lft, rght__lt=hall.rght, status=HallStatus.OPEN
    )
    window = ReportingWindow.objects.filter(kind=kind, year=year).first()
    on_time = Q(submitted_at__lte=window.deadline) if window else Q(pk__in=[])
    row = model.objects.filter(year=year, status__in=REPORTED, hall__in=below).aggregate(
        submitted=Count("pk"), on_time=Count("pk", filter=on_time)
    )
    return Completeness(expected=below.count(), submitted=row["submitted"], on_time=row["on_time"])


# --- Assessment -----------------------------------------------------------------------------------

TWO = Decimal("0.1")


@dataclass
class HallResult:
    hall: Hall | ExportHall
    points: dict[int, Decimal] = field(default_factory=dict)  # dimension id → points, in order
    total: Decimal = Decimal(0)
    grade: str = Grade.FAIL
    rank: int = 0

    @property
    def grade_label(self) -> str:
        return Grade(self.grade).label


def assessment_results(
    scheme: AssessmentScheme, halls: QuerySet[Hall] | Iterable[Hall], dimensions=None
) -> list[HallResult]:
    """Per-dimension points, total, grade and rank among siblings for ``halls``.

    Scored dimensions: the ancestor's points less the deductions of that year's inspections
    whose findings were not put right by their deadline. Satisfaction: the residents' mean
    rating of the year scaled to the dimension's points.
    """
    halls = list(halls)
    if dimensions is None:
        dimensions = list(scheme.dimensions.all())
    return _results(scheme, halls, dimensions, hall_id__in=[h.pk for h in halls])


class ExportHall(NamedTuple):
    """What an assessment export shows of a hall: a row, not a model instance."""

    pk: int
    code: str | None
    name: str
    kind: str
    parent_id: int | None
    parent_name: str | None
    lft: int


def assessment_county_results(
    scheme: AssessmentScheme, county: Hall, dimensions: list[Dimension]
) -> list[HallResult]:
    """``assessment_results`` for every hall of a county (the county hall, its branches and
    their points) in tree order, in four queries: the halls as ``ExportHall`` rows, and the
    scores, deductions and satisfaction of the county's tree range (no list of ids)."""
    # The subtree as a range of ``lft`` alone (the same halls in a sound tree): with both ends
    # on the index (tree_id, lft) PostgreSQL expects a county's few hundred halls and joins
    # them to the other tables by index, where ``rght <= …`` had it scan whole tables.
    subtree = {"tree_id": county.tree_id, "lft__range": (county.lft, county.rght)}
    halls = [
        ExportHall._make(row)
        for row in Hall.objects.filter(**subtree)
        .order_by("lft")
        .values_list("pk", "code", "name", "kind", "parent_id", "parent__name", "lft")
    ]
    return _results(
        scheme, halls, dimensions, **{f"hall__{name}": value for name, value in subtree.items()}
    )


def _results(
    scheme: AssessmentScheme,
    halls: list[Hall] | list[ExportHall],
    dimensions: list[Dimension],
    **of_halls,
) -> list[HallResult]:
    """``assessment_results`` for ``halls``; ``of_halls`` selects their rows in the score,
    inspection and satisfaction tables (it may select more)."""
    scores: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for hall_id, dimension_id, points in Score.objects.filter(
        scheme=scheme, **of_halls
    ).values_list("hall_id", "dimension_id", "points"):
        scores[hall_id][dimension_id] = points
    deductions: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for hall_id, dimension_id, total in (
        Inspection.objects.filter(
            inspected_on__year=scheme.year, dimension__scheme=scheme, **of_halls
        )
        .filter(Q(fixed_on__isnull=True) | Q(fixed_on__gt=F("fix_by")))
        .values("hall_id", "dimension_id")
        .annotate(total=Sum("deduction"))
        .order_by()
        .values_list("hall_id", "dimension_id", "total")
    ):
        deductions[hall_id][dimension_id] = total
    satisfaction = dict(
        SatisfactionResponse.objects.filter(quarter__startswith=str(scheme.year), **of_halls)
        .values("hall_id")
        .annotate(mean=Avg("rating"))
        .order_by()
        .values_list("hall_id", "mean")
    )
    results = []
    zero = Decimal(0)
    nothing: dict[int, Decimal] = {}
    # Looked up once: the loop below runs for every hall of a county export on every dimension.
    dims = [(d.pk, d.max_points, d.source == Dimension.Source.SATISFACTION) for d in dimensions]
    grade_for = scheme.grade_for
    for hall in halls:
        hall_id = hall.pk
        own = scores.get(hall_id, nothing)
        cut = deductions.get(hall_id, nothing)
        mean = satisfaction.get(hall_id)
        points: dict[int, Decimal] = {}
        total = zero
        for dim_id, max_points, is_satisfaction in dims:
            if is_satisfaction:
                value = Decimal(str(mean)) / 5 * max_points if mean is not None else zero
            else:
                value = own.get(dim_id, zero)
                if cut:
                    value -= cut.get(dim_id, zero)
            if value < zero:
                value = zero
            value = value.quantize(TWO, rounding=ROUND_HALF_UP)
            points[dim_id] = value
            total += value
        results.append(HallResult(hall, points, total, grade_for(total)))
    _rank_among_siblings(results)
    return results


def _rank_among_siblings(results: list[HallResult]) -> None:
    groups: dict[int | None, list[HallResult]] = defaultdict(list)
    for result in results:
        groups[result.hall.parent_id].append(result)
    for group in groups.values():
        group.sort(key=lambda r: r.total, reverse=True)
        for i, result in enumerate(group):
            same = i > 0 and result.total == group[i - 1].total
            result.rank = group[i - 1].rank if same else i + 1


# --- Exports: whole levels at once ----------------------------------------------------------------


HALL_GROUP_COLUMN = {
    HallKind.CENTRE: "tree_id",
    HallKind.MAIN: "main_hall_id",
    HallKind.BRANCH: "branch_hall_id",
    HallKind.POINT: "id",
}


def _centre_ids(tree_ids) -> dict[int, int]:
    return dict(
        Hall.objects.filter(kind=HallKind.CENTRE, tree_id__in=list(tree_ids)).values_list(
            "tree_id", "pk"
        )
    )


def completeness_rollup(
    *, kind: str, year: int, level: str, within: Hall | None = None
) -> dict[int, Completeness]:
    """``completeness`` for every hall of ``level`` (inside ``within``) in two aggregate queries:
    the open halls below each, and how many of them reported the year, and on time."""
    model = REPORT_MODELS[kind]
    column = HALL_GROUP_COLUMN[level]
    depth = LEVEL_BY_KIND[level]
    below = Hall.objects.filter(status=HallStatus.OPEN, level__gt=depth)
    if within is not None:
        below = below.filter(subtree_q(within))
    expected = dict(
        below.values(group=F(column)).annotate(n=Count("pk")).order_by().values_list("group", "n")
    )
    window = ReportingWindow.objects.filter(kind=kind, year=year).first()
    on_time = Q(submitted_at__lte=window.deadline) if window else Q(pk__in=[])
    reports = model.objects.filter(
        year=year,
        status__in=REPORTED,
        hall__status=HallStatus.OPEN,
        hall__level__gt=depth,
    )
    if within is not None:
        reports = reports.filter(
            hall__tree_id=within.tree_id, hall__lft__gte=within.lft, hall__rght__lte=within.rght
        )
    reported = {
        row["group"]: row
        for row in reports.values(group=F(f"hall__{column}"))
        .annotate(submitted=Count("pk"), on_time=Count("pk", filter=on_time))
        .order_by()
    }
    result = {
        group: Completeness(
            expected=n,
            submitted=reported.get(group, {}).get("submitted", 0),
            on_time=reported.get(group, {}).get("on_time", 0),
        )
        for group, n in expected.items()
    }
    if level == HallKind.CENTRE:
        centres = _centre_ids(result)
        result = {centres[t]: row for t, row in result.items() if t in centres}
    return result


def export_counties(within: Hall | None = None) -> QuerySet[Hall]:
    """The county main halls an export of ``within`` touches (all of them without it): those
    inside its subtree, or the one above it when ``within`` is a branch or a point."""
    counties = Hall.objects.filter(kind=HallKind.MAIN)
    if within is not None:
        counties = counties.filter(tree_id=within.tree_id).filter(
            Q(lft__gte=within.lft, rght__lte=within.rght)
            | Q(lft__lte=within.lft, rght__gte=within.rght)
        )
    return counties.select_related("parent").order_by("tree_id", "lft")


def county_siblings(counties: Iterable[Hall]) -> QuerySet[Hall]:
    """Every county of the cities of ``counties``: the halls a county's rank is taken among."""
    return Hall.objects.filter(
        kind=HallKind.MAIN, tree_id__in={c.tree_id for c in counties}
    ).order_by("tree_id", "lft")


def level_halls(level: str, within: Hall | None = None):
    """(id, code, name, parent name) of every hall of ``level`` inside ``within``, in tree
    order, in one query."""
    halls = Hall.objects.filter(kind=level)
    if within is not None:
        halls = halls.filter(subtree_q(within))
    return halls.order_by("tree_id", "lft").values_list("pk", "code", "name", "parent__name")


@dataclass(frozen=True)
class CountyCoverage:
    hall_id: int
    name: str
    counts: dict[str, int]


COVERAGE_COUNTS = (
    "main_planned",
    "main_open",
    "branch_planned",
    "branch_open",
    "point_planned",
    "point_open",
    "branch_staffed",
    "point_staffed",
)


def coverage_by_county(
    *, centre: Hall, within: Hall | None = None, min_branch: int, min_point: int
) -> list[CountyCoverage]:
    """Attachment 2 of the second seed, per county of ``centre``: the halls of each level in the
    plan (open or still 待建) and open, and how many open branches have at least ``min_branch``
    staff and open points at least ``min_point`` posts (a public-welfare post or a village
    manager). One aggregate query for the halls, one for the staffing."""
    from network.models import Membership, Role

    area = Q(tree_id=centre.tree_id)
    if within is not None:
        area &= subtree_q(within)
    counties = list(
        Hall.objects.filter(area, kind=HallKind.MAIN)
        .order_by("lft")
        .values_list("pk", "locality", "name")
    )
    halls = (
        Hall.objects.filter(area, level__gte=1)
        .exclude(status=HallStatus.CLOSED)
        .values("main_hall_id")
        .order_by()
    )
    opened = Q(status=HallStatus.OPEN)
    counts = {
        row.pop("main_hall_id"): row
        for row in halls.annotate(
            main_planned=Count("pk", filter=Q(kind=HallKind.MAIN)),
            main_open=Count("pk", filter=Q(kind=HallKind.MAIN) & opened),
            branch_planned=Count("pk", filter=Q(kind=HallKind.BRANCH)),
            branch_open=Count("pk", filter=Q(kind=HallKind.BRANCH) & opened),
            point_planned=Count("pk", filter=Q(kind=HallKind.POINT)),
            point_open=Count("pk", filter=Q(kind=HallKind.POINT) & opened),
        )
    }
    staff = Membership.objects.filter(hall=OuterRef("pk")).exclude(role=Role.OFFICIAL)
    posts = staff.filter(Q(public_welfare_post=True) | Q(role=Role.VILLAGE_MANAGER))

    def count(memberships):
        counted = memberships.order_by().values("hall").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    staffed = {
        row.pop("main_hall_id"): row
        for row in Hall.objects.filter(
            area, status=HallStatus.OPEN, kind__in=[HallKind.BRANCH, HallKind.POINT]
        )
        .annotate(staff_count=count(staff), post_count=count(posts))
        .values("main_hall_id")
        .order_by()
        .annotate(
            branch_staffed=Count("pk", filter=Q(kind=HallKind.BRANCH, staff_count__gte=min_branch)),
            point_staffed=Count("pk", filter=Q(kind=HallKind.POINT, post_count__gte=min_point)),
        )
    }
    return [
        CountyCoverage(
            hall_id=pk,
            name=locality or name,
            counts={
                key: (counts.get(pk, {}) | staffed.get(pk, {})).get(key, 0)
                for key in COVERAGE_COUNTS
            },
        )
        for pk, locality, name in counties
    ]


# --- Staff pages and the statistics API -----------------------------------------------------------


LEVEL_KIND = {level: kind for kind, level in LEVEL_BY_KIND.items()}


@dataclass(frozen=True)
class ChildStatus:
    """A hall directly below the one being looked at: its own report of the year, and how the
    halls below it reported."""

    hall: Hall
    report_id: int | None
    status: str | None
    submitted_at: datetime | None
    on_time: bool
    below: Completeness

    @property
    def status_label(self) -> str:
        return str(ReportStatus(self.status).label) if self.status else ""


def report_children_status(*, kind: str, hall: Hall, year: int) -> list[ChildStatus]:
    """Every child of ``hall`` with its own report's status and the completeness of its
    subtree, in a fixed number of queries however many children there are."""
    model = REPORT_MODELS[kind]
    children = list(Hall.objects.filter(parent=hall).order_by("lft"))
    if not children:
        return []
    reports = {
        row["hall_id"]: row
        for row in model.objects.filter(hall__parent=hall, year=year).values(
            "hall_id", "pk", "status", "submitted_at"
        )
    }
    window = ReportingWindow.objects.filter(kind=kind, year=year).first()
    below = completeness_rollup(kind=kind, year=year, level=LEVEL_KIND[hall.level + 1], within=hall)
    empty = Completeness(expected=0, submitted=0, on_time=0)
    rows = []
    for child in children:
        row = reports.get(child.pk, {})
        submitted_at = row.get("submitted_at")
        reported = row.get("status") in REPORTED
        rows.append(
            ChildStatus(
                hall=child,
                report_id=row.get("pk"),
                status=row.get("status"),
                submitted_at=submitted_at,
                on_time=bool(
                    reported and window and submitted_at and submitted_at <= window.deadline
                ),
                below=below.get(child.pk, empty),
            )
        )
    return rows


def assessment_results_among_siblings(
    scheme: AssessmentScheme, halls: Iterable[Hall], dimensions=None
) -> list[HallResult]:
    """``assessment_results`` for ``halls``, each ranked among all the children of its parent
    (not only among the halls asked for): one query for the siblings, then the usual ones."""
    halls = list(halls)
    parents = {h.parent_id for h in halls}
    q = Q(parent_id__in=[p for p in parents if p is not None])
    if None in parents:
        q |= Q(parent__isnull=True)
    results = assessment_results(scheme, Hall.objects.filter(q), dimensions)
    by_id = {r.hall.pk: r for r in results}
    return [by_id[h.pk] for h in halls]


def statistics_for_hall(*, hall: Hall, year: int) -> dict:
    """The public figures of a hall's subtree for a year: both reports' totals, counting
    submitted and approved reports only, and the completeness of the halls below."""
    result: dict = {"completeness": {}}
    for kind in (ReportKind.SERVICE, ReportKind.ASSET):
        result[str(kind)] = stats_for_hall(kind=kind, hall=hall, year=year)
        done = completeness(kind=kind, hall=hall, year=year)
        result["completeness"][str(kind)] = {
            "expected": done.expected,
            "submitted": done.submitted,
            "on_time": done.on_time,
            "rate": round(done.rate, 4),
        }
    return result
