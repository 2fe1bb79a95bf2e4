"""The participants figure where it is reported: the yearly return's autofill (which the
statistics export and the annual report sum), the dashboard and the quarterly report all take the
recorded attendance, or else the checked-in seats, and agree."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from activities import services
from activities.models import Activity, Category
from evaluation.reports import documents
from evaluation.returns import services as returns
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import portal_figures
from network.models import Hall
from portal.dashboard import dashboard_for

from .test_attendance import checked_in, held

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def _move(activity, when):
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=2))
    activity.refresh_from_db()


@pytest.fixture
def season(cast):
    """Three activities of 关上 branch this month: an exhibition counted at 500 (no bookings), a
    lecture with 3 seats checked in and nothing recorded, a performance with 4 checked in and 60
    counted; and one cancelled after its attendance was recorded (it counts for nothing)."""
    exhibition = held(cast.branch, days_ago=0)
    services.attendance_record(
        activity=exhibition, head_count=500, method="estimated", by=cast.branch_staff
    )
    lecture = held(cast.branch, days_ago=0, capacity=20, category=Category.LECTURE)
    checked_in(lecture, "13800138001", 3)
    show = held(cast.branch, days_ago=0, capacity=20, category=Category.PERFORMANCE)
    checked_in(show, "13800138002", 4)
    services.attendance_record(activity=show, head_count=60, method="counted", by=cast.branch_staff)
    dropped = held(cast.branch, days_ago=0)
    services.attendance_record(
        activity=dropped, head_count=70, method="counted", by=cast.branch_staff
    )
    services.activity_cancel(activity=dropped)
    # Elsewhere: another branch's show, out of the branch's figures but in the county's.
    other = held(cast.other_branch, days_ago=0)
    services.attendance_record(
        activity=other, head_count=9, method="counted", by=cast.other_branch_staff
    )
    return [exhibition, lecture, show, dropped, other]


def test_the_yearly_figures_take_recorded_attendance_and_check_ins(cast, season):
    year = timezone.localtime(season[0].start).year
    assert portal_figures(hall_id=cast.branch.pk, year=year)["participants"] == 500 + 3 + 60
    assert portal_figures(hall_id=cast.other_branch.pk, year=year)["participants"] == 9
    # The return's autofill is what the statistics export and the annual report roll up.
    filed = returns.return_get_or_create(kind=ReturnKind.SERVICE, hall=cast.branch, year=year)
    assert filed.participants == 563


def test_the_yearly_figure_costs_the_same_with_more_activities(
    cast, season, django_assert_num_queries
):
    year = timezone.localtime(season[0].start).year
    # Activities by category, participants, trainees (completed course bookings), plays,
    # orders received and fulfilled, the hall's venues and their reservations.
    with django_assert_num_queries(8):
        portal_figures(hall_id=cast.branch.pk, year=year)
    for _i in range(5):
        more = held(cast.branch, days_ago=0)
        services.attendance_record(
            activity=more, head_count=1, method="counted", by=cast.branch_staff
        )
    with django_assert_num_queries(8):
        assert portal_figures(hall_id=cast.branch.pk, year=year)["participants"] == 568


def test_the_dashboard_agrees_with_the_yearly_figures(cast, season):
    branch = dashboard_for(cast.branch_staff)
    assert branch.participants_total == 563
    assert branch.participants[-1] == 563  # all this month
    county = dashboard_for(cast.county_director)
    assert county.participants_total == 563 + 9
    assert "每月参与人次" in county.charts["participants"]
    assert "每月签到参与人次" not in county.charts["participants"]


def test_the_quarterly_report_counts_participants_beside_check_ins(cast):
    q3 = datetime(2026, 8, 10, 10, tzinfo=TZ)
    q2 = datetime(2026, 5, 10, 10, tzinfo=TZ)
    exhibition = held(cast.branch)
    _move(exhibition, q3)
    services.attendance_record(
        activity=exhibition, head_count=300, method="estimated", by=cast.branch_staff
    )
    lecture = held(cast.branch, capacity=20, category=Category.LECTURE)
    _move(lecture, q3)
    checked_in(lecture, "13800138001", 3)
    earlier = held(cast.branch)
    _move(earlier, q2)
    services.attendance_record(
        activity=earlier, head_count=40, method="counted", by=cast.branch_staff
    )
    county = Hall.objects.get(pk=cast.county.pk)
    data = documents.report_data("quarterly", county, documents.parse_period("quarterly", "2026Q3"))
    rows = next(s for s in data["sections"] if s["key"] == "participation")["rows"]
    by_label = {row[0]: row for row in rows}
    assert by_label["参与人次"][1:3] == [303, 40]
    assert by_label["签到参与人次"][1:3] == [3, 0]
