"""At the door without a code: staff find the party by its phone (last four digits or the whole
number) among this activity's bookings, then check it in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from activities import services

from .factories import published_activity

pytestmark = pytest.mark.django_db


def page_url(activity):
    return reverse("activities_staff:checkin_activity", args=[activity.pk])


@pytest.fixture
def door(cast):
    cast.show = published_activity(
        cast.branch, capacity=6, start_in=timedelta(hours=2), title="花灯戏专场演出"
    )
    cast.party = services.booking_create(
        activity_id=cast.show.pk, name="张三", phone="13800138000", seats=2
    )
    cast.same_tail = services.booking_create(
        activity_id=cast.show.pk, name="赵六", phone="13600138000", seats=1
    )
    cast.other = services.booking_create(
        activity_id=cast.show.pk, name="李四", phone="13900139000", seats=1
    )
    cast.elsewhere = published_activity(cast.other_branch, capacity=5, title="太和广场舞培训")
    cast.stranger = services.booking_create(
        activity_id=cast.elsewhere.pk, name="王五", phone="13700138000", seats=2
    )
    return cast


def matches(response) -> list[str]:
    return [booking.name for booking, _masked in response.context["phone_matches"]]


def test_the_last_four_digits_find_every_party_of_this_activity_with_them(client, door):
    client.force_login(door.branch_staff)
    response = client.get(page_url(door.show), {"phone": "8000"})
    assert response.status_code == 200
    assert sorted(matches(response)) == ["张三", "赵六"]  # not 王五, booked for another activity
    html = response.content.decode()
    assert "138****8000" in html and "13800138000" not in html
    assert "为 张三 签到" in html


def test_the_whole_number_finds_one_party_and_it_can_be_checked_in(client, door):
    client.force_login(door.branch_staff)
    response = client.get(page_url(door.show), {"phone": "138 0013 8000"})
    assert matches(response) == ["张三"]
    response = client.post(page_url(door.show), {"code": door.party.code})
    assert response.status_code == 302
    door.party.refresh_from_db()
    assert door.party.checked_in_at is not None
    response = client.get(page_url(door.show), {"phone": "13800138000"})
    assert "为 张三 签到" not in response.content.decode()
    assert "已签到" in response.content.decode()


@pytest.mark.parametrize("typed", ["800", "12345", "abcd", "138001380001"])
def test_a_phone_that_is_neither_four_nor_eleven_digits_says_what_to_type(client, door, typed):
    client.force_login(door.branch_staff)
    response = client.get(page_url(door.show), {"phone": typed})
    assert response.status_code == 200
    assert matches(response) == []
    assert "后 4 位" in response.context["phone_error"]


def test_no_match_says_so(client, door):
    client.force_login(door.branch_staff)
    response = client.get(page_url(door.show), {"phone": "0000"})
    assert "没有手机号码为 0000 的预约" in response.content.decode()


def test_wrong_scope_gets_404_and_an_official_finds_but_cannot_check_in(client, door):
    client.force_login(door.other_branch_staff)
    assert client.get(page_url(door.show), {"phone": "8000"}).status_code == 404
    client.force_login(door.county_official)
    response = client.get(page_url(door.show), {"phone": "8000"})
    assert sorted(matches(response)) == ["张三", "赵六"]
    assert "签到</button>" not in response.content.decode()
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 403


def test_the_phone_search_costs_the_same_with_more_matches(client, door, django_assert_num_queries):
    client.force_login(door.branch_staff)
    client.get(page_url(door.show))
    # Session, user, scope, the activity, its counts, the matches.
    with django_assert_num_queries(6):
        assert len(matches(client.get(page_url(door.show), {"phone": "8000"}))) == 2
    for i in range(4):
        services.booking_create(
            activity_id=door.show.pk, name=f"居民{i}", phone=f"13{5 + i}00008000", seats=1
        )
    with django_assert_num_queries(6):
        found = matches(client.get(page_url(door.show), {"phone": "8000"}))
    assert len(found) == 6
