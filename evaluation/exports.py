"""The spreadsheets officials judge the network by.

* ``write_assessment``: a year's scores, a sheet per county and a summary of the counties;
* ``write_statistics``: the yearly figures rolled up level by level;
* ``write_coverage``: the coverage table in the shape of attachment 2 of the second seed.

Rows come from generators and go to ``common.xlsx`` (openpyxl write-only), so memory stays flat
however large the network. Each county costs one bounded set of queries, never one per hall.

Each spreadsheet is an ``Exporter`` in ``EXPORTERS`` (pretix's ``BaseExporter``): an identifier,
a name, a check of the request and ``render``. The admin, the command and the background run
(``services.export_start``) all pick one from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.xlsx import Column, Sheet, SignOff, write_workbook
from network.models import LEVEL_BY_KIND, Hall, HallKind
from network.selectors import tree_schemes

from . import selectors
from .returns import selectors as returns
from .returns.models import NOT_REPORTED, AssetReturn, ReturnKind, Rollup, ServiceReturn
from .scoring import selectors as scoring
from .scoring.models import AssessmentScheme

Progress = Callable[[int, int], None]
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the 填报日期 is a day in China whatever the server says
POINTS = "0.0"
WHOLE = "0"


def _points_label(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _fresh(hall: Hall | None) -> Hall | None:
    # Tree numbers held in memory go stale with every insert elsewhere in the tree.
    return None if hall is None else Hall.objects.get(pk=hall.pk)


def _exporting_hall(within: Hall | None) -> Hall | None:
    """The hall a workbook is filed by: ``within``, or the centre when the whole network is
    one city (None when it is several)."""
    if within is not None:
        return within
    centres = list(Hall.objects.filter(kind=HallKind.CENTRE)[:2])
    return centres[0] if len(centres) == 1 else None


def signoff(within: Hall | None) -> SignOff:
    """填报单位 (the exporting hall), a line for 负责人, and today in Asia/Shanghai."""
    hall = _exporting_hall(within)
    return SignOff(unit=hall.name if hall else "", on=timezone.localdate(timezone=SHANGHAI))


def download_name(kind: str, year: int, within: Hall | None) -> str:
    """A download's file name: ``2025年度考核结果表-昆明市.xlsx`` (the exporting hall's name, or
    the city's when the whole network is one city)."""
    found = EXPORTERS.get(kind)
    title = str(found.file_title) if found else kind
    hall = _exporting_hall(within)
    if hall is None:
        where = ""
    elif within is None:
        where = hall.locality or hall.name
    else:
        where = hall.name
    name = _("%(year)d年度%(title)s") % {"year": year, "title": title}
    if where:
        name = f"{name}-{where}"
    for ch in '\\/:*?"<>|':
        name = name.replace(ch, "·")
    return f"{name}.xlsx"


# --- Assessment -----------------------------------------------------------------------------------


def _assessment_columns(dimensions) -> list[Column]:
    return [
        Column(_("序号"), 6, WHOLE),
        Column(_("编码"), 16),
        Column(_("馆名"), 34),
        Column(_("层级"), 10),
        Column(_("上级馆"), 26),
        *(
            Column(
                _("%(name)s(%(points)s分)")
                % {"name": d.name, "points": _points_label(d.max_points)},
                9,
                POINTS,
            )
            for d in dimensions
        ),
        Column(_("总分"), 8, POINTS),
        Column(_("等级"), 8),
        Column(_("同级排名"), 9, WHOLE),
        Column(_("备注"), 30),
    ]


def _result_cells(result: scoring.HallResult) -> list:
    """Total, grade, rank and note of a hall: 未考核 or 待建 in place of a total, and no grade
    or rank, when it is not assessed."""
    if not result.assessed:
        return [result.status_label, "", "", ""]
    return [result.total, result.grade_label, result.rank, result.note]


def _points_cells(result: scoring.HallResult) -> list:
    if not result.assessed:
        return ["" for _points in result.points]
    missing = _("缺项")
    return [missing if p is None else p for p in result.points.values()]


