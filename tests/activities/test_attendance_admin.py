"""登记参与人次 in the admin: tried by staff of the hall and above, by an official (read only) and by
the wrong scope (404); the activity list's participants column at a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, Attendance, AttendanceChange, Category

from .factories import published_activity
from .test_attendance import checked_in, held

pytestmark = pytest.mark.django_db


def page(activity):
    return reverse("admin:activities_activity_attendance", args=[activity.pk])


@pytest.fixture
def lecture(cast):
    """A lecture of 关上 branch, two days ago, with 3 seats checked in."""
    activity = held(cast.branch, capacity=20, category=Category.LECTURE, title="非遗讲座")
    checked_in(activity, "13800138001", 3)
    return activity


@pytest.mark.parametrize("who", ["branch_staff", "county_director", "centre_director"])
def test_staff_of_the_hall_or_above_get_the_form_prefilled_from_check_ins(
    client, cast, lecture, who
):
    client.force_login(getattr(cast, who))
    response = client.get(page(lecture))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["head_count"].value() == 3 and form["method"].value() == "checked_in"
    assert 'id="attendance-form"' in response.content.decode()


def test_saving_records_the_count_and_shows_it_with_its_log(client, cast, lecture):
    client.force_login(cast.branch_staff)
    response = client.post(page(lecture), {"head_count": "48", "method": "counted", "note": "散客"})
    assert response.status_code == 302 and response.url == page(lecture)
    attendance = Attendance.objects.get(activity=lecture)
    assert (attendance.head_count, attendance.method, attendance.recorded_by) == (
        48,
        "counted",
        cast.branch_staff,
    )
    html = client.get(page(lecture)).content.decode()
    assert "<strong>48</strong>(现场清点)" in html
    assert "48(现场清点)" in html.split('id="attendance-history"')[1]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"head_count": "2", "method": "counted"}, "head_count", "已有 3 人签到"),
        ({"head_count": "-5", "method": "counted"}, "head_count", "不能为负数"),
        ({"head_count": "三十", "method": "counted"}, "head_count", "整数"),
        ({"head_count": "", "method": "counted"}, "head_count", "没有就填 0"),
        ({"head_count": "30", "method": "guess"}, "method", "统计方式"),
        ({"head_count": "999999", "method": "estimated"}, "head_count", "请核对"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(client, cast, lecture, data, field, words):
    client.force_login(cast.branch_staff)
    response = client.post(page(lecture), data)
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field])
    assert not Attendance.objects.exists() and not AttendanceChange.objects.exists()


def test_an_activity_yet_to_start_says_so_and_takes_nothing(client, cast):
    upcoming = published_activity(cast.branch, capacity=None, category=Category.EXHIBITION)
    client.force_login(cast.branch_staff)
    response = client.get(page(upcoming))
    assert response.status_code == 200
    assert "开始后才能登记参与人次" in response.context["refusal"]
    assert 'id="attendance-form"' not in response.content.decode()
    response = client.post(page(upcoming), {"head_count": "10", "method": "estimated"})
    assert response.status_code == 400
    assert "开始后才能登记参与人次" in " ".join(response.context["form"].non_field_errors())
    assert not Attendance.objects.exists()


def test_a_cancelled_activity_is_shown_read_only(client, cast):
    exhibition = held(cast.branch)
    services.activity_cancel(activity=exhibition)
    client.force_login(cast.branch_staff)
    response = client.get(page(exhibition))
    assert response.status_code == 200 and "活动已取消" in response.content.decode()
    assert (
        client.post(page(exhibition), {"head_count": "1", "method": "counted"}).status_code == 403
    )
    assert not Attendance.objects.exists()


def test_an_official_reads_the_figure_and_log_but_records_nothing(client, cast, lecture):
    services.attendance_record(
        activity=lecture, head_count=40, method="counted", by=cast.branch_staff
    )
    client.force_login(cast.county_official)
    response = client.get(page(lecture))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="attendance-readonly"' in html and 'id="attendance-form"' not in html
    assert "<strong>40</strong>" in html
    response = client.post(page(lecture), {"head_count": "99", "method": "counted"})
    assert response.status_code == 403
    assert Attendance.objects.get().head_count == 40 and AttendanceChange.objects.count() == 1


@pytest.mark.parametrize("who", ["other_branch_staff", "other_county_director", "village_manager"])
def test_the_wrong_scope_gets_404_and_writes_nothing(client, cast, lecture, who):
    client.force_login(getattr(cast, who))
    assert client.get(page(lecture)).status_code == 404
    response = client.post(page(lecture), {"head_count": "99", "method": "counted"})
    assert response.status_code == 404
    assert not Attendance.objects.exists()


def test_the_change_page_and_the_check_in_page_link_to_it(client, cast, lecture):
    client.force_login(cast.branch_staff)
    change = client.get(reverse("admin:activities_activity_change", args=[lecture.pk]))
    assert f'href="{page(lecture)}"' in change.content.decode()
    door = client.get(reverse("activities_staff:checkin_activity", args=[lecture.pk]))
    assert f'href="{page(lecture)}"' in door.content.decode()
    # Before the doors open there is nothing to count yet.
    upcoming = published_activity(cast.branch, capacity=10)
    door = client.get(reverse("activities_staff:checkin_activity", args=[upcoming.pk]))
    assert page(upcoming) not in door.content.decode()


def _more(hall, by, n):
    for i in range(n):
        activity = held(hall, days_ago=3 + i, title=f"展览{i}")
        services.attendance_record(activity=activity, head_count=100 + i, method="estimated", by=by)


def test_the_activity_list_shows_participants_and_method_at_a_fixed_cost(
    client, cast, lecture, django_assert_num_queries
):
    services.attendance_record(
        activity=lecture, head_count=45, method="counted", by=cast.branch_staff
    )
    bare = held(cast.branch, title="无人登记的展览")
    booked = held(cast.branch, capacity=10, category=Category.TRAINING, title="书法培训")
    checked_in(booked, "13800138009", 2)
    client.force_login(cast.county_director)
    listed = reverse("admin:activities_activity_changelist")
    client.get(listed)  # warm the session row
    with CaptureQueriesContext(connection) as few:
        response = client.get(listed)
    rows = {a.pk: a for a in response.context["cl"].result_list}
    assert (rows[lecture.pk].participants, rows[lecture.pk].attendance_method) == (45, "counted")
    assert (rows[booked.pk].participants, rows[booked.pk].attendance_method) == (2, None)
    assert rows[bare.pk].participants == 0
    html = response.content.decode()
    assert "45(现场清点)" in html and "2(预约签到)" in html
    _more(cast.branch, cast.branch_staff, 20)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(listed)
    assert len(response.context["cl"].result_list) == 23
    assert "119(估算)" in response.content.decode()


def test_the_page_costs_the_same_with_a_long_log(client, cast, lecture, django_assert_num_queries):
    client.force_login(cast.branch_staff)
    services.attendance_record(
        activity=lecture, head_count=10, method="counted", by=cast.branch_staff
    )
    client.get(page(lecture))
    with CaptureQueriesContext(connection) as one:
        client.get(page(lecture))
    for n in range(11, 20):
        services.attendance_record(
            activity=lecture, head_count=n, method="counted", by=cast.county_director
        )
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(page(lecture))
    assert len(response.context["changes"]) == 10


def test_activities_stay_listed_for_every_status(client, cast):
    """The participants column must not hide an activity that has no attendance or bookings."""
    start = timezone.now() + timedelta(days=3)
    services.activity_create(
        hall=cast.branch,
        category=Category.OTHER,
        title="草稿",
        start=start,
        end=start + timedelta(hours=1),
    )
    client.force_login(cast.branch_staff)
    response = client.get(reverse("admin:activities_activity_changelist"))
    assert [a.title for a in response.context["cl"].result_list] == ["草稿"]
    assert Activity.objects.count() == 1
