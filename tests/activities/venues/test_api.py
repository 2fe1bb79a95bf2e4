"""The venues API: lists with pinned query counts, slots, reserving (201/400/409) and cancelling."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from activities.venues.models import Reservation, Venue
from tests.api import assert_field_error

from .factories import in_days, local, make_venue, reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    from tests.conftest import ResidentClient

    return type("APIClient", (ResidentClient, APIClient), {})()


def _body(venue, day=None, hour=10, **fields):
    day = day or in_days(2)
    body = {
        "start": local(day, hour).isoformat(),
        "end": local(day, hour + 2).isoformat(),
        "name": "张三",
        "phone": "13800138000",
        "purpose": "合唱排练",
        "party_size": 12,
    }
    body.update(fields)
    return body


def _post(api, venue, body):
    return api.post(f"/api/v1/venues/{venue.pk}/reservations/", body, format="json")


def test_the_list_filters_by_area_and_hall_in_fixed_queries(api, cast, django_assert_num_queries):
    here = [make_venue(cast.branch), make_venue(cast.point), make_venue(cast.county)]
    away = make_venue(cast.other_county_point)
    make_venue(cast.branch, status=Venue.Status.CLOSED)
    with django_assert_num_queries(3):  # the hall of `within`, the count, the page
        body = api.get("/api/v1/venues/", {"within": cast.branch.pk}).json()
    assert {v["id"] for v in body["results"]} == {here[0].pk, here[1].pk}
    assert body["results"][0]["hall_name"] == cast.branch.name
    body = api.get("/api/v1/venues/", {"hall": cast.other_county_point.pk}).json()
    assert [v["id"] for v in body["results"]] == [away.pk]
    for i in range(5):
        make_venue(cast.point, name=f"书画室{i}")
    with django_assert_num_queries(2):
        assert api.get("/api/v1/venues/").json()["count"] == 9
    assert_field_error(api.get("/api/v1/venues/", {"within": 999999}), "within")


def test_slots_of_a_day(api, cast, django_assert_num_queries):
    venue = make_venue(cast.branch)
    reserve(venue, day=in_days(2), hour=10, hours=2)
    with django_assert_num_queries(4):  # venue, hours, closures, reservations
        response = api.get(f"/api/v1/venues/{venue.pk}/slots/", {"date": in_days(2).isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["closed_reason"] == "" and len(body["slots"]) == 14
    states = [s["state"] for s in body["slots"]]
    assert states[:4] == ["free", "free", "taken", "taken"]
    assert_field_error(api.get(f"/api/v1/venues/{venue.pk}/slots/", {"date": "12/15"}), "date")
    assert_field_error(api.get(f"/api/v1/venues/{venue.pk}/slots/"), "date")
    assert api.get("/api/v1/venues/999999/slots/", {"date": "2026-12-15"}).status_code == 404


def test_slots_only_for_the_weeks_the_page_shows(api, cast, settings):
    """A day centuries away was answered with times at Shanghai's old local offset
    (+08:05:43, not a valid RFC 3339 time); the API now keeps to the page's weeks."""
    from datetime import timedelta

    from django.utils import timezone

    settings.VENUE_BOOKING_WEEKS_AHEAD = 2
    venue = make_venue(cast.branch)
    url = f"/api/v1/venues/{venue.pk}/slots/"
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    last = monday + timedelta(weeks=2, days=6)
    for day in (monday, today, last):
        response = api.get(url, {"date": day.isoformat()})
        assert response.status_code == 200, day
        assert all(s["start"].endswith("+08:00") for s in response.json()["slots"])
    for day in (monday - timedelta(days=1), last + timedelta(days=1), "1134-08-04"):
        refused = api.get(url, {"date": str(day)})
        assert_field_error(refused, "date")
        (message,) = refused.json()["date"]
        assert monday.isoformat() in message and last.isoformat() in message


def test_reserve_confirmed_or_pending(api, cast):
    venue = make_venue(cast.branch)
    response = _post(api, venue, _body(venue))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed" and len(body["code"]) == 8
    approved = make_venue(cast.branch, needs_approval=True)
    assert _post(api, approved, _body(approved)).json()["status"] == "pending"


def test_a_taken_range_is_409_with_a_chinese_message(api, cast):
    venue = make_venue(cast.branch)
    assert _post(api, venue, _body(venue)).status_code == 201
    response = _post(api, venue, _body(venue, hour=11, phone="13900000001"))
    assert response.status_code == 409
    assert "已被预约" in response.json()["detail"]
    assert Reservation.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 31}, "party_size"),
        ({"start": "tomorrow"}, "start"),
        ({"purpose": ""}, "purpose"),
        ({"hour": 6}, "start"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, cast, settings, fields, field):
    if field == "phone":
        # A typed phone is only read with verification off; with it on, the token's is used.
        settings.RESIDENT_VERIFICATION = "off"
    venue = make_venue(cast.branch)
    hour = fields.pop("hour", 10)
    assert_field_error(_post(api, venue, _body(venue, hour=hour, **fields)), field)
    assert not Reservation.objects.exists()


def test_reserving_needs_a_verified_phone_and_messages_the_resident(
    api, cast, settings, tmp_path, django_capture_on_commit_callbacks, eager_tasks
):
    import json

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    venue = make_venue(cast.branch)
    api.verify_phones = False
    response = _post(api, venue, _body(venue))
    assert response.status_code == 401 and "X-Resident-Token" in response.json()["detail"]
    assert not Reservation.objects.exists()
    api.verify_phones = True
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(api, venue, _body(venue)).status_code == 201
    sent = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    confirmed = [m for m in sent if m["template"] == "reservation_confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["phone"] == "13800138000"
    assert Reservation.objects.get().code in confirmed[0]["text"]


def test_reserving_is_rate_limited(api, cast, settings):
    settings.BOOKING_RATE_LIMIT_PHONE = 1
    venue = make_venue(cast.branch)
    assert _post(api, venue, _body(venue, hour=8)).status_code == 201
    response = _post(api, venue, _body(venue, hour=14))
    assert response.status_code == 429
    assert "Retry-After" in response


def test_look_up_and_cancel(api, cast):
    venue = make_venue(cast.branch)
    code = _post(api, venue, _body(venue)).json()["code"]
    url = f"/api/v1/reservations/{code}/"
    assert api.get(url, {"phone": "13800138000"}).json()["status"] == "confirmed"
    assert api.get(url, {"phone": "13900000000"}).status_code == 404
    wrong = api.post(f"{url}cancel/", {"phone": "13900000000"}, format="json")
    assert_field_error(wrong, "code")
    response = api.post(f"{url}cancel/", {"phone": "13800138000"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    # The range is free again.
    assert _post(api, venue, _body(venue, phone="13900000001")).status_code == 201


def test_the_schema_documents_the_venue_endpoints(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text(encoding="utf-8")
    for path in (
        "/api/v1/venues/:",
        "/api/v1/venues/{id}/slots/:",
        "/api/v1/venues/{id}/reservations/:",
        "/api/v1/reservations/{code}/cancel/:",
    ):
        assert path in text
    assert "'409'" in text