def _thresholds(scheme: AssessmentScheme) -> str:
    return _("等级:优秀 ≥ %(e)s 分;良好 ≥ %(g)s 分;合格 ≥ %(p)s 分;不合格 < %(p)s 分") % {
        "e": _points_label(Decimal(scheme.excellent_from)),
        "g": _points_label(Decimal(scheme.good_from)),
        "p": _points_label(Decimal(scheme.pass_from)),
    }


def write_assessment(
    scheme: AssessmentScheme,
    target: str | IO[bytes],
    within: Hall | None = None,
    progress: Progress | None = None,
) -> int:
    """The assessment workbook of ``scheme``'s year: a summary sheet with one row per county
    (total, grade, rank among the counties of its city, and the grade thresholds), then a sheet
    per county with a row per hall in tree order. ``within`` limits it to a hall's subtree.
    A hall that is not assessed shows 未考核 (a planned one 待建) and no grade or rank; a
    dimension with no data shows 缺项 and the note says how the total counted it (the rule is
    ``scoring.selectors``'). Returns the number of county sheets."""
    within = _fresh(within)
    filed_by = signoff(within)
    dimensions = list(scheme.dimensions.all())
    counties = list(selectors.export_counties(within))
    # Each tree's names for its levels (支馆 in a 澄江 tree), in one query.
    schemes = tree_schemes({county.tree_id for county in counties})
    # A county is ranked among all the counties of its city, even those outside ``within``.
    by_county = {
        r.hall.pk: r
        for r in scoring.assessment_results(scheme, selectors.county_siblings(counties), dimensions)
    }
    total = len(counties)
    if progress:
        progress(0, total)

    def summary_rows() -> Iterator[list]:
        for n, county in enumerate(counties, start=1):
            result = by_county[county.pk]
            yield [
                n,
                county.code or "",
                county.name,
                county.parent.name if county.parent else "",
                *_result_cells(result),
            ]

    def county_rows(done: int, county: Hall) -> Iterator[list]:
        if within is not None and within.kind in (HallKind.BRANCH, HallKind.POINT):
            keep = range(within.lft, within.rght + 1)
        else:
            keep = None
        n = 0
        kinds = schemes[county.tree_id].level_names()
        for result in scoring.assessment_county_results(scheme, county, dimensions):
            hall = result.hall
            if keep is not None and hall.lft not in keep:
                continue
            n += 1
            if hall.pk == county.pk:
                result = by_county[hall.pk]  # ranked among the counties of its city
            yield [
                n,
                hall.code or "",
                hall.name,
                kinds[hall.kind],
                hall.parent_name or "",
                *_points_cells(result),  # in the order of ``dimensions``
                *_result_cells(result),
            ]
        if progress:
            progress(done, total)

    def sheets() -> Iterator[Sheet]:
        yield Sheet(
            title=_("汇总"),
            title_rows=[scheme.name, _thresholds(scheme)],
            signoff=filed_by,
            columns=[
                Column(_("序号"), 6, WHOLE),
                Column(_("编码"), 16),
                Column(_("县(市)区文化馆"), 30),
                Column(_("所属中心馆"), 26),
                Column(_("总分"), 8, POINTS),
                Column(_("等级"), 8),
                Column(_("同级排名"), 9, WHOLE),
                Column(_("备注"), 30),
            ],
            rows=summary_rows(),
        )
        columns = _assessment_columns(dimensions)
        for done, county in enumerate(counties, start=1):
            yield Sheet(
                title=county.name,
                title_rows=[f"{scheme.name} · {county.name}"],
                signoff=filed_by,
                columns=columns,
                rows=county_rows(done, county),
            )

    write_workbook(sheets(), target)
    return total


# --- Annual statistics ----------------------------------------------------------------------------

STATISTICS_LEVELS = [
    (HallKind.CENTRE, "市级汇总"),
    (HallKind.MAIN, "县级汇总"),
    (HallKind.BRANCH, "乡镇汇总"),
]


