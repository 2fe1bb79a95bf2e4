"""Courses (培训班): an activity with sessions, booked once through the one booking path, its
roll taken per session, completion by a share of the sessions held, group enrolment, and the
figures they feed (参与人次, 培训人次)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from activities import courses, selectors, services
from activities.models import Activity, Booking, Category, CourseSession, GroupKind

from .factories import published_activity

pytestmark = pytest.mark.django_db


def course(hall, *, sessions=4, capacity=10, first_in=timedelta(days=3), **fields):
    """A published weekly course of ``sessions`` sessions, the first ``first_in`` from now."""
    fields = {"title": "少儿民族舞培训班", **fields}
    activity = published_activity(hall, capacity=capacity, category=Category.TRAINING, **fields)
    first = timezone.localtime(timezone.now() + first_in)
    courses.course_sessions_save(
        activity=activity,
        saved=[
            CourseSession(start=first + timedelta(weeks=n), end=first + timedelta(weeks=n, hours=2))
            for n in range(sessions)
        ],
    )
    activity.refresh_from_db()
    return activity


def book(activity, phone, seats=1, **kw):
    return services.booking_create(
        activity_id=activity.pk, name="李四", phone=phone, seats=seats, **kw
    )


def move_back(activity, weeks_held):
    """Shift the course so that its first ``weeks_held`` sessions have started."""
    shift = timedelta(weeks=weeks_held) - timedelta(hours=1)
    first = CourseSession.objects.filter(activity=activity).earliest("start").start
    delta = first - timezone.now() + shift
    CourseSession.objects.filter(activity=activity).update(
        start=F("start") - delta, end=F("end") - delta
    )
    Activity.objects.filter(pk=activity.pk).update(start=F("start") - delta, end=F("end") - delta)
    activity.refresh_from_db()
    return list(CourseSession.objects.filter(activity=activity).order_by("start"))


# --- Sessions -----------------------------------------------------------------------------------


def test_the_course_spans_its_sessions(cast):
    activity = course(cast.branch, sessions=3)
    starts = [s.start for s in selectors.course_sessions(activity)]
    assert activity.start == starts[0]
    assert activity.end == starts[-1] + timedelta(hours=2)


def test_a_session_must_end_after_it_starts(cast):
    activity = course(cast.branch, sessions=1)
    now = timezone.now()
    with pytest.raises(ValidationError):
        courses.course_sessions_save(
            activity=activity, saved=[CourseSession(start=now, end=now - timedelta(hours=1))]
        )


@override_settings(HOLIDAY_CALENDAR="fixtures/holidays.csv")
def test_weekly_sessions_skip_public_holidays_and_say_which():
    # Thursdays from 2026-09-03 for six weeks: 2026-10-01 is 国庆节.
    days, skipped = courses.repeat_dates(first_day=date(2026, 9, 3), weekday=3, weeks=6)
    assert skipped == [date(2026, 10, 1)]
    assert date(2026, 10, 8) in days and len(days) == 5
    kept, none = courses.repeat_dates(
        first_day=date(2026, 9, 3), weekday=3, weeks=6, skip_holidays=False
    )
    assert len(kept) == 6 and none == []


def test_repeat_until_a_date_makes_the_sessions_and_moves_the_span(cast):
    activity = published_activity(cast.branch, capacity=10, category=Category.TRAINING)
    made = courses.course_sessions_repeat(
        activity=activity,
        first_day=date(2027, 3, 1),
        weekday=5,  # Saturdays
        starts=time(9, 30),
        ends=time(11),
        until=date(2027, 3, 31),
        place="二楼舞蹈室",
    )
    assert [timezone.localtime(s.start).date() for s in made.created] == [
        date(2027, 3, 6),
        date(2027, 3, 13),
        date(2027, 3, 20),
        date(2027, 3, 27),
    ]
    activity.refresh_from_db()
    assert timezone.localtime(activity.start).time() == time(9, 30)
    assert timezone.localtime(activity.end).date() == date(2027, 3, 27)
    assert {s.place for s in made.created} == {"二楼舞蹈室"}


def test_repeat_needs_weeks_or_an_end(cast):
    with pytest.raises(ValidationError) as exc:
        courses.repeat_dates(first_day=date(2027, 3, 1), weekday=0)
    assert "weeks" in exc.value.message_dict


def test_a_session_with_its_roll_taken_cannot_be_deleted(cast):
    activity = course(cast.branch, sessions=2)
    booking = book(activity, "13800000001")
    first, _second = move_back(activity, 1)
    courses.session_roll_record(session=first, present={booking.pk}, by=cast.branch_staff)
    with pytest.raises(ValidationError):
        courses.course_sessions_save(activity=activity, saved=[], deleted=[first])
    assert CourseSession.objects.filter(pk=first.pk).exists()


# --- Enrolment is a booking ---------------------------------------------------------------------


def test_a_resident_enrols_once_for_all_sessions(cast):
    activity = course(cast.branch, sessions=10, capacity=5)
    booking = book(activity, "13800000001", seats=2)
    assert booking.status == Booking.Status.CONFIRMED
    assert Booking.objects.filter(activity=activity).count() == 1
    activity.refresh_from_db()
    assert activity.seats_taken == 2
    with pytest.raises(ValidationError) as exc:
        book(activity, "13800000001")
    assert "phone" in exc.value.message_dict


def test_a_full_course_puts_the_party_on_the_waiting_list_and_promotes_it(cast):
    activity = course(cast.branch, capacity=3)
    first = book(activity, "13800000001", seats=3)
    waiting = book(activity, "13800000002", seats=2)
    assert waiting.status == Booking.Status.WAITLISTED
    services.booking_cancel(code=first.code, phone="13800000001")
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.CONFIRMED


def test_enrolment_closes_when_the_first_session_starts(cast):
    activity = course(cast.branch, sessions=3)
    move_back(activity, 1)
    with pytest.raises(ValidationError):
        book(activity, "13800000001")


# --- Group enrolment ----------------------------------------------------------------------------


def test_a_group_books_its_people_in_one_booking_up_to_the_limit(cast):
    activity = course(cast.branch, capacity=40, group_limit=30)
    group = book(
        activity,
        "13800000001",
        seats=25,
        group_kind=GroupKind.SCHOOL_CLASS,
        group_name="关上小学三年级二班",
    )
    assert (group.status, group.seats, group.group_name) == (
        Booking.Status.CONFIRMED,
        25,
        "关上小学三年级二班",
    )
    with pytest.raises(ValidationError) as exc:
        book(activity, "13800000002", seats=31, group_kind=GroupKind.TEAM, group_name="花灯队")
    assert "30" in exc.value.message_dict["seats"][0]


def test_a_course_without_a_group_limit_takes_no_groups(cast):
    activity = course(cast.branch, capacity=40)
    with pytest.raises(ValidationError) as exc:
        book(activity, "13800000001", seats=2, group_kind=GroupKind.TEAM, group_name="花灯队")
    assert "group_kind" in exc.value.message_dict


def test_a_group_needs_a_kind_and_a_name(cast):
    activity = course(cast.branch, capacity=40, group_limit=30)
    with pytest.raises(ValidationError) as exc:
        book(activity, "13800000001", seats=2, group_kind="school", group_name="")
    assert {"group_kind", "group_name"} <= set(exc.value.message_dict)


def test_a_group_that_does_not_fit_waits_whole(cast):
    activity = course(cast.branch, capacity=20, group_limit=30)
    book(activity, "13800000001", seats=4)
    group = book(
        activity, "13800000002", seats=18, group_kind=GroupKind.VOLUNTEERS, group_name="志愿者队"
    )
    assert group.status == Booking.Status.WAITLISTED
    activity.refresh_from_db()
    assert activity.seats_taken == 4


# --- Roll-call, completion and the figures ------------------------------------------------------


def test_the_roll_is_taken_per_session_and_counts_the_people_present(cast):
    activity = course(cast.branch, sessions=4, capacity=10, group_limit=10)
    alone = book(activity, "13800000001", seats=1)
    group = book(activity, "13800000002", seats=5, group_kind=GroupKind.TEAM, group_name="花灯队")
    sessions = move_back(activity, 2)
    by = cast.branch_staff
    assert (
        courses.session_roll_record(session=sessions[0], present={alone.pk, group.pk}, by=by) == 6
    )
    courses.session_roll_record(session=sessions[1], present={group.pk}, by=by)
    # Taking a roll again changes it in place.
    courses.session_roll_record(session=sessions[1], present={alone.pk}, by=by)
    total = selectors.participants_total(Activity.objects.filter(pk=activity.pk))
    assert total == 6 + 1
    roll = {b.pk: b.present for b in selectors.session_roll(sessions[1])}
    assert roll == {alone.pk: True, group.pk: False}


def test_no_roll_for_a_session_not_started_nor_by_staff_of_another_hall(cast):
    activity = course(cast.branch, sessions=3)
    booking = book(activity, "13800000001")
    sessions = move_back(activity, 1)
    with pytest.raises(ValidationError):
        courses.session_roll_record(session=sessions[1], present={booking.pk}, by=cast.branch_staff)
    with pytest.raises(PermissionDenied):
        courses.session_roll_record(
            session=sessions[0], present={booking.pk}, by=cast.other_branch_staff
        )
    with pytest.raises(PermissionDenied):
        courses.session_roll_record(
            session=sessions[0], present={booking.pk}, by=cast.county_official
        )


def test_a_booking_completes_at_the_share_of_the_sessions_held(cast):
    activity = course(cast.branch, sessions=4, capacity=10, completion_share=75)
    keen = book(activity, "13800000001", seats=2)
    idle = book(activity, "13800000002", seats=1)
    sessions = move_back(activity, 4)
    by = cast.branch_staff
    for n, session in enumerate(sessions):
        present = {keen.pk} if n < 3 else set()  # 3 of 4 = 75%
        if n < 2:
            present.add(idle.pk)  # 2 of 4 = 50%
        courses.session_roll_record(session=session, present=present, by=by)
    roll = {b.pk: (b.present_times, b.held, b.completed) for b in selectors.course_roll(activity)}
    assert roll == {keen.pk: (3, 4, True), idle.pk: (2, 4, False)}
    assert selectors.trainees_total(Activity.objects.filter(pk=activity.pk)) == 2
    # A stricter share: 3 of 4 is no longer enough.
    Activity.objects.filter(pk=activity.pk).update(completion_share=80)
    assert selectors.trainees_total(Activity.objects.filter(pk=activity.pk)) == 0


def test_the_course_enrolment_and_roll_feed_the_yearly_figures(cast):
    from evaluation.returns.selectors import portal_figures

    activity = course(cast.branch, sessions=2, capacity=10, group_limit=10)
    person = book(activity, "13800000001", seats=1)
    group = book(activity, "13800000002", seats=4, group_kind=GroupKind.TEAM, group_name="花灯队")
    sessions = move_back(activity, 2)
    courses.session_roll_record(
        session=sessions[0], present={person.pk, group.pk}, by=cast.branch_staff
    )
    courses.session_roll_record(session=sessions[1], present={group.pk}, by=cast.branch_staff)
    year = timezone.localtime(activity.start).year
    figures = portal_figures(hall_id=cast.branch.pk, year=year)
    assert figures["trainings"] == 1
    assert figures["participants"] == 5 + 4
    # The group came to both (100%), the person to one of two (50% < 75%).
    assert figures["trainees"] == 4


def test_a_course_of_another_category_still_counts_as_a_training(cast):
    from evaluation.returns.selectors import portal_figures

    activity = course(cast.branch, sessions=1)
    Activity.objects.filter(pk=activity.pk).update(category=Category.OTHER)
    year = timezone.localtime(activity.start).year
    assert portal_figures(hall_id=cast.branch.pk, year=year)["trainings"] == 1


def test_the_session_count_goes_with_the_list_in_its_query(cast, django_assert_num_queries):
    course(cast.branch, sessions=3)
    published_activity(cast.branch, title="讲座")
    with django_assert_num_queries(1):
        counts = sorted(
            a.session_count for a in selectors.with_session_count(selectors.activities_public())
        )
    assert counts == [0, 3]
