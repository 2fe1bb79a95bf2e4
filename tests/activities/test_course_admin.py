"""A course in the admin: sessions in the activity's form, the weekly repeat helper, the
roll-call of a session, tried by the right and the wrong member of the cast."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, CourseSession, SessionAttendance

from .test_admin import activity_form, local_parts
from .test_courses import book, course, move_back

pytestmark = pytest.mark.django_db

# Session, user, scope, the activity, its hall, the sessions (or the session), the bookings.
PAGE_QUERIES = 7


def admin_url(name, *args):
    return reverse(f"admin:activities_activity_{name}", args=args)


def test_staff_create_a_course_with_its_sessions_in_the_activity_form(client, cast):
    client.force_login(cast.branch_staff)
    first = timezone.now() + timedelta(days=7)
    data = activity_form(
        cast.branch, title="书法培训班", group_limit="20", completion_share="80",
        **{"sessions-TOTAL_FORMS": "2"},
    )  # fmt: skip
    for n in range(2):
        start = first + timedelta(weeks=n)
        data[f"sessions-{n}-start_0"], data[f"sessions-{n}-start_1"] = local_parts(start)
        end = start + timedelta(hours=2)
        data[f"sessions-{n}-end_0"], data[f"sessions-{n}-end_1"] = local_parts(end)
        data[f"sessions-{n}-place"] = "书画室"
    response = client.post(reverse("admin:activities_activity_add"), data)
    assert response.status_code == 302
    activity = Activity.objects.get(title="书法培训班")
    sessions = list(activity.sessions.order_by("start"))
    assert len(sessions) == 2 and (activity.group_limit, activity.completion_share) == (20, 80)
    assert (activity.start, activity.end) == (sessions[0].start, sessions[1].end)


def test_the_repeat_helper_adds_weekly_sessions_and_names_the_holidays_skipped(client, cast):
    activity = course(cast.branch, sessions=1)
    client.force_login(cast.branch_staff)
    response = client.post(
        admin_url("repeat", activity.pk),
        {
            "first_day": "2026-09-24",
            "weekday": "3",
            "starts": "19:00",
            "ends": "21:00",
            "weeks": "3",
            "skip_holidays": "on",
            "place": "排练厅",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == admin_url("sessions", activity.pk)
    assert "2026-10-01" in response.content.decode()
    days = {
        timezone.localtime(s.start).date()
        for s in CourseSession.objects.filter(activity=activity, place="排练厅")
    }
    assert days == {date(2026, 9, 24), date(2026, 10, 8)}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weeks": ""}, "weeks"),
        ({"ends": "18:00"}, "ends"),
        ({"weekday": "星期八"}, "weekday"),
        ({"first_day": "明天"}, "first_day"),
        ({"weeks": "999"}, "weeks"),
    ],
)
def test_bad_repeat_input_is_a_form_error_and_nothing_is_added(client, cast, values, field):
    activity = course(cast.branch, sessions=1)
    client.force_login(cast.branch_staff)
    data = {"first_day": "2027-03-01", "weekday": "0", "starts": "19:00", "ends": "21:00"}
    data.update({"weeks": "4", **values})
    response = client.post(admin_url("repeat", activity.pk), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert CourseSession.objects.filter(activity=activity).count() == 1


def test_staff_take_the_roll_of_a_session_and_see_completion(client, cast):
    activity = course(cast.branch, sessions=2)
    a = book(activity, "13800000001", seats=2)
    b = book(activity, "13800000002")
    first, _second = move_back(activity, 2)
    client.force_login(cast.branch_staff)
    page = client.get(admin_url("roll", activity.pk, first.pk))
    assert page.status_code == 200 and {x.pk for x in page.context["bookings"]} == {a.pk, b.pk}
    response = client.post(admin_url("roll", activity.pk, first.pk), {"present": [str(a.pk)]})
    assert response.status_code == 302
    assert {(r.booking_id, r.present) for r in SessionAttendance.objects.all()} == {
        (a.pk, True),
        (b.pk, False),
    }
    page = client.get(admin_url("sessions", activity.pk))
    roll = {x.pk: (x.present_times, x.held) for x in page.context["roll"]}
    assert roll == {a.pk: (1, 2), b.pk: (0, 2)}
    # Junk in the list is an error on the page, not a 500.
    response = client.post(admin_url("roll", activity.pk, first.pk), {"present": ["x"]})
    assert response.status_code == 400


def test_a_session_not_started_cannot_be_called(client, cast):
    activity = course(cast.branch, sessions=2)
    a = book(activity, "13800000001")
    session = activity.sessions.order_by("start").first()
    client.force_login(cast.branch_staff)
    page = client.get(admin_url("roll", activity.pk, session.pk))
    assert "开始后才能点名" in page.content.decode()
    response = client.post(admin_url("roll", activity.pk, session.pk), {"present": [a.pk]})
    assert response.status_code == 400 and not SessionAttendance.objects.exists()


def test_other_halls_staff_get_404_and_officials_only_read(client, cast):
    activity = course(cast.branch, sessions=2)
    a = book(activity, "13800000001")
    first, _second = move_back(activity, 1)
    client.force_login(cast.other_branch_staff)
    for page in (
        admin_url("sessions", activity.pk),
        admin_url("repeat", activity.pk),
        admin_url("roll", activity.pk, first.pk),
    ):
        assert client.get(page).status_code == 404, page
    response = client.post(admin_url("roll", activity.pk, first.pk), {"present": [a.pk]})
    assert response.status_code == 404
    client.force_login(cast.county_official)
    assert client.get(admin_url("roll", activity.pk, first.pk)).status_code == 200
    assert client.get(admin_url("repeat", activity.pk)).status_code == 403
    response = client.post(admin_url("roll", activity.pk, first.pk), {"present": [a.pk]})
    assert response.status_code == 403 and not SessionAttendance.objects.exists()
    # A session of another course under this course's address is not there.
    other = course(cast.branch, sessions=1, title="另一个班")
    client.force_login(cast.branch_staff)
    wrong = other.sessions.get()
    assert client.get(admin_url("roll", activity.pk, wrong.pk)).status_code == 404


def test_the_roll_pages_cost_the_same_with_more_bookings(client, cast, django_assert_num_queries):
    activity = course(cast.branch, sessions=3, capacity=20)
    book(activity, "13800000001")
    first, *_rest = move_back(activity, 1)
    client.force_login(cast.branch_staff)
    pages = [admin_url("sessions", activity.pk), admin_url("roll", activity.pk, first.pk)]
    for page in pages:
        client.get(page)  # warm the scope cache
    for page in pages:
        with django_assert_num_queries(PAGE_QUERIES):
            client.get(page)
    Activity.objects.filter(pk=activity.pk).update(start=timezone.now() + timedelta(days=1))
    for n in range(2, 6):
        book(activity, f"1380000000{n}")
    Activity.objects.filter(pk=activity.pk).update(start=first.start)
    for page in pages:
        with django_assert_num_queries(PAGE_QUERIES):
            client.get(page)


def test_the_checkin_page_of_a_course_links_its_roll_call(client, cast):
    activity = course(cast.branch, sessions=2)
    client.force_login(cast.branch_staff)
    page = client.get(reverse("activities_staff:checkin_activity", args=[activity.pk]))
    assert admin_url("sessions", activity.pk) in page.content.decode()


def test_a_session_ending_before_it_starts_is_a_form_error(client, cast):
    client.force_login(cast.branch_staff)
    start = timezone.now() + timedelta(days=7)
    data = activity_form(cast.branch, title="书法培训班", **{"sessions-TOTAL_FORMS": "1"})
    data["sessions-0-start_0"], data["sessions-0-start_1"] = local_parts(start)
    data["sessions-0-end_0"], data["sessions-0-end_1"] = local_parts(start - timedelta(hours=1))
    response = client.post(reverse("admin:activities_activity_add"), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors
    assert not Activity.objects.filter(title="书法培训班").exists()


def test_the_signup_export_of_a_course_shows_groups_attendance_and_completion(client, cast):
    import io

    from openpyxl import load_workbook

    from activities import courses
    from activities.models import GroupKind

    activity = course(cast.branch, sessions=2, capacity=30, group_limit=20, completion_share=50)
    person = book(activity, "13800000001")
    group = book(activity, "13800000002", seats=10, group_kind=GroupKind.TEAM, group_name="花灯队")
    first, _second = move_back(activity, 2)
    courses.session_roll_record(session=first, present={group.pk}, by=cast.branch_staff)
    client.force_login(cast.branch_staff)
    response = client.get(admin_url("signup", activity.pk))
    ws = load_workbook(io.BytesIO(response.content))["报名名单"]
    assert [c.value for c in ws[2]][-3:] == ["团体", "出勤(次/已上课)", "结业(出勤≥50%)"]
    rows = {row[1].value: [c.value for c in row] for row in ws.iter_rows(min_row=3)}
    assert rows[group.code][-3:] == ["文艺团队 · 花灯队", "1/2", "是"]
    assert rows[person.code][-3:] == [None, "0/2", "否"]
    # The roll page shows the attendance so far too.
    page = client.get(admin_url("roll", activity.pk, first.pk))
    assert "1/2 · 已结业" in page.content.decode()
