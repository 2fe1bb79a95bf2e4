"""Venues, teams and reservations for the tests, and the objects of the admin scope matrix."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from activities.venues import services
from activities.venues.models import Reservation, ReservationSeries, Team, Venue

_serial = itertools.count(1)
EVERY_DAY = [(weekday, time(8), time(22)) for weekday in range(7)]


def make_venue(hall, *, hours=EVERY_DAY, **fields) -> Venue:
    defaults = {
        "name": f"排练厅{next(_serial)}",
        "kind": Venue.Kind.REHEARSAL,
        "capacity": 30,
        "slot_minutes": 60,
    }
    defaults.update(fields)
    return services.venue_create(hall=hall, hours=hours, **defaults)


def make_team(hall, **fields) -> Team:
    defaults = {
        "name": f"花灯队{next(_serial)}",
        "leader_name": "李四",
        "leader_phone": "13900139000",
        "members": 12,
    }
    defaults.update(fields)
    return services.team_create(hall=hall, **defaults)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def reserve(venue, *, day=None, hour=10, hours=1, phone="13800138000", **fields) -> Reservation:
    day = day or in_days(2)
    data = {"name": "张三", "phone": phone, "purpose": "合唱排练", "party_size": 10}
    data.update(fields)
    return services.reservation_create(
        venue_id=venue.pk, start=local(day, hour), end=local(day, hour + hours), **data
    )


def _series(halls):
    venue = make_venue(halls.branch)
    first = in_days(1)
    return services.series_create(
        venue_id=venue.pk,
        weekday=first.weekday(),
        starts_at=time(19),
        ends_at=time(21),
        first_day=first,
        last_day=first + timedelta(weeks=2),
        name="李四",
        phone="13900139000",
        purpose="花灯排练",
        party_size=12,
    )


def admin_scope_object(model, halls):
    makers = {
        Venue: lambda: make_venue(halls.branch),
        Team: lambda: make_team(halls.point),
        Reservation: lambda: reserve(make_venue(halls.point)),
        ReservationSeries: lambda: _series(halls),
    }
    return makers[model]()
