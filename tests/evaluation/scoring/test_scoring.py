from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from evaluation.scoring import selectors as scoring_selectors
from evaluation.scoring import services as scoring
from evaluation.scoring.models import Dimension, Grade, MissingRule, ScoreChange
from network import services as network_services
from network.models import Hall, HallStatus

from ..factories import YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(db):
    return scoring.scheme_create(year=YEAR)


def dim(scheme, code):
    return scheme.dimensions.get(code=code)


def test_a_scheme_has_the_13_dimensions_of_the_seed(scheme):
    names = list(scheme.dimensions.values_list("name", flat=True))
    assert names == [
        "服务标准", "服务内容", "服务方式", "免费开放", "均等化水平", "资源整合流转", "经费投入",
        "人员配备", "技能培训", "设施环境", "机制保障", "参与情况", "满意度",
    ]  # fmt: skip
    assert sum(d.max_points for d in scheme.dimensions.all()) == 100
    with pytest.raises(ValidationError):
        scoring.scheme_create(year=YEAR)


def test_only_staff_of_an_ancestor_score_a_hall(cast, scheme):
    d = dim(scheme, "service_standard")
    for wrong in (
        cast.branch_staff,  # its own staff
        cast.other_branch_staff,
        cast.other_county_director,
        cast.county_official,  # officials read only
    ):
        with pytest.raises(PermissionDenied):
            scoring.score_set(dimension=d, hall=cast.branch, points=5, by=wrong)
    score = scoring.score_set(dimension=d, hall=cast.branch, points=7, by=cast.county_director)
    assert score.points == 7
    scoring.score_set(
        dimension=d, hall=cast.branch, points="6.5", comment="改", by=cast.centre_director
    )
    assert list(ScoreChange.objects.order_by("pk").values_list("old_points", "new_points")) == [
        (None, Decimal("7.0")),
        (Decimal("7.0"), Decimal("6.5")),
    ]


def test_points_must_fit_the_dimension(cast, scheme):
    with pytest.raises(ValidationError) as exc:
        scoring.score_set(
            dimension=dim(scheme, "service_standard"),
            hall=cast.branch,
            points=9,
            by=cast.county_director,
        )
    assert "points" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        scoring.score_set(
            dimension=dim(scheme, "satisfaction"),
            hall=cast.branch,
            points=1,
            by=cast.county_director,
        )
    assert "dimension" in exc.value.message_dict


def test_totals_grades_and_ranks_among_siblings(cast, scheme):
    dims = list(scheme.dimensions.exclude(source=Dimension.Source.SATISFACTION))
    for d in dims:  # 关上: full marks on every scored dimension = 92
        scoring.score_set(
            dimension=d, hall=cast.branch, points=d.max_points, by=cast.county_director
        )
    scoring.score_set(dimension=dims[0], hall=cast.other_branch, points=6, by=cast.county_director)
    for phone, rating in [("13800000001", 5), ("13800000002", 4)]:
        scoring.satisfaction_submit(hall_id=cast.branch.pk, phone=phone, rating=rating)
    halls = Hall.objects.filter(pk__in=[cast.branch.pk, cast.other_branch.pk])
    results = {r.hall.pk: r for r in scoring_selectors.assessment_results(scheme, halls)}
    best = results[cast.branch.pk]
    assert best.points[dim(scheme, "satisfaction").pk] == Decimal("7.2")  # 4.5 / 5 × 8
    assert best.total == Decimal("99.2")
    assert (best.grade, best.rank) == (Grade.EXCELLENT, 1)
    assert (best.missing, best.scaled, best.note) == ([], False, "")
    other = results[cast.other_branch.pk]
    # One dimension of 8 points has data: 6 scaled over it to the scheme's 100 points.
    assert (other.total, other.grade, other.rank) == (Decimal("75.0"), Grade.GOOD, 2)
    assert other.scaled and len(other.missing) == 12
    assert other.points[dims[1].pk] is None
    assert other.note == "缺项 12 项,总分按有数据的维度折算"


def test_a_scheme_may_count_a_missing_dimension_as_zero(cast, scheme):
    scoring.scheme_update(
        scheme=scheme,
        name=scheme.name,
        excellent_from=scheme.excellent_from,
        good_from=scheme.good_from,
        pass_from=scheme.pass_from,
        missing_rule=MissingRule.ZERO,
    )
    scheme.refresh_from_db()
    scoring.score_set(
        dimension=dim(scheme, "service_standard"),
        hall=cast.branch,
        points=6,
        by=cast.county_director,
    )
    [result] = scoring_selectors.assessment_results(scheme, [cast.branch])
    assert (result.total, result.grade, result.rank) == (Decimal("6.0"), Grade.FAIL, 1)
    assert not result.scaled and len(result.missing) == 12
    assert result.note == "缺项 12 项,缺项按 0 分计"


