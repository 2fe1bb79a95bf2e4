"""Reads of the assessment: per-dimension points, totals, grades and ranks.

The rule, in one place (every output asks ``assessment_results`` and its siblings):

- A planned hall (待建) is neither graded nor ranked, whatever rows it has.
- Any other hall is assessed when its assessors entered at least one score in the scheme;
  otherwise it is unassessed (未考核): no total, no grade, no rank. Survey answers or
  inspections alone do not make an assessment.
- For an assessed hall, a dimension has data when it has a score (scored dimensions) or at least
  one survey answer of the year (satisfaction); otherwise it is 缺项 and its points are ``None``.
- The total follows the scheme's ``missing_rule``: ``scale`` (the default) takes the points of the
  dimensions with data times the full points of all dimensions over the full points of the
  dimensions with data, rounded to 0.1, and marks the result ``scaled``; ``zero`` counts a 缺项
  as 0. Either way ``missing`` names the 缺项 dimensions.
- Grades go to assessed halls only, and ranks are taken among the assessed children of the
  same parent (equal totals share a rank).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from network.models import Hall, HallStatus

from .models import (
    AssessmentScheme,
    Dimension,
    Grade,
    Inspection,
    MissingRule,
    SatisfactionResponse,
    Score,
)

TWO = Decimal("0.1")


class ResultStatus:
    ASSESSED = "assessed"
    UNASSESSED = "unassessed"
    PLANNED = "planned"


@dataclass
class HallResult:
    hall: Hall | ExportHall
    # dimension id → points, in the order of the dimensions; None for a 缺项 (and for every
    # dimension of a hall that is not assessed)
    points: dict[int, Decimal | None] = field(default_factory=dict)
    total: Decimal | None = None
    grade: str | None = None
    rank: int | None = None
    status: str = ResultStatus.UNASSESSED
    missing: list[int] = field(default_factory=list)  # the 缺项 dimensions' ids
    scaled: bool = False

    @property
    def assessed(self) -> bool:
        return self.status == ResultStatus.ASSESSED

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label) if self.grade else ""

    @property
    def status_label(self) -> str:
        """The grade of an assessed hall, else 未考核 or 待建."""
        if self.status == ResultStatus.PLANNED:
            return _("待建")
        if self.status == ResultStatus.UNASSESSED:
            return _("未考核")
        return self.grade_label

    @property
    def note(self) -> str:
        """What a reader of the total must know: how many 缺项 and how they were counted."""
        if not self.missing:
            return ""
        if self.scaled:
            return _("缺项 %(n)d 项,总分按有数据的维度折算") % {"n": len(self.missing)}
        return _("缺项 %(n)d 项,缺项按 0 分计") % {"n": len(self.missing)}


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
    status: str


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
        .values_list("pk", "code", "name", "kind", "parent_id", "parent__name", "lft", "status")
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
    full = sum((d.max_points for d in dimensions), zero)
    scale = scheme.missing_rule == MissingRule.SCALE
    grade_for = scheme.grade_for
    blank = dict.fromkeys((d.pk for d in dimensions), None)
    for hall in halls:
        hall_id = hall.pk
        if hall.status == HallStatus.PLANNED:
            results.append(HallResult(hall, dict(blank), status=ResultStatus.PLANNED))
            continue
        own = scores.get(hall_id)
        if not own:
            results.append(HallResult(hall, dict(blank), status=ResultStatus.UNASSESSED))
            continue
        cut = deductions.get(hall_id, nothing)
        mean = satisfaction.get(hall_id)
        points: dict[int, Decimal | None] = {}
        missing: list[int] = []
        total = with_data = zero
        for dim_id, max_points, is_satisfaction in dims:
            if is_satisfaction:
                value = Decimal(str(mean)) / 5 * max_points if mean is not None else None
            else:
                value = own.get(dim_id)
                if value is not None and cut:
                    value -= cut.get(dim_id, zero)
            if value is None:
                points[dim_id] = None
                missing.append(dim_id)
                continue
            if value < zero:
                value = zero
            value = value.quantize(TWO, rounding=ROUND_HALF_UP)
            points[dim_id] = value
            total += value
            with_data += max_points
        scaled = bool(missing) and scale
        if scaled and with_data:
            total = (total * full / with_data).quantize(TWO, rounding=ROUND_HALF_UP)
        results.append(
            HallResult(
                hall,
                points,
                total,
                grade_for(total),
                status=ResultStatus.ASSESSED,
                missing=missing,
                scaled=scaled,
            )
        )
    _rank_among_siblings(results)
    return results


def _rank_among_siblings(results: list[HallResult]) -> None:
    groups: dict[int | None, list[HallResult]] = defaultdict(list)
    for result in results:
        if result.assessed:
            groups[result.hall.parent_id].append(result)
    for group in groups.values():
        group.sort(key=lambda r: r.total, reverse=True)
        for i, result in enumerate(group):
            same = i > 0 and result.total == group[i - 1].total
            result.rank = group[i - 1].rank if same else i + 1


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


def inspections_todo(scope_q: Q, *, today) -> dict[str, int]:
    """The inspections' findings not yet put right in the halls ``scope_q`` covers (over
    inspections, e.g. ``scope.q("hall__")``), and of those the ones past their deadline."""
    return Inspection.objects.filter(scope_q, fixed_on__isnull=True).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(fix_by__lt=today))
    )
