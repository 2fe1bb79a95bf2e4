from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities import services as activity_services
from activities.models import Category
from evaluation.returns import selectors as returns_selectors
from evaluation.returns import services as returns
from evaluation.returns.models import FigureChange, ReturnKind, ReturnStatus
from network.models import HallKind
from tests.activities.factories import published_activity

from ..factories import YEAR, closed_window, open_window

pytestmark = pytest.mark.django_db
SERVICE, ASSET = ReturnKind.SERVICE, ReturnKind.ASSET


def report(hall, kind=SERVICE):
    return returns.return_get_or_create(kind=kind, hall=hall, year=YEAR)


def test_entering_figures_keeps_who_and_when(cast):
    open_window()
    r = report(cast.branch)
    returns.return_update(
        kind=SERVICE,
        annual_return=r,
        by=cast.branch_staff,
        values={"teams": "12", "volunteers": 30},
    )
    r.refresh_from_db()
    assert (r.teams, r.volunteers) == (12, 30)
    changes = FigureChange.objects.filter(return_id=r.pk, field="teams")
    assert [(c.old_value, c.new_value, c.by.username) for c in changes] == [
        ("0", "12", "branch_staff")
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"teams": "十二"}, "teams"),
        ({"teams": -1}, "teams"),
        ({"opening_hours_weekly": "200"}, "opening_hours_weekly"),
        ({"nonsense": 1}, "nonsense"),
        ({"activities": 3}, "activities"),  # filled by the portal, not typed in
    ],
)
def test_bad_figures_name_the_field_and_change_nothing(cast, values, field):
    open_window()
    r = report(cast.branch)
    with pytest.raises(ValidationError) as exc:
        returns.return_update(
            kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"volunteers": 5, **values}
        )
    assert field in exc.value.message_dict
    r.refresh_from_db()
    assert r.volunteers == 0


def test_figures_the_portal_knows_are_filled_in_from_its_records(cast):
    activity = published_activity(cast.branch, capacity=10, category=Category.TRAINING)
    booking = activity_services.booking_create(
        activity_id=activity.pk, name="张", phone="13800000001", seats=3
    )
    activity_services.booking_check_in(code=booking.code, by_user=cast.branch_staff)
    year = timezone.localtime(activity.start).year
    r = returns.return_get_or_create(kind=SERVICE, hall=cast.branch, year=year)
    assert (r.activities, r.trainings, r.participants) == (1, 1, 3)
    assert FigureChange.objects.filter(return_id=r.pk, field="participants").exists()


def test_a_report_locks_at_its_deadline_until_the_parent_reopens_it(cast):
    closed_window()
    r = report(cast.branch)
    with pytest.raises(ValidationError):
        returns.return_update(
            kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"teams": 1}
        )
    with pytest.raises(PermissionDenied):  # a hall cannot reopen its own report
        returns.return_reopen(
            kind=SERVICE,
            annual_return=r,
            by=cast.branch_staff,
            until=timezone.now() + timedelta(days=3),
        )
    returns.return_reopen(
        kind=SERVICE,
        annual_return=r,
        by=cast.county_director,
        until=timezone.now() + timedelta(days=3),
    )
    returns.return_update(kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"teams": 1})
    r.refresh_from_db()
    assert r.teams == 1


def test_submission_and_approval_by_the_parent(cast):
    open_window()
    r = report(cast.branch)
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)
    with pytest.raises(ValidationError):  # submitted: locked
        returns.return_update(
            kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"teams": 2}
        )
    for wrong in (cast.branch_staff, cast.other_branch_staff, cast.other_county_director):
        with pytest.raises(PermissionDenied):
            returns.return_review(kind=SERVICE, annual_return=r, by=wrong, approve=True)
    with pytest.raises(PermissionDenied):  # officials read, they do not approve
        returns.return_review(kind=SERVICE, annual_return=r, by=cast.county_official, approve=True)
    with pytest.raises(ValidationError) as exc:
        returns.return_review(kind=SERVICE, annual_return=r, by=cast.county_director, approve=False)
    assert "comment" in exc.value.message_dict
    returned = returns.return_review(
        kind=SERVICE, annual_return=r, by=cast.county_director, approve=False, comment="团队数有误"
    )
    assert returned.status == ReturnStatus.RETURNED
    returns.return_update(kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"teams": 2})
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)
    approved = returns.return_review(
        kind=SERVICE, annual_return=r, by=cast.county_director, approve=True
    )
    assert approved.status == ReturnStatus.APPROVED
    steps = FigureChange.objects.filter(return_id=r.pk, field="status").order_by("at", "pk")
    assert [s.new_value for s in steps] == ["submitted", "returned", "submitted", "approved"]


