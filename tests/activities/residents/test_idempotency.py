"""``Idempotency-Key`` on residents' POSTs: a retry after a lost answer gets the first answer
(status and body) and changes nothing; the same key with another body is a 422; two requests
with one key at the same moment act once (PostgreSQL, separate connections)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from activities.models import Booking
from activities.orders.models import Order
from activities.residents.models import IdempotentRequest, PhoneCode
from activities.residents.services import prune_idempotent_requests
from activities.venues.models import Reservation
from tests.activities.factories import published_activity
from tests.activities.venues.factories import in_days, local, make_venue
from tests.conftest import build_cast, consenting_client, need_postgres, verify_phone

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def post(client, url, data, key=None, **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def booking_body(seats=1, phone=PHONE):
    return {"name": "张三", "phone": phone, "seats": seats, "consent": True}


def test_a_retried_booking_gets_the_same_answer_and_books_once(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    first = post(client, url, booking_body(), key="b-1")
    assert first.status_code == 201, first.content
    # The answer was lost; the app sends the same request again, with the same key.
    again = post(client, url, booking_body(), key="b-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    # JSON that differs only in spacing and key order is the same body.
    spaced = '{ "seats": 1,  "phone": "PHONE", "name": "张三" }'.replace("PHONE", PHONE)
    assert post(client, url, spaced, key="b-1").json() == first.json()
    assert Booking.objects.filter(activity=activity).count() == 1
    # Without the key the retry is a second booking attempt, refused (one phone books once).
    assert post(client, url, booking_body()).status_code == 400


def test_the_same_key_with_another_body_is_refused(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    assert post(client, url, booking_body(), key="b-2").status_code == 201
    response = post(client, url, booking_body(seats=2), key="b-2")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"] and "正文" in response.json()["detail"]
    assert Booking.objects.get(activity=activity).seats == 1


def test_an_error_leaves_no_answer_behind_and_a_retry_runs_again(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    bad = post(client, url, booking_body(seats=0), key="b-3")
    assert bad.status_code == 400
    assert not IdempotentRequest.objects.exists()
    assert post(client, url, booking_body(), key="b-3").status_code == 201


def test_a_key_belongs_to_its_endpoint_and_lasts_a_day(client, cast):
    first = published_activity(cast.branch, capacity=10, title="甲")
    second = published_activity(cast.branch, capacity=10, title="乙")
    one = post(client, f"/api/v1/activities/{first.pk}/bookings/", booking_body(), key="k")
    two = post(client, f"/api/v1/activities/{second.pk}/bookings/", booking_body(), key="k")
    assert one.status_code == two.status_code == 201
    assert one.json()["code"] != two.json()["code"]
    # A day later the key is free again: the old answer counts for nothing and is purged.
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Booking.objects.all().update(status=Booking.Status.CANCELLED)
    assert prune_idempotent_requests() == 2
    assert not IdempotentRequest.objects.exists()


def test_a_stale_answer_is_not_replayed(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    first = post(client, url, booking_body(), key="old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    retry = post(client, url, booking_body(), key="old")
    # Run again: the phone has booked already, so this time it is refused.
    assert retry.status_code == 400 and retry.json() != first.json()


def test_a_malformed_key_is_a_400_that_names_the_header(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    for key in ("x" * 201, "  ", "键"):
        response = post(
            client, url, booking_body(), HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
        )
        assert response.status_code == 400, key
        assert list(response.json()) == ["Idempotency-Key"]
    assert not Booking.objects.exists()


def test_cancelling_a_booking_twice_with_one_key_answers_alike(client, cast):
    activity = published_activity(cast.branch, capacity=10)
    code = post(client, f"/api/v1/activities/{activity.pk}/bookings/", booking_body()).json()[
        "code"
    ]
    url = f"/api/v1/bookings/{code}/cancel/"
    first = post(client, url, {"phone": PHONE}, key="c-1")
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    again = post(client, url, {"phone": PHONE}, key="c-1")
    assert (again.status_code, again.json()) == (200, first.json())
    changed = post(client, url, {"phone": PHONE, "note": "改期"}, key="c-1")
    assert changed.status_code == 422
    # Another resident's key of the same name is their own: it does not answer with this one.
    theirs = post(client, url, {"phone": "13900139000"}, key="c-1")
    assert theirs.status_code == 400 and "Idempotent-Replayed" not in theirs


def test_a_retried_order_is_placed_once(client, cast):
    body = {"point": cast.point.pk, "name": "王村长", "phone": "13700000001", "description": "培训"}
    first = post(client, "/api/v1/demands/", body, key="d-1")
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/demands/", body, key="d-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert Order.objects.count() == 1
    changed = post(client, "/api/v1/demands/", {**body, "description": "演出"}, key="d-1")
    assert changed.status_code == 422


def test_venue_reservations_and_their_cancelling_take_a_key(client, cast):
    venue = make_venue(cast.branch)
    day = in_days(2)
    body = {
        "start": local(day, 10).isoformat(),
        "end": local(day, 12).isoformat(),
        "name": "张三",
        "phone": PHONE,
        "purpose": "合唱排练",
        "party_size": 12,
    }
    url = f"/api/v1/venues/{venue.pk}/reservations/"
    first = post(client, url, body, key="v-1")
    assert first.status_code == 201, first.content
    again = post(client, url, body, key="v-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert Reservation.objects.count() == 1
    # A 409 (taken) is an answer too: the same key gets it again.
    other = {**body, "phone": "13900139000"}
    taken = post(client, url, other, key="v-2")
    assert taken.status_code == 409
    assert post(client, url, other, key="v-2").json() == taken.json()
    cancel = f"/api/v1/reservations/{first.json()['code']}/cancel/"
    done = post(client, cancel, {"phone": PHONE}, key="v-3")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert post(client, cancel, {"phone": PHONE}, key="v-3").json() == done.json()


def test_a_retried_code_request_sends_one_sms(cast, settings):
    settings.DEBUG = False
    client = consenting_client()
    first = post(client, "/api/v1/phone-codes/", {"phone": "13900000007"}, key="p-1")
    assert first.status_code == 202
    again = post(client, "/api/v1/phone-codes/", {"phone": "13900000007"}, key="p-1")
    assert (again.status_code, again.json()) == (202, first.json())
    assert PhoneCode.objects.filter(phone="13900000007").count() == 1
    # Without the key, a second request inside the minute is refused as usual.
    assert post(client, "/api/v1/phone-codes/", {"phone": "13900000007"}).status_code in (400, 429)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_book_once(settings):
    """Twelve copies of one request, same key, same moment, each on its own PostgreSQL
    connection: one booking; every copy gets its answer, the same code."""
    need_postgres()
    settings.BOOKING_RATE_LIMIT_IP = 0  # every thread comes from 127.0.0.1
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=10)
    token = verify_phone(PHONE)
    n = 12
    answers: list = [None] * n
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        try:
            barrier.wait()
            response = post(
                Client(),
                f"/api/v1/activities/{activity.pk}/bookings/",
                booking_body(),
                key="race-1",
                HTTP_X_RESIDENT_TOKEN=token,
            )
            answers[i] = (response.status_code, json.loads(response.content))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            answers[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()

    assert [a[0] if isinstance(a, tuple) else a for a in answers] == [201] * n
    assert len({body["code"] for _status, body in answers}) == 1
    assert Booking.objects.filter(activity=activity).count() == 1
    assert IdempotentRequest.objects.count() == 1
