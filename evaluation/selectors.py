"""Reads that only the spreadsheets need: the counties an export touches, and the coverage of
the network (attachment 2 of the second seed)."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from network.models import Hall, HallKind, HallStatus, subtree_q

from .returns.selectors import Staffing, staffing


def export_counties(within: Hall | None = None) -> QuerySet[Hall]:
    """The county main halls an export of ``within`` touches (all of them without it): those
    inside its subtree, or the one above it when ``within`` is a branch or a point."""
    counties = Hall.objects.filter(kind=HallKind.MAIN)
    if within is not None:
        counties = counties.filter(
            subtree_q(within)
            | Q(tree_id=within.tree_id, lft__lte=within.lft, rght__gte=within.rght)
        )
    return counties.select_related("parent").order_by("tree_id", "lft")


def county_siblings(counties: Iterable[Hall]) -> QuerySet[Hall]:
    """Every county of the cities of ``counties``: the halls a county's rank is taken among."""
    return Hall.objects.filter(
        kind=HallKind.MAIN, tree_id__in={c.tree_id for c in counties}
    ).order_by("tree_id", "lft")


@dataclass(frozen=True)
class CoverageTarget:
    """One district's row of the task table (布点目标): the halls planned at each level."""

    district: str
    code: str | None
    main: int
    branch: int
    point: int


@functools.cache
def coverage_targets() -> dict[str, CoverageTarget]:
    """The task table (``fixtures/kunming_task_table.csv``, with the district codes of
    ``fixtures/kunming_districts.csv``), keyed by district code and by district name. Read once
    per process; the project's own copy, never the shared source."""
    fixtures = Path(settings.BASE_DIR) / "fixtures"
    with open(fixtures / "kunming_districts.csv", encoding="utf-8") as f:
        codes = {row["district"]: row["code"].strip() or None for row in csv.DictReader(f)}
    targets: dict[str, CoverageTarget] = {}
    with open(fixtures / "kunming_task_table.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["seq"].strip().isdigit():  # a total line, if a copy carries one
                continue
            district = row["district"].strip()
            target = CoverageTarget(
                district=district,
                code=codes.get(district),
                main=int(row["main_halls"]),
                branch=int(row["branches"]),
                point=int(row["service_points"]),
            )
            targets[district] = target
            if target.code:
                targets[target.code] = target
    return targets


def coverage_target(*, code: str | None, locality: str, name: str) -> CoverageTarget | None:
    """The task table's row of a county main hall, matched by code, then by district name
    (the hall's locality, or its name less 文化馆); None when the table has no row for it."""
    targets = coverage_targets()
    for key in (code, locality, name, name.removesuffix("文化馆")):
        if key and key in targets:
            return targets[key]
    return None


@dataclass(frozen=True)
class CountyCoverage:
    hall_id: int
    name: str
    counts: dict[str, int]
    target: CoverageTarget | None = None


COVERAGE_COUNTS = (
    "main_planned",
    "main_open",
    "branch_planned",
    "branch_open",
    "point_planned",
    "point_open",
    # By the asset returns of the year (``evaluation.returns.selectors.staffing``).
    "branch_staffed",
    "branch_unreported",
    "point_staffed",
    "point_unreported",
    # By the platform's accounts, the second signal.
    "branch_accounts",
    "point_accounts",
)


def coverage_by_county(
    *, centre: Hall, year: int, within: Hall | None = None, min_branch: int, min_point: int
) -> list[CountyCoverage]:
    """Attachment 2 of the second seed, per county of ``centre``: the halls of each level in the
    plan (open or still 待建) and open; how many open branches reported at least ``min_branch``
    编制 and open points at least ``min_point`` 公益岗位 in their asset returns for ``year``,
    and how many did not report; and, beside them, how many have as many accounts on the
    platform. One aggregate query for the halls, one for the staffing."""
    area = Q(tree_id=centre.tree_id)
    if within is not None:
        area &= subtree_q(within)
    counties = list(
        Hall.objects.filter(area, kind=HallKind.MAIN)
        .order_by("lft")
        .values_list("pk", "locality", "name", "code")
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
    branch, point = Q(kind=HallKind.BRANCH), Q(kind=HallKind.POINT)
    met, unreported = Q(staffing=Staffing.MET), Q(staffing=Staffing.UNREPORTED)
    enough_accounts = Q(accounts__gte=F("required"))
    staffed = {
        row.pop("main_hall_id"): row
        for row in staffing(
            year=year,
            halls=Hall.objects.filter(area),
            min_branch=min_branch,
            min_point=min_point,
        )
        .values("main_hall_id")
        .order_by()
        .annotate(
            branch_staffed=Count("pk", filter=branch & met),
            branch_unreported=Count("pk", filter=branch & unreported),
            point_staffed=Count("pk", filter=point & met),
            point_unreported=Count("pk", filter=point & unreported),
            branch_accounts=Count("pk", filter=branch & enough_accounts),
            point_accounts=Count("pk", filter=point & enough_accounts),
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
            target=coverage_target(code=code, locality=locality or "", name=name),
        )
        for pk, locality, name, code in counties
    ]