def _figure_columns(model, group: str) -> list[Column]:
    columns = []
    for name in model.FIGURES:
        field = model._meta.get_field(name)
        places = getattr(field, "decimal_places", 0)
        fmt = "0." + "0" * places if places else WHOLE
        columns.append(Column(model.figure_label(name), 11, fmt, group=group))
    return columns


def _figure_cell(model, name: str, totals: dict):
    if model.rollup_of(name) == Rollup.NONE:
        return None
    return totals.get(name) or 0


def _statistics_columns() -> list[Column]:
    service, asset = _("服务统计年报"), _("资产统计年报")
    return [
        Column(_("序号"), 6, WHOLE),
        Column(_("编码"), 16),
        Column(_("馆名"), 30),
        Column(_("上级馆"), 24),
        *_figure_columns(ServiceReturn, service),
        *_figure_columns(AssetReturn, asset),
        Column(_("已报送/应报送"), 10, group=_("服务年报报送")),
        Column(_("按时"), 8, WHOLE, group=_("服务年报报送")),
        Column(_("已报送/应报送"), 10, group=_("资产年报报送")),
        Column(_("按时"), 8, WHOLE, group=_("资产年报报送")),
    ]


def write_statistics(year: int, target: str | IO[bytes], within: Hall | None = None) -> int:
    """The yearly service and asset figures of every centre, county and township hall (inside
    ``within``), each rolled up over its whole subtree as the figure declares (a count is the
    total, the weekly opening hours the mean over the halls that reported), 未报送 where nobody
    reported, with how many halls below it reported. A fixed number of queries per level.
    Returns the number of sheets."""
    within = _fresh(within)
    levels = [
        (level, title)
        for level, title in STATISTICS_LEVELS
        if within is None or LEVEL_BY_KIND[level] >= within.level
    ]
    kinds = (ReturnKind.SERVICE, ServiceReturn), (ReturnKind.ASSET, AssetReturn)

    def rows(level: str) -> Iterator[list]:
        figures = {
            kind: returns.stats_rollup(kind=kind, year=year, level=level, within=within)
            for kind, _model in kinds
        }
        complete = {
            kind: returns.completeness_rollup(kind=kind, year=year, level=level, within=within)
            for kind, _model in kinds
        }
        empty = returns.Completeness(expected=0, submitted=0, on_time=0)
        not_reported = str(NOT_REPORTED)
        halls = returns.level_halls(level, within).iterator(chunk_size=2000)
        for n, (pk, code, name, parent_name) in enumerate(halls, start=1):
            row = [n, code or "", name, parent_name or ""]
            for kind, model in kinds:
                totals = figures[kind].get(pk)
                if totals is None:  # nobody below reported: not a zero
                    row.extend([not_reported] * len(model.FIGURES))
                else:
                    row.extend(_figure_cell(model, f, totals) for f in model.FIGURES)
            for kind, _model in kinds:
                c = complete[kind].get(pk, empty)
                row.extend([f"{c.submitted}/{c.expected}", c.on_time])
            yield row

    columns = _statistics_columns()
    title = _("%(year)d 年度服务统计与资产统计年报(按下属各馆汇总)") % {"year": year}
    filed_by = signoff(within)
    write_workbook(
        (
            Sheet(
                title=_(sheet),
                title_rows=[title],
                signoff=filed_by,
                columns=columns,
                rows=rows(level),
            )
            for level, sheet in levels
        ),
        target,
    )
    return len(levels)


# --- Coverage -------------------------------------------------------------------------------------


#: The levels of the coverage table: (the task table's field, the planned count, the open count).
COVERAGE_LEVELS = (
    ("main", "main_planned", "main_open"),
    ("branch", "branch_planned", "branch_open"),
    ("point", "point_planned", "point_open"),
)
#: What a county with no row in the task table shows as its target and gap.
NO_TARGET = "—"