def test_staff_of_another_branch_cannot_enter_figures(cast):
    open_window()
    r = report(cast.branch)
    with pytest.raises(PermissionDenied):
        returns.return_update(
            kind=SERVICE, annual_return=r, by=cast.other_branch_staff, values={"teams": 9}
        )


def _reported(hall, kind=SERVICE, **values):
    r = report(hall, kind)
    type(r).objects.filter(pk=r.pk).update(status=ReturnStatus.SUBMITTED, **values)
    return r


def test_rollup_totals_equal_the_sum_of_their_leaves(cast):
    _reported(cast.point, teams=3, volunteers=10)
    _reported(cast.point2, teams=4, volunteers=1)
    _reported(cast.branch, teams=5)
    _reported(cast.other_branch_point, teams=7)
    _reported(cast.other_county_point, teams=100)
    _reported(cast.county, teams=1)
    report(cast.other_branch)  # a draft counts for nothing
    by_branch = returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.BRANCH)
    assert by_branch[cast.branch.pk]["teams"] == 3 + 4 + 5
    assert by_branch[cast.other_branch.pk]["teams"] == 7
    by_county = returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.MAIN)
    assert by_county[cast.county.pk]["teams"] == 3 + 4 + 5 + 7 + 1
    assert by_county[cast.county.pk]["volunteers"] == 11
    assert by_county[cast.other_county.pk]["teams"] == 100
    by_centre = returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.CENTRE)
    assert by_centre[cast.centre.pk]["teams"] == 120
    county = type(cast.county).objects.get(pk=cast.county.pk)
    assert returns_selectors.stats_for_hall(kind=SERVICE, hall=county, year=YEAR)["teams"] == 20


def test_rollup_of_a_level_is_one_query(cast, django_assert_num_queries):
    _reported(cast.point, teams=3)
    with django_assert_num_queries(1):
        returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.MAIN)


def test_completeness_counts_submitted_and_on_time(cast):
    window = open_window()
    _reported(cast.point, submitted_at=window.deadline - timedelta(days=1))
    _reported(cast.point2, submitted_at=window.deadline + timedelta(days=1))
    branch = type(cast.branch).objects.get(pk=cast.branch.pk)
    result = returns_selectors.completeness(kind=SERVICE, hall=branch, year=YEAR)
    assert (result.expected, result.submitted, result.on_time) == (2, 2, 1)
    county = type(cast.county).objects.get(pk=cast.county.pk)
    result = returns_selectors.completeness(kind=SERVICE, hall=county, year=YEAR)
    assert (result.expected, result.submitted) == (5, 2)


def test_asset_reports_take_decimals(cast):
    open_window(ASSET)
    r = report(cast.branch, ASSET)
    returns.return_update(
        kind=ASSET,
        annual_return=r,
        by=cast.branch_staff,
        values={"floor_area": "350.5", "funding": "12.30"},
    )
    r.refresh_from_db()
    assert (r.floor_area, r.funding) == (Decimal("350.5"), Decimal("12.30"))


def test_a_moved_halls_figures_roll_up_under_its_new_parent(cast):
    from network import services as network_services

    _reported(cast.point, teams=3)
    network_services.hall_move(hall=cast.point, new_parent=cast.other_county_branch)
    by_county = returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.MAIN)
    assert by_county[cast.other_county.pk]["teams"] == 3
    assert cast.county.pk not in by_county
    by_branch = returns_selectors.stats_rollup(kind=SERVICE, year=YEAR, level=HallKind.BRANCH)
    assert by_branch[cast.other_county_branch.pk]["teams"] == 3
