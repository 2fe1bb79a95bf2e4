"""Venue booking in the admin: writes through the services, steps as actions, refusals shown.
The wrong scope (404) and officials (read only) are tried for every model by
tests/network/test_admin_scope.py, through ``admin_scope_object`` in factories.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.venues.models import OpeningHours, Reservation, ReservationSeries, Venue

from .factories import in_days, make_venue, reserve

pytestmark = pytest.mark.django_db


def _inline(prefix, rows, total=None):
    data = {
        f"{prefix}-TOTAL_FORMS": str(total if total is not None else len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_staff_add_a_venue_with_its_hours(client, cast):
    client.force_login(cast.branch_staff)
    data = {
        "hall": cast.branch.pk, "name": "二楼舞蹈室", "kind": "dance", "capacity": "25",
        "access": "anyone", "slot_minutes": "60", "status": "open",
        **_inline("hours", [{"weekday": "1", "opens": "19:00", "closes": "21:00"},
                            {"weekday": "5", "opens": "09:00", "closes": "12:00"}]),
        **_inline("closures", []),
    }  # fmt: skip
    response = client.post(reverse("admin:venues_venue_add"), data)
    assert response.status_code == 302, response.context["errors"]
    venue = Venue.objects.get(name="二楼舞蹈室")
    assert list(venue.hours.values_list("weekday", flat=True)) == [1, 5]


def test_overlapping_hours_are_refused_on_the_form_and_nothing_is_saved(client, cast):
    client.force_login(cast.branch_staff)
    data = {
        "hall": cast.branch.pk, "name": "书画室", "kind": "calligraphy", "capacity": "10",
        "access": "anyone", "status": "open",
        **_inline("hours", [{"weekday": "1", "opens": "09:00", "closes": "12:00"},
                            {"weekday": "1", "opens": "11:00", "closes": "13:00"}]),
        **_inline("closures", []),
    }  # fmt: skip
    response = client.post(reverse("admin:venues_venue_add"), data)
    assert response.status_code == 200
    assert "同一天的开放时间段不能重叠" in response.content.decode()
    assert not Venue.objects.filter(name="书画室").exists()
    assert not OpeningHours.objects.exists()


def test_staff_reserve_on_behalf_and_a_taken_range_comes_back_on_the_form(client, cast):
    venue = make_venue(cast.branch, needs_approval=True)
    day = in_days(2)
    client.force_login(cast.branch_staff)
    data = {
        "venue": venue.pk, "start_0": day.isoformat(), "start_1": "10:00",
        "end_0": day.isoformat(), "end_1": "12:00", "name": "李四", "phone": "13900139000",
        "purpose": "合唱排练", "party_size": "15",
    }  # fmt: skip
    assert client.post(reverse("admin:venues_reservation_add"), data).status_code == 302
    made = Reservation.objects.get()
    # Booked by staff: approved by doing so.
    assert (made.status, made.created_by) == ("confirmed", cast.branch_staff)
    response = client.post(reverse("admin:venues_reservation_add"), data)
    assert response.status_code == 200
    assert "已被预约" in response.content.decode()
    assert Reservation.objects.count() == 1


def _act(client, action, objs, reason=""):
    return client.post(
        reverse("admin:venues_reservation_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objs], "reason": reason},
        follow=True,
    )


def test_approve_reject_cancel_and_check_in_as_actions(client, cast):
    venue = make_venue(cast.branch, needs_approval=True)
    a, b, c = (reserve(venue, hour=h, phone=f"1390000000{h % 10}") for h in (9, 12, 15))
    client.force_login(cast.county_director)

    _act(client, "approve", [a])
    page = _act(client, "reject", [b])
    assert "请填写原因" in page.content.decode()
    _act(client, "reject", [b], reason="当天有演出")
    _act(client, "cancel", [c], reason="场馆临时维修")
    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "confirmed", b.pk: "rejected", c.pk: "cancelled"}

    page = _act(client, "check_in", [a])  # too early
    assert "才能签到" in page.content.decode()
    Reservation.objects.filter(pk=a.pk).update(
        start=timezone.now() - timedelta(minutes=10), end=timezone.now() + timedelta(hours=1)
    )
    _act(client, "check_in", [a])
    assert Reservation.objects.get(pk=a.pk).status == "checked_in"


def test_a_series_that_collides_lists_the_dates_on_the_form(client, cast):
    venue = make_venue(cast.branch)
    first = in_days(1)
    reserve(venue, day=first + timedelta(weeks=1), hour=19)
    client.force_login(cast.branch_staff)
    data = {
        "venue": venue.pk, "weekday": str(first.weekday()), "starts_at": "19:00",
        "ends_at": "21:00", "first_day": first.isoformat(),
        "last_day": (first + timedelta(weeks=3)).isoformat(), "name": "李四",
        "phone": "13900139000", "purpose": "花灯排练", "party_size": "12",
    }  # fmt: skip
    response = client.post(reverse("admin:venues_reservationseries_add"), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert (first + timedelta(weeks=1)).isoformat() in text and "已被预约" in text
    assert not ReservationSeries.objects.exists()

    data["first_day"] = (first + timedelta(weeks=2)).isoformat()
    assert client.post(reverse("admin:venues_reservationseries_add"), data).status_code == 302
    series = ReservationSeries.objects.get()
    assert series.reservations.count() == 2
    client.post(
        reverse("admin:venues_reservationseries_changelist"),
        {"action": "cancel_remaining", "_selected_action": [series.pk], "reason": "团队解散"},
    )
    assert set(series.reservations.values_list("status", flat=True)) == {"cancelled"}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_reservation_list_costs_the_same_for_one_row_or_many(client, cast):
    venue = make_venue(cast.branch)
    client.force_login(cast.county_director)
    url = reverse("admin:venues_reservation_changelist")
    reserve(venue, hour=9)
    one = _queries(client, url)
    for h in range(10, 16):
        reserve(venue, hour=h, phone=f"139000000{h}")
    assert _queries(client, url) == one
