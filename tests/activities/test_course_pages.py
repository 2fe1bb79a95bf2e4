"""A course's public page (its sessions, 共N次课, seats left, the enrol and group forms), the list's
mark, and the resident's 我的 with attendance and completion."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from activities import courses
from activities.models import Booking, GroupKind
from tests.conftest import verify_client

from .factories import published_activity
from .test_courses import book, course, move_back

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def page(client, activity):
    return client.get(reverse("activities:activity_detail", args=[activity.pk]))


def test_the_course_page_lists_every_session_and_greys_the_past_ones(client, cast):
    activity = course(cast.branch, sessions=4, capacity=10)
    book(activity, "13800000001", seats=3)
    # Open the course again after its first two sessions (as a hall lets late-comers join).
    move_back(activity, 2)
    html = page(client, activity).content.decode()
    assert "共4次课" in html
    assert len(re.findall(r'class="session session-past"', html)) == 2
    assert len(re.findall(r'class="session"', html)) == 2
    assert "少儿民族舞培训班" in html


def test_the_list_marks_a_course_with_its_sessions(client, cast):
    course(cast.branch, sessions=10)
    published_activity(cast.branch, title="讲座")
    html = client.get(reverse("activities:activity_list")).content.decode()
    assert html.count("培训班 · 10次课") == 1


def test_a_verified_resident_enrols_in_a_course_from_its_page(client, cast):
    activity = course(cast.branch, sessions=3, capacity=10)
    verify_client(client, PHONE)
    response = client.post(
        reverse("activities:activity_detail", args=[activity.pk]),
        {"name": "张三", "phone": PHONE, "seats": 1},
    )
    assert response.status_code == 302
    assert Booking.objects.get().seats == 1
    # Once is enough for every session.
    again = client.post(
        reverse("activities:activity_detail", args=[activity.pk]),
        {"name": "张三", "phone": PHONE, "seats": 1},
    )
    assert "已经预约过" in again.content.decode()


def test_a_group_enrols_from_the_page_and_more_than_the_limit_is_a_form_error(client, cast):
    activity = course(cast.branch, sessions=3, capacity=60, group_limit=30)
    verify_client(client, PHONE)
    html = page(client, activity).content.decode()
    assert 'id="group-booking"' in html and "每个团体最多 30 人" in html
    url = reverse("activities:activity_detail", args=[activity.pk])
    data = {
        "group_kind": GroupKind.SCHOOL_CLASS,
        "group_name": "关上小学三年级二班",
        "name": "王老师",
        "phone": PHONE,
    }
    too_many = client.post(url, {**data, "seats": 31})
    assert too_many.status_code == 200
    assert "seats" in too_many.context["group_form"].errors
    assert "每个团体最多报名 30 人" in too_many.content.decode()
    assert not Booking.objects.exists()
    junk = client.post(url, {**data, "seats": "三十", "group_kind": "army"})
    assert {"seats", "group_kind"} <= set(junk.context["group_form"].errors)
    response = client.post(url, {**data, "seats": 28})
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.group_kind, booking.group_name, booking.seats) == (
        "class",
        "关上小学三年级二班",
        28,
    )


def test_a_course_that_takes_no_groups_shows_no_group_form(client, cast):
    activity = course(cast.branch, sessions=2)
    assert 'id="group-booking"' not in page(client, activity).content.decode()


def test_my_page_shows_the_course_with_attendance_and_completion(client, cast):
    activity = course(cast.branch, sessions=2, capacity=10)
    booking = book(activity, PHONE)
    first, second = move_back(activity, 2)
    courses.session_roll_record(session=first, present={booking.pk}, by=cast.branch_staff)
    courses.session_roll_record(session=second, present={booking.pk}, by=cast.branch_staff)
    verify_client(client, PHONE)
    html = client.get(reverse("me")).content.decode()
    assert "少儿民族舞培训班" in html
    assert "出勤 2/2 次" in html and "已结业" in html


def test_the_calendar_of_a_course_has_one_event_per_session(
    client, cast, django_assert_num_queries
):
    activity = course(cast.branch, sessions=3)
    plain = published_activity(cast.branch, title="讲座")
    body = client.get(reverse("activities:activity_calendar", args=[activity.pk])).content
    assert body.count(b"BEGIN:VEVENT") == 3
    assert "第3次课".encode() in body.replace(b"\r\n ", b"")
    # The hall's feed: the course as its sessions, the lecture as one event, in three queries.
    with django_assert_num_queries(3):
        feed = client.get(reverse("activities:hall_calendar", args=[cast.branch.pk])).content
    assert feed.count(b"BEGIN:VEVENT") == 3 + 1
    assert plain.pk
