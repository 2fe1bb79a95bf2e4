"""No overbooking, ever: many residents press the button in the same second."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from activities import services
from activities.models import Activity, Booking
from tests.conftest import build_cast, need_postgres

from .factories import published_activity

pytestmark = pytest.mark.django_db(transaction=True)


def _fire(activity_id: int, requests: list[tuple[str, int]]) -> tuple[list, list]:
    results: list = [None] * len(requests)
    errors: list = []
    barrier = threading.Barrier(len(requests))

    def one(i: int, phone: str, seats: int) -> None:
        try:
            barrier.wait()
            results[i] = services.booking_create(
                activity_id=activity_id, name=f"居民{i}", phone=phone, seats=seats
            )
        except ValidationError as exc:
            results[i] = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=one, args=(i, phone, seats))
        for i, (phone, seats) in enumerate(requests)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()
    return results, errors


def test_sixty_concurrent_bookings_never_pass_capacity():
    need_postgres()
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=20)
    requests = [(f"138{i:08d}", 1 + i % 3) for i in range(60)]
    results, errors = _fire(activity.pk, requests)

    assert errors == []
    assert all(isinstance(r, Booking) for r in results), results  # every request answered
    activity = Activity.objects.get(pk=activity.pk)
    confirmed = Booking.objects.filter(activity=activity, status=Booking.Status.CONFIRMED)
    assert sum(b.seats for b in confirmed) == activity.seats_taken <= activity.capacity
    # The seats are all gone before anybody waits who could have fitted.
    waiting = list(
        Booking.objects.filter(activity=activity, status=Booking.Status.WAITLISTED).order_by(
            "created_at", "pk"
        )
    )
    assert len(waiting) + confirmed.count() == 60
    assert min(b.seats for b in waiting) > activity.capacity - activity.seats_taken


def test_the_same_phone_racing_itself_books_once():
    need_postgres()
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=50)
    results, errors = _fire(activity.pk, [("13912345678", 1)] * 12)
    assert errors == []
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert all(
        isinstance(r, ValidationError) and "phone" in r.message_dict
        for r in results
        if not isinstance(r, Booking)
    )
    assert Activity.objects.get(pk=activity.pk).seats_taken == 1


def test_concurrent_cancellations_promote_the_waiting_list_in_order():
    need_postgres()
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=10)
    first = [
        services.booking_create(
            activity_id=activity.pk, name="甲", phone=f"1370000{i:04d}", seats=1
        )
        for i in range(10)
    ]
    waiting = [
        services.booking_create(
            activity_id=activity.pk, name="乙", phone=f"1360000{i:04d}", seats=1
        )
        for i in range(15)
    ]
    assert {b.status for b in waiting} == {Booking.Status.WAITLISTED}
    barrier = threading.Barrier(10)
    errors: list = []

    def cancel(b: Booking) -> None:
        try:
            barrier.wait()
            services.booking_cancel(code=b.code, phone=b.phone)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(b,)) for b in first]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()
    assert errors == []
    statuses = [Booking.objects.get(pk=b.pk).status for b in waiting]
    assert statuses == [Booking.Status.CONFIRMED] * 10 + [Booking.Status.WAITLISTED] * 5
    assert Activity.objects.get(pk=activity.pk).seats_taken == 10
