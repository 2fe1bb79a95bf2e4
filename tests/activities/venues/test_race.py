"""No double booking, ever: residents reserve overlapping ranges of one venue in the same
second, each through its own PostgreSQL connection."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from activities.venues import services
from activities.venues.models import Reservation
from tests.conftest import build_cast, need_postgres

from .factories import in_days, local, make_venue

pytestmark = pytest.mark.django_db(transaction=True)


def _fire(venue_id: int, ranges) -> tuple[list, list]:
    results: list = [None] * len(ranges)
    errors: list = []
    barrier = threading.Barrier(len(ranges))

    def one(i: int, start, end) -> None:
        try:
            barrier.wait()
            results[i] = services.reservation_create(
                venue_id=venue_id, start=start, end=end, name=f"居民{i}",
                phone=f"138{i:08d}", purpose="排练", party_size=5,
            )  # fmt: skip
        except ValidationError as exc:
            results[i] = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, *r)) for i, r in enumerate(ranges)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()
    return results, errors


def test_of_twenty_overlapping_reservations_exactly_one_wins():
    need_postgres()
    cast = build_cast()
    venue = make_venue(cast.branch, slot_minutes=30)
    day = in_days(3)
    # Twenty ranges around 10:00–12:00, each overlapping every other.
    ranges = [
        (
            local(day, 10) + timedelta(minutes=30 * (i % 3)),
            local(day, 12) + timedelta(minutes=30 * (i % 2)),
        )
        for i in range(20)
    ]
    results, errors = _fire(venue.pk, ranges)

    assert errors == []
    won = [r for r in results if isinstance(r, Reservation)]
    lost = [r for r in results if not isinstance(r, Reservation)]
    assert len(won) == 1
    assert len(lost) == 19
    assert all(isinstance(r, services.RangeTaken) for r in lost), lost
    assert all("预约" in r.message_dict["start"][0] for r in lost)
    assert Reservation.objects.filter(venue=venue).count() == 1


def test_separate_slots_all_win_while_each_slot_goes_once():
    need_postgres()
    cast = build_cast()
    venue = make_venue(cast.branch, slot_minutes=60)
    day = in_days(3)
    ranges = [(local(day, 8 + i % 10), local(day, 9 + i % 10)) for i in range(30)]
    results, errors = _fire(venue.pk, ranges)

    assert errors == []
    assert sum(isinstance(r, Reservation) for r in results) == 10
    assert sum(isinstance(r, services.RangeTaken) for r in results) == 20
    starts = Reservation.objects.filter(venue=venue).values_list("start", flat=True)
    assert sorted(starts) == [local(day, 8 + i) for i in range(10)]