def _coverage_columns(staffing_year: int) -> list[Column]:
    target, planned, opened, gap = _("目标"), _("布点"), _("已开放"), _("缺口")
    main = _("县(市)区文化馆(总馆)")
    branch = _("乡镇(街道)文化站(分馆)")
    point = _("村(社区)综合文化服务中心(服务点)")
    columns = [Column(_("序号"), 6, WHOLE), Column(_("县(市)区名称"), 18)]
    for group, width in ((main, 8), (branch, 9), (point, 11)):
        columns += [
            Column(target, width, WHOLE, group=group),
            Column(planned, width, WHOLE, group=group),
            Column(opened, width, WHOLE, group=group),
            Column(gap, width, WHOLE, group=group),
        ]
    reported = _("人员配备达标(按%(year)d年资产统计年报)") % {"year": staffing_year}
    accounts = _("平台账号(参考)")
    return [
        *columns,
        Column(
            _("分馆编制≥%(n)d名") % {"n": settings.STAFFING_MIN_BRANCH}, 12, WHOLE, group=reported
        ),
        Column(_("分馆未报送"), 10, WHOLE, group=reported),
        Column(
            _("服务点公益岗位≥%(n)d个") % {"n": settings.STAFFING_MIN_POINT},
            14,
            WHOLE,
            group=reported,
        ),
        Column(_("服务点未报送"), 11, WHOLE, group=reported),
        Column(
            _("分馆账号≥%(n)d个") % {"n": settings.STAFFING_MIN_BRANCH}, 12, WHOLE, group=accounts
        ),
        Column(_("服务点有公益岗位或文化管理员账号"), 16, WHOLE, group=accounts),
    ]


#: The staffing counts of a county's row, in the order of their columns.
COVERAGE_STAFFING = (
    "branch_staffed",
    "branch_unreported",
    "point_staffed",
    "point_unreported",
    "branch_accounts",
    "point_accounts",
)


def _coverage_cells(county: selectors.CountyCoverage) -> list:
    """Target, planned, open and gap (the target less the open halls, never below 0) per level;
    target and gap are "—" for a county the task table has no row for, never 0."""
    cells: list = []
    for field, planned, opened in COVERAGE_LEVELS:
        if county.target is None:
            cells += [NO_TARGET, county.counts[planned], county.counts[opened], NO_TARGET]
        else:
            goal = getattr(county.target, field)
            gap = max(goal - county.counts[opened], 0)
            cells += [goal, county.counts[planned], county.counts[opened], gap]
    return [*cells, *(county.counts[key] for key in COVERAGE_STAFFING)]


def _coverage_sheet(
    centre: Hall, within: Hall | None, filed_by: SignOff, year: int | None = None
) -> Sheet:
    # Staffing is read from the asset returns: of the year asked for, else of last year (the
    # returns due by now).
    staffing_year = year if year is not None else timezone.localdate().year - 1

    def rows() -> Iterator[list]:
        counties = selectors.coverage_by_county(
            centre=centre,
            year=staffing_year,
            within=within,
            min_branch=settings.STAFFING_MIN_BRANCH,
            min_point=settings.STAFFING_MIN_POINT,
        )
        # Target and gap start blank (they stay "—" when no county has a row), counts at 0.
        sums: list = [*[None, 0, 0, None] * len(COVERAGE_LEVELS), *[0] * len(COVERAGE_STAFFING)]
        for n, county in enumerate(counties, start=1):
            cells = _coverage_cells(county)
            yield [n, county.name, *cells]
            sums = [_add(total, value) for total, value in zip(sums, cells, strict=True)]
        yield [None, _("合计"), *(NO_TARGET if total is None else total for total in sums)]

    today = timezone.localdate().isoformat()
    if year is None:
        when = _("截至 %(date)s") % {"date": today}
    else:
        # Halls carry no opening date (created_at is when the row was typed in), so a coverage
        # of a past year cannot be rebuilt: the sheet says it shows the network as it is today.
        when = _("%(year)d 年度导出;馆没有开放日期记录,数字为截至 %(date)s 的现状,不按年份回溯") % {
            "year": year,
            "date": today,
        }
    return Sheet(
        title=centre.locality or centre.name,
        title_rows=[
            _("%(city)s县级文化馆总分馆制建设布点与人员配备情况表") % {"city": centre.locality},
            when
            + _(
                ";目标取自任务表,缺口 = 目标 − 已开放,任务表中没有的区县显示“—”;"
                "布点含待建,人员配备只计已开放的馆"
            ),
            _(
                "人员配备按 %(year)d 年度各馆已报送的资产统计年报(在编人员、公益岗位)判定,"
                "未报送的馆单列;平台账号数只作参考"
            )
            % {"year": staffing_year},
        ],
        signoff=filed_by,
        columns=_coverage_columns(staffing_year),
        rows=rows(),
    )


