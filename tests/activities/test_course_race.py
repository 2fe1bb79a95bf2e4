"""Groups and residents racing for a course's last seats: still no overbooking, and a group gets
all its seats or waits whole (PostgreSQL, separate connections)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from activities import services
from activities.models import Activity, Booking, GroupKind
from tests.conftest import build_cast, need_postgres

from .test_courses import course

pytestmark = pytest.mark.django_db(transaction=True)


def test_groups_and_residents_racing_never_pass_capacity():
    need_postgres()
    cast = build_cast()
    activity = course(cast.branch, sessions=4, capacity=30, group_limit=12)
    requests = [(f"138{i:08d}", 12, GroupKind.SCHOOL_CLASS, f"班级{i}") for i in range(4)]
    requests += [(f"139{i:08d}", 1 + i % 2, "", "") for i in range(16)]
    results: list = [None] * len(requests)
    errors: list = []
    barrier = threading.Barrier(len(requests))

    def one(i: int, phone: str, seats: int, kind: str, name: str) -> None:
        try:
            barrier.wait()
            results[i] = services.booking_create(
                activity_id=activity.pk,
                name=f"联系人{i}",
                phone=phone,
                seats=seats,
                group_kind=kind,
                group_name=name,
            )
        except ValidationError as exc:
            results[i] = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()

    assert errors == []
    assert all(isinstance(r, Booking) for r in results), results
    activity = Activity.objects.get(pk=activity.pk)
    confirmed = Booking.objects.filter(activity=activity, status=Booking.Status.CONFIRMED)
    assert sum(b.seats for b in confirmed) == activity.seats_taken <= activity.capacity
    groups = Booking.objects.filter(activity=activity).exclude(group_kind="")
    assert sorted(b.seats for b in groups) == [12] * 4  # whole, confirmed or waiting
