"""The residents' venue pages: list, week grid, reserve, look up, cancel; no script needed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from activities.venues.models import Reservation
from tests.conftest import verify_client

from .factories import in_days, make_venue, reserve

pytestmark = pytest.mark.django_db


def test_a_halls_venues_in_fixed_queries(client, cast, django_assert_num_queries):
    make_venue(cast.branch, name="二楼排练厅")
    make_venue(cast.other_county_point, name="华山书画室")
    url = reverse("venues:venue_list")
    with django_assert_num_queries(3):  # the hall, the count, the page
        page = client.get(url, {"hall": cast.branch.pk}).content.decode()
    assert "二楼排练厅" in page and "华山书画室" not in page
    for i in range(6):
        make_venue(cast.branch, name=f"舞蹈室{i}")
    with django_assert_num_queries(3):
        assert client.get(url, {"hall": cast.branch.pk}).status_code == 200
    assert client.get(url, {"hall": 999999}).status_code == 404
    assert "华山书画室" in client.get(url, {"within": cast.other_county.pk}).content.decode()


def test_the_week_grid_shows_free_and_taken_slots_in_fixed_queries(
    client, cast, django_assert_num_queries
):
    venue = make_venue(cast.branch)
    reserve(venue, day=in_days(1), hour=10, hours=2)
    url = reverse("venues:venue_detail", args=[venue.pk])
    with django_assert_num_queries(4):  # venue, hours, closures, the week's reservations
        page = client.get(url, {"week": in_days(1).isoformat()}).content.decode()
    assert page.count('title="已被预约"') == 2
    assert f"day={in_days(1).isoformat()}&amp;start=12:00&amp;end=13:00" in page
    # Next week, and no further back than this week.
    assert "下一周" in page
    later = client.get(url, {"week": (in_days(7)).isoformat()}).content.decode()
    assert "上一周" in later
    assert client.get(url, {"week": "garbage"}).status_code == 200
    assert client.get(reverse("venues:venue_detail", args=[999999])).status_code == 404


def test_reserve_look_up_and_cancel_without_script(client, cast):
    venue = make_venue(cast.branch)
    url = reverse("venues:venue_detail", args=[venue.pk])
    day = in_days(2).isoformat()
    form = {
        "day": day, "start": "19:00", "end": "21:00", "name": "张三",
        "phone": "13800138000", "purpose": "合唱排练", "party_size": "12",
    }  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    code = Reservation.objects.get().code
    assert code in detail and "已确认" in detail
    # Without the signed link the code alone shows nothing.
    assert client.get(reverse("venues:reservation_detail", args=[code])).status_code == 404

    taken = client.post(url, {**form, "phone": "13900000001"})
    assert taken.status_code == 400 and "已被预约" in taken.content.decode()

    lookup = reverse("venues:reservation_lookup")
    wrong = client.post(lookup, {"phone": "13900000001", "code": code})
    assert "不匹配" in wrong.content.decode()
    found = client.post(lookup, {"phone": "13800138000", "code": code.lower()})
    assert found.status_code == 302
    token = re.search(r"t=([^&]+)", found["Location"]).group(1)
    cancelled = client.post(
        reverse("venues:reservation_cancel", args=[code]), {"t": token}, follow=True
    )
    assert "预约已取消" in cancelled.content.decode()
    assert Reservation.objects.get().status == "cancelled"


def test_an_unverified_browser_is_asked_to_verify_and_nothing_is_saved(client, cast):
    venue = make_venue(cast.branch, capacity=10)
    url = reverse("venues:venue_detail", args=[venue.pk])
    client.verify_phones = False
    response = client.post(
        url,
        {"day": in_days(2).isoformat(), "start": "10:00", "end": "11:00", "name": "张三",
         "phone": "13800138000", "purpose": "排练", "party_size": "5"},
    )  # fmt: skip
    assert response.status_code == 401
    assert "验证手机号码" in response.content.decode()
    assert not Reservation.objects.exists()


def test_bad_input_shows_field_errors_and_writes_nothing(client, cast):
    venue = make_venue(cast.branch, capacity=10)
    url = reverse("venues:venue_detail", args=[venue.pk])
    verify_client(client, "13800138000")
    response = client.post(
        url,
        {"day": in_days(2).isoformat(), "start": "10:00", "end": "09:00", "name": "",
         "phone": "123", "purpose": "排练", "party_size": "11"},
    )  # fmt: skip
    assert response.status_code == 400
    form = response.context["form"]
    # The phone is the verified one whatever the POST says; the rest is checked as typed.
    assert {"end", "name"} <= set(form.errors) and "phone" not in form.errors
    response = client.post(
        url,
        {"day": in_days(2).isoformat(), "start": "10:00", "end": "11:00", "name": "张三",
         "phone": "13800138000", "purpose": "排练", "party_size": "11"},
    )  # fmt: skip
    assert response.context["form"].errors["party_size"] == ["该场馆最多容纳 10 人。"]
    assert not Reservation.objects.exists()


def test_the_grid_stops_at_the_booking_horizon(client, cast, settings):
    settings.VENUE_BOOKING_WEEKS_AHEAD = 1
    venue = make_venue(cast.branch)
    url = reverse("venues:venue_detail", args=[venue.pk])
    far = client.get(url, {"week": (in_days(0) + timedelta(weeks=10)).isoformat()})
    assert "下一周" not in far.content.decode()