def test_a_satisfaction_dimension_without_answers_is_missing_not_zero(cast, scheme):
    """The issue's 92: full marks on every scored dimension and no survey answers."""
    for d in scheme.dimensions.exclude(source=Dimension.Source.SATISFACTION):
        scoring.score_set(
            dimension=d, hall=cast.branch, points=d.max_points, by=cast.county_director
        )
    [result] = scoring_selectors.assessment_results(scheme, [cast.branch])
    assert result.missing == [dim(scheme, "satisfaction").pk]
    assert (result.total, result.grade, result.scaled) == (Decimal("100.0"), Grade.EXCELLENT, True)


def test_unscored_and_planned_halls_are_neither_graded_nor_ranked(cast, scheme):
    std = dim(scheme, "service_standard")
    scoring.score_set(dimension=std, hall=cast.point, points=2, by=cast.county_director)
    # Survey answers alone are no assessment.
    scoring.satisfaction_submit(hall_id=cast.point2.pk, phone="13800000001", rating=5)
    # A planned hall is not assessed even if someone scored it.
    scoring.score_set(dimension=std, hall=cast.other_branch, points=8, by=cast.county_director)
    network_services.hall_update(hall=cast.other_branch, status=HallStatus.PLANNED)
    halls = Hall.objects.filter(pk__in=[cast.point.pk, cast.point2.pk, cast.other_branch.pk])
    results = {r.hall.pk: r for r in scoring_selectors.assessment_results(scheme, halls)}
    point, point2, planned = (
        results[cast.point.pk],
        results[cast.point2.pk],
        results[cast.other_branch.pk],
    )
    assert (point.status, point.grade, point.rank) == ("assessed", Grade.FAIL, 1)
    assert (point2.status, point2.total, point2.grade, point2.rank) == (
        "unassessed", None, None, None,
    )  # fmt: skip
    assert set(point2.points.values()) == {None} and point2.status_label == "未考核"
    assert (planned.status, planned.total, planned.grade, planned.rank) == (
        "planned", None, None, None,
    )  # fmt: skip
    assert planned.status_label == "待建" and planned.grade_label == ""


def test_an_unfixed_inspection_finding_costs_points(cast, scheme):
    d = dim(scheme, "mechanism")
    scoring.score_set(dimension=d, hall=cast.point, points=7, by=cast.branch_staff)
    today = timezone.localdate().replace(year=YEAR)
    inspection = scoring.inspection_record(
        hall=cast.point,
        inspector_hall=cast.county,
        inspected_on=today,
        findings="开放时间未公示",
        dimension=d,
        deduction=2,
        fix_by=today,
        by=cast.county_director,
    )
    point = Hall.objects.filter(pk=cast.point.pk)
    assert scoring_selectors.assessment_results(scheme, point)[0].points[d.pk] == Decimal("5.0")
    scoring.inspection_mark_fixed(inspection=inspection, fixed_on=today, by=cast.county_director)
    assert scoring_selectors.assessment_results(scheme, point)[0].points[d.pk] == Decimal("7.0")


def test_inspections_only_of_halls_below_and_with_sane_dates(cast, scheme):
    d = dim(scheme, "mechanism")
    common = {"findings": "x", "dimension": d, "by": cast.county_director}
    with pytest.raises(ValidationError):
        scoring.inspection_record(
            hall=cast.other_county_point, inspector_hall=cast.county,
            inspected_on=date(YEAR, 5, 1), fix_by=date(YEAR, 6, 1), **common,
        )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        scoring.inspection_record(
            hall=cast.point, inspector_hall=cast.county,
            inspected_on=date(YEAR, 5, 1), fix_by=date(YEAR, 4, 1), **common,
        )  # fmt: skip
    assert "fix_by" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        scoring.inspection_record(
            hall=cast.point, inspector_hall=cast.county, inspected_on=date(YEAR, 5, 1),
            fix_by=date(YEAR, 6, 1), findings="x", dimension=d, by=cast.county_official,
        )  # fmt: skip


def test_one_survey_answer_per_phone_per_hall_per_quarter(cast):
    scoring.satisfaction_submit(hall_id=cast.point.pk, phone="13800000001", rating=5)
    with pytest.raises(ValidationError) as exc:
        scoring.satisfaction_submit(hall_id=cast.point.pk, phone="13800000001", rating=3)
    assert "phone" in exc.value.message_dict
    scoring.satisfaction_submit(hall_id=cast.point2.pk, phone="13800000001", rating=3)
    with pytest.raises(ValidationError) as exc:
        scoring.satisfaction_submit(hall_id="x", phone="1", rating=9)
    assert set(exc.value.message_dict) == {"hall", "phone", "rating"}
