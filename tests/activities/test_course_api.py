"""A course in the API: its sessions on the activity (list and detail, query counts pinned), and
enrolment, alone or as a group, through the one booking endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Booking

from .factories import published_activity
from .test_api import LIST, book, detail, resident
from .test_courses import course

pytestmark = pytest.mark.django_db


def test_the_activity_carries_its_sessions(client, cast):
    activity = course(cast.branch, sessions=3)
    plain = published_activity(cast.branch, start_in=timedelta(days=30))
    rows = {row["id"]: row for row in client.get(LIST).json()["results"]}
    sessions = rows[activity.pk]["sessions"]
    assert len(sessions) == 3 and set(sessions[0]) == {"start", "end"}
    starts = [s["start"] for s in sessions]
    assert starts == sorted(starts)
    assert rows[plain.pk]["sessions"] == []
    body = client.get(detail(activity)).json()
    assert body["sessions"] == sessions
    assert body["start"] == sessions[0]["start"] and body["end"] == sessions[-1]["end"]


@pytest.mark.parametrize("n", [2, 12])
def test_the_list_with_courses_costs_one_query_more_whatever_their_number(
    client, cast, settings, django_assert_num_queries, n
):
    settings.ACTIVITY_LIST_CACHE_SECONDS = 0
    for i in range(n):
        course(cast.branch, sessions=4, first_in=timedelta(days=1, hours=i))
    # The count, the page, the sessions of the courses on it.
    with django_assert_num_queries(3):
        body = client.get(LIST).json()
    assert body["count"] == n and all(len(r["sessions"]) == 4 for r in body["results"])


def test_the_detail_of_a_course_is_two_queries(client, cast, django_assert_num_queries):
    activity = course(cast.branch, sessions=5)
    with django_assert_num_queries(2):
        assert len(client.get(detail(activity)).json()["sessions"]) == 5


def test_a_group_enrols_through_the_booking_endpoint_up_to_the_limit(client, cast, settings):
    settings.RESIDENT_VERIFICATION = "off"
    activity = course(cast.branch, sessions=2, capacity=50, group_limit=20)
    group = {**resident(1, seats=21), "group_kind": "team", "group_name": "花灯队"}
    response = book(client, activity, group)
    assert response.status_code == 400 and "seats" in response.json()
    response = book(client, activity, {**group, "group_kind": "army"})
    assert response.status_code == 400 and "group_kind" in response.json()
    response = book(client, activity, {**group, "seats": 20})
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    booking = Booking.objects.get()
    assert (booking.group_kind, booking.group_name, booking.seats) == ("team", "花灯队", 20)
    assert timezone.now() < activity.start
