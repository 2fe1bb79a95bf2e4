"""The staff check-in page: find a party by its code, mark it present, in scope only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Booking

from .factories import published_activity

pytestmark = pytest.mark.django_db

INDEX = reverse("activities_staff:checkin")


def page_url(activity):
    return reverse("activities_staff:checkin_activity", args=[activity.pk])


@pytest.fixture
def door(cast):
    """Tonight's show at 关上 with a confirmed party and a waiting one; another show at 太和."""
    cast.show = published_activity(
        cast.branch, capacity=3, start_in=timedelta(hours=2), title="花灯戏专场演出"
    )
    cast.party = services.booking_create(
        activity_id=cast.show.pk, name="张三", phone="13800138000", seats=3
    )
    cast.waiting = services.booking_create(
        activity_id=cast.show.pk, name="李四", phone="13900139000", seats=1
    )
    cast.elsewhere = published_activity(cast.other_branch, capacity=5, title="太和广场舞培训")
    cast.stranger = services.booking_create(
        activity_id=cast.elsewhere.pk, name="王五", phone="13700137000", seats=2
    )
    return cast


def checked_in(booking) -> bool:
    booking.refresh_from_db()
    return booking.checked_in_at is not None


def test_anonymous_visitors_are_sent_to_the_admin_login(client, door):
    for address in (INDEX, page_url(door.show)):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={address}"
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 302
    assert not checked_in(door.party)


def test_the_index_lists_todays_and_upcoming_activities_in_scope_with_counts(client, door):
    past = published_activity(door.branch, capacity=5, title="上周的讲座")
    past.__class__.objects.filter(pk=past.pk).update(
        start=timezone.now() - timedelta(days=8), end=timezone.now() - timedelta(days=7)
    )
    services.booking_check_in(code=door.party.code, by_user=door.branch_staff)
    client.force_login(door.branch_staff)
    response = client.get(INDEX)
    assert response.status_code == 200
    listed = list(response.context["activities"])
    assert listed == [door.show]
    assert (listed[0].checked_parties, listed[0].confirmed_parties) == (1, 1)
    assert (listed[0].checked_seats, listed[0].confirmed_seats) == (3, 3)
    html = response.content.decode()
    assert "太和广场舞培训" not in html and "上周的讲座" not in html

    client.force_login(door.county_director)
    names = {a.title for a in client.get(INDEX).context["activities"]}
    assert names == {"花灯戏专场演出", "太和广场舞培训"}


def test_the_index_costs_the_same_with_more_activities(client, door, django_assert_num_queries):
    client.force_login(door.county_director)
    client.get(INDEX)
    with django_assert_num_queries(4):  # session, user, scope, activities with counts
        client.get(INDEX)
    for i in range(10):
        published_activity(door.branch, capacity=5, title=f"培训{i}")
    with django_assert_num_queries(4):
        assert len(client.get(INDEX).context["activities"]) == 12


def test_looking_up_a_code_shows_the_party_with_a_masked_phone(client, door):
    client.force_login(door.branch_staff)
    response = client.get(page_url(door.show), {"code": f"  {door.party.code.lower()} "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "张三" in html and "138****8000" in html and "13800138000" not in html
    assert 'id="checkin-button"' in html
    assert (
        '已签到 <span id="checked-count">0</span> / <span id="confirmed-count">1</span> 组' in html
    )
    assert not checked_in(door.party)  # looking is not checking in


def test_a_good_code_checks_the_party_in_and_the_count_goes_up(client, door):
    client.force_login(door.branch_staff)
    response = client.post(page_url(door.show), {"code": door.party.code.lower()})
    assert response.status_code == 302
    assert response["Location"] == page_url(door.show)
    door.party.refresh_from_db()
    assert door.party.checked_in_by == door.branch_staff
    page = client.get(response["Location"])
    assert page.context["counts"] == {
        "checked_parties": 1,
        "confirmed_parties": 1,
        "checked_seats": 3,
        "confirmed_seats": 3,
    }
    assert "已签到:张三,3 人" in page.content.decode()


def test_a_wrong_code_is_a_clear_error(client, door):
    client.force_login(door.branch_staff)
    response = client.post(page_url(door.show), {"code": "ZZZZ2222"})
    assert response.status_code == 400
    assert "没有这个预约码:ZZZZ2222" in response.content.decode()
    assert "请输入预约码。" in client.post(page_url(door.show), {"code": ""}).content.decode()
    assert not checked_in(door.party)


def test_a_code_of_another_activity_changes_nothing(client, door):
    other_show = published_activity(door.point, capacity=5, title="关上一社区读书会")
    theirs = services.booking_create(
        activity_id=other_show.pk, name="赵六", phone="13600136000", seats=1
    )
    client.force_login(door.county_director)
    response = client.post(page_url(door.show), {"code": theirs.code})
    assert response.status_code == 400
    assert "属于另一个活动《关上一社区读书会》" in response.content.decode()
    assert not checked_in(theirs)


def test_a_code_outside_the_scope_answers_as_one_that_does_not_exist(client, door):
    """The page must not tell staff whether a code was booked somewhere outside their scope:
    the answer (status, message, page) is the one for a code nobody holds."""
    client.force_login(door.branch_staff)
    fake = "ZZZZ2222"
    assert not Booking.objects.filter(code=fake).exists()
    for method in ("post", "get"):
        send = getattr(client, method)
        answers = {}
        for code in (door.stranger.code, fake):
            response = send(page_url(door.show), {"code": code})
            html = response.content.decode().replace(code, "CODE")
            answers[code] = (response.status_code, html)
        assert answers[door.stranger.code] == answers[fake], method
        assert "没有这个预约码:CODE" in answers[fake][1]
        assert "太和广场舞培训" not in answers[door.stranger.code][1]
    assert not checked_in(door.stranger)


def test_checking_in_twice_is_refused_and_keeps_the_first_time(client, door):
    client.force_login(door.branch_staff)
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 302
    door.party.refresh_from_db()
    first = door.party.checked_in_at
    response = client.post(page_url(door.show), {"code": door.party.code})
    assert response.status_code == 400
    assert "已于" in response.content.decode()
    door.party.refresh_from_db()
    assert door.party.checked_in_at == first


def test_a_waiting_party_cannot_check_in(client, door):
    client.force_login(door.branch_staff)
    looked = client.get(page_url(door.show), {"code": door.waiting.code}).content.decode()
    assert "候补中" in looked and 'id="checkin-button"' not in looked
    response = client.post(page_url(door.show), {"code": door.waiting.code})
    assert response.status_code == 400
    assert "候补中" in response.content.decode()
    assert not checked_in(door.waiting)
    assert Booking.objects.get(pk=door.waiting.pk).status == Booking.Status.WAITLISTED


@pytest.mark.parametrize("who", ["other_branch_staff", "other_county_director"])
def test_staff_out_of_scope_get_404(client, door, who):
    client.force_login(getattr(door, who))
    assert client.get(page_url(door.show)).status_code == 404
    assert client.get(page_url(door.show), {"code": door.party.code}).status_code == 404
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 404
    assert not checked_in(door.party)


def test_the_official_views_but_cannot_check_in(client, door):
    client.force_login(door.county_official)
    looked = client.get(page_url(door.show), {"code": door.party.code})
    assert looked.status_code == 200
    html = looked.content.decode()
    assert "张三" in html and 'id="checkin-button"' not in html and "只读账号" in html
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 403
    assert not checked_in(door.party)


def test_the_post_needs_the_csrf_token(door):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(door.branch_staff)
    assert client.post(page_url(door.show), {"code": door.party.code}).status_code == 403
    assert not checked_in(door.party)
