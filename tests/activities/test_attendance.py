"""Attendance (参与人次): the rules of recording it, its change log, and the one participants
figure (the recorded head count, or else the checked-in seats) that every statistic counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities import selectors, services
from activities.models import Activity, Attendance, AttendanceChange, Booking, Category

from .factories import published_activity

pytestmark = pytest.mark.django_db

COUNTED = Attendance.Method.COUNTED
ESTIMATED = Attendance.Method.ESTIMATED
CHECKED_IN = Attendance.Method.CHECKED_IN


def held(hall, *, days_ago=2, capacity=None, category=Category.EXHIBITION, **fields):
    """A published activity that started ``days_ago`` days ago."""
    activity = published_activity(hall, capacity=capacity, category=category, **fields)
    when = timezone.now() - timedelta(days=days_ago)
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=2))
    activity.refresh_from_db()
    return activity


def checked_in(activity, phone, seats, *, came=True):
    """A confirmed party of ``seats``, booked before the start and checked in at the door
    (unless it did not come)."""
    Activity.objects.filter(pk=activity.pk).update(
        start=timezone.now() + timedelta(days=1), end=timezone.now() + timedelta(days=1, hours=2)
    )
    booking = services.booking_create(
        activity_id=activity.pk, name="张三", phone=phone, seats=seats
    )
    if came:
        services.booking_check_in(code=booking.code)
    Activity.objects.filter(pk=activity.pk).update(start=activity.start, end=activity.end)
    return booking


def record(activity, by, head_count, method=COUNTED, note=""):
    return services.attendance_record(
        activity=activity, head_count=head_count, method=method, note=note, by=by
    )


# --- The rules ----------------------------------------------------------------------------------


def test_staff_record_an_exhibitions_head_count_and_the_first_change_is_logged(cast):
    exhibition = held(cast.branch)
    attendance = record(exhibition, cast.branch_staff, 350, ESTIMATED, note="按入口计数器")
    assert (attendance.head_count, attendance.method, attendance.note) == (
        350,
        ESTIMATED,
        "按入口计数器",
    )
    assert attendance.recorded_by == cast.branch_staff
    change = AttendanceChange.objects.get()
    assert (change.old_head_count, change.old_method) == (None, "")
    assert (change.new_head_count, change.new_method, change.changed_by) == (
        350,
        ESTIMATED,
        cast.branch_staff,
    )


def test_every_change_is_kept_with_who_and_when_and_nothing_is_deleted(cast):
    show = held(cast.branch, category=Category.PERFORMANCE)
    record(show, cast.branch_staff, 200, ESTIMATED)
    record(show, cast.county_director, 180, COUNTED, note="清点后更正")
    record(show, cast.county_director, 180, COUNTED, note="清点后更正")  # the same: no new row
    assert Attendance.objects.filter(activity=show).count() == 1
    log = list(selectors.attendance_changes(show))
    assert [
        (c.old_head_count, c.old_method, c.new_head_count, c.new_method, c.changed_by.username)
        for c in log
    ] == [
        (200, ESTIMATED, 180, COUNTED, "county_director"),
        (None, "", 200, ESTIMATED, "branch_staff"),
    ]
    show.attendance.refresh_from_db()
    assert show.attendance.recorded_by == cast.county_director


def test_an_activity_that_has_not_started_gets_no_attendance(cast):
    upcoming = published_activity(cast.branch, capacity=None, category=Category.EXHIBITION)
    with pytest.raises(ValidationError) as exc:
        record(upcoming, cast.branch_staff, 10)
    assert "开始后才能登记参与人次" in exc.value.messages[0]
    assert not Attendance.objects.exists()


def test_a_cancelled_or_unpublished_activity_gets_no_attendance(cast):
    cancelled = held(cast.branch)
    services.activity_cancel(activity=cancelled)
    with pytest.raises(ValidationError, match="活动已取消"):
        record(cancelled, cast.branch_staff, 10)
    start = timezone.now() - timedelta(days=1)
    draft = services.activity_create(
        hall=cast.branch,
        category=Category.EXHIBITION,
        title="草稿展览",
        start=start,
        end=start + timedelta(hours=2),
    )
    with pytest.raises(ValidationError, match="尚未发布"):
        record(draft, cast.branch_staff, 10)
    assert not Attendance.objects.exists() and not AttendanceChange.objects.exists()


@pytest.mark.parametrize(
    ("head_count", "method", "field", "words"),
    [
        (-1, COUNTED, "head_count", "不能为负数"),
        ("很多", COUNTED, "head_count", "整数"),
        (None, COUNTED, "head_count", "整数"),
        (100_001, COUNTED, "head_count", "请核对"),
        (10, "guessed", "method", "统计方式"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(cast, head_count, method, field, words):
    exhibition = held(cast.branch)
    with pytest.raises(ValidationError) as exc:
        record(exhibition, cast.branch_staff, head_count, method)
    assert words in " ".join(exc.value.message_dict[field])
    assert not Attendance.objects.exists()


def test_a_head_count_below_the_checked_in_seats_is_refused_naming_them(cast):
    lecture = held(cast.branch, capacity=20, category=Category.LECTURE)
    checked_in(lecture, "13800138001", 3)
    checked_in(lecture, "13800138002", 2)
    with pytest.raises(ValidationError) as exc:
        record(lecture, cast.branch_staff, 4)
    assert exc.value.message_dict["head_count"] == ["已有 5 人签到,参与人数不能少于签到人数。"]
    assert record(lecture, cast.branch_staff, 5, CHECKED_IN).head_count == 5
    assert record(lecture, cast.branch_staff, 0 + 30, COUNTED).head_count == 30


def test_the_form_starts_from_the_checked_in_seats_then_from_what_was_recorded(cast):
    lecture = held(cast.branch, capacity=20, category=Category.LECTURE)
    checked_in(lecture, "13800138001", 3)
    assert services.attendance_initial(activity=lecture) == {
        "head_count": 3,
        "method": CHECKED_IN,
        "note": "",
    }
    record(lecture, cast.branch_staff, 40, COUNTED, note="另有现场观众")
    assert services.attendance_initial(activity=lecture) == {
        "head_count": 40,
        "method": COUNTED,
        "note": "另有现场观众",
    }


def test_only_staff_of_the_hall_or_above_record_and_officials_never(cast):
    exhibition = held(cast.branch)
    for user in (cast.other_branch_staff, cast.village_manager, cast.county_official):
        with pytest.raises(PermissionDenied):
            record(exhibition, user, 10)
    assert record(exhibition, cast.centre_director, 10).head_count == 10


# --- The participants figure --------------------------------------------------------------------


def test_participants_are_the_recorded_count_or_else_the_checked_in_seats(cast):
    lecture = held(cast.branch, capacity=20, category=Category.LECTURE)
    checked_in(lecture, "13800138001", 3)
    booked_not_recorded = held(cast.branch, capacity=20, category=Category.TRAINING)
    checked_in(booked_not_recorded, "13800138002", 2)
    checked_in(booked_not_recorded, "13800138003", 4, came=False)  # a party that did not come
    exhibition = held(cast.branch)
    record(exhibition, cast.branch_staff, 500, ESTIMATED)
    nothing = held(cast.branch)
    record(lecture, cast.branch_staff, 45, COUNTED)

    rows = {
        a.pk: (a.participants, a.checked_in_seats, a.attendance_method)
        for a in selectors.with_participants(Activity.objects.all())
    }
    assert rows == {
        lecture.pk: (45, 3, COUNTED),
        booked_not_recorded.pk: (2, 2, None),
        exhibition.pk: (500, 0, ESTIMATED),
        nothing.pk: (0, 0, None),
    }
    assert selectors.participants_total(Activity.objects.all()) == 45 + 2 + 500
    assert selectors.participants_total(Activity.objects.none()) == 0


def test_a_recorded_zero_overrides_nothing_but_itself(cast):
    """A head count of 0 is a figure (nobody came), not "not recorded"."""
    exhibition = held(cast.branch)
    record(exhibition, cast.branch_staff, 0, COUNTED)
    row = selectors.with_participants(Activity.objects.filter(pk=exhibition.pk)).get()
    assert (row.participants, row.attendance_method) == (0, COUNTED)


def test_the_figure_costs_one_query_whatever_the_number_of_activities(
    cast, django_assert_num_queries
):
    for i in range(3):
        activity = held(cast.branch, capacity=20, category=Category.LECTURE)
        checked_in(activity, f"1380013800{i}", 2)
        if i % 2:
            record(activity, cast.branch_staff, 30)
    with django_assert_num_queries(1):
        first = [a.participants for a in selectors.with_participants(Activity.objects.all())]
    with django_assert_num_queries(1):
        total = selectors.participants_total(Activity.objects.all())
    for _i in range(6):
        activity = held(cast.branch)
        record(activity, cast.branch_staff, 7)
    with django_assert_num_queries(1):
        more = [a.participants for a in selectors.with_participants(Activity.objects.all())]
    with django_assert_num_queries(1):
        assert selectors.participants_total(Activity.objects.all()) == total + 6 * 7
    assert sorted(first) == [2, 2, 30] and len(more) == 9 and total == 34


def test_checked_in_means_confirmed_and_checked_in(cast):
    lecture = held(cast.branch, capacity=20, category=Category.LECTURE)
    booking = checked_in(lecture, "13800138001", 3)
    assert selectors.checked_in_seats(lecture) == 3
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert selectors.checked_in_seats(lecture) == 0