def _add(total, value):
    """A column total that skips the "—" of counties without a target (None when all lack one)."""
    if value == NO_TARGET:
        return total
    return value if total is None else total + value


def write_coverage(
    centre: Hall | None,
    target: str | IO[bytes],
    within: Hall | None = None,
    year: int | None = None,
) -> int:
    """The coverage table of a city (``centre``), or of every city as a sheet each when
    ``centre`` is None; ``within`` limits the counts to a hall's subtree. ``year`` is the year
    the export was asked for: halls carry no opening date, so the counts are today's and the
    sheet's note says so. Returns the sheets."""
    within = _fresh(within)
    if centre is not None:
        centres = [centre]
    else:
        centres = list(Hall.objects.filter(kind=HallKind.CENTRE).order_by("tree_id"))
    filed_by = signoff(within or centre)
    write_workbook((_coverage_sheet(c, within, filed_by, year) for c in centres), target)
    return len(centres)


# --- The registry ---------------------------------------------------------------------------------


class Exporter:
    """One spreadsheet: ``identifier`` (what a request names), ``verbose_name`` (what a person
    reads), ``check`` (a bad request refused before anything is queued) and ``render``."""

    identifier: str
    verbose_name: str | Promise

    @property
    def file_title(self) -> str | Promise:
        """What a download's file name calls the spreadsheet (after the year)."""
        return self.verbose_name

    def check(self, *, year: int, within: Hall | None) -> None:
        """Raise ValidationError for a request that cannot be rendered."""

    def render(
        self, *, year: int, within: Hall | None, target, progress: Progress | None = None
    ) -> None:
        raise NotImplementedError


EXPORTERS: dict[str, Exporter] = {}


def register(cls: type[Exporter]) -> type[Exporter]:
    EXPORTERS[cls.identifier] = cls()
    return cls


def exporter(identifier: str) -> Exporter:
    try:
        return EXPORTERS[identifier]
    except KeyError:
        raise ValidationError(
            {"kind": _("没有这种导出:%(kind)s。") % {"kind": identifier}}
        ) from None


@register
class AssessmentExporter(Exporter):
    identifier = "assessment"
    verbose_name = gettext_lazy("考核结果表")

    def _scheme(self, year: int) -> AssessmentScheme:
        scheme = AssessmentScheme.objects.filter(year=year).first()
        if scheme is None:
            raise ValidationError({"year": _("%(year)d 年还没有考核方案。") % {"year": year}})
        return scheme

    def check(self, *, year, within):
        self._scheme(year)

    def render(self, *, year, within, target, progress=None):
        write_assessment(self._scheme(year), target, within=within, progress=progress)


@register
class StatisticsExporter(Exporter):
    identifier = "statistics"
    verbose_name = gettext_lazy("年度统计汇总表")
    file_title = gettext_lazy("服务统计与资产统计年报")

    def render(self, *, year, within, target, progress=None):
        write_statistics(year, target, within=within)
        if progress:
            progress(1, 1)


@register
class CoverageExporter(Exporter):
    identifier = "coverage"
    verbose_name = gettext_lazy("总分馆建设情况表")

    def render(self, *, year, within, target, progress=None):
        centre = None
        if within is not None:
            centre = Hall.objects.get(tree_id=within.tree_id, level=0)
        write_coverage(
            centre,
            target,
            within=None if within is None or within.level == 0 else within,
            year=year,
        )
        if progress:
            progress(1, 1)
