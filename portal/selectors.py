"""Reads of the site that span rooms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from activities.models import Activity, Booking
from activities.orders.models import Order
from activities.selectors import bookings_of_phone
from evaluation.scoring.models import SatisfactionResponse


@dataclass
class ResidentOverview:
    """我的: everything one verified phone has done, grouped as the page shows it."""

    phone: str
    upcoming: list[Booking] = field(default_factory=list)
    waitlisted: list[Booking] = field(default_factory=list)
    past: list[Booking] = field(default_factory=list)
    cancelled: list[Booking] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    answers: list[SatisfactionResponse] = field(default_factory=list)

    @property
    def bookings(self) -> list[Booking]:
        return [*self.upcoming, *self.waitlisted, *self.past, *self.cancelled]


def resident_overview(phone: str, *, now: datetime | None = None) -> ResidentOverview:
    """Bookings (each with ``position`` when waiting and ``cancellable``), orders and survey
    answers of ``phone``: three queries whatever their number."""
    now = now or timezone.now()
    overview = ResidentOverview(phone=phone)
    for booking in bookings_of_phone(phone):
        activity = booking.activity
        booking.position = (
            booking.ahead + 1 if booking.status == Booking.Status.WAITLISTED else None
        )
        booking.cancellable = (
            booking.status != Booking.Status.CANCELLED
            and activity.status != Activity.Status.CANCELLED
            and now < activity.cancellable_until
        )
        if booking.status == Booking.Status.CANCELLED:
            overview.cancelled.append(booking)
        elif booking.status == Booking.Status.WAITLISTED:
            overview.waitlisted.append(booking)
        elif activity.end < now:
            overview.past.append(booking)
        else:
            overview.upcoming.append(booking)
    overview.upcoming.reverse()  # the soonest first
    overview.orders = list(
        Order.objects.filter(phone=phone).select_related("point", "handler").order_by("-created_at")
    )
    overview.answers = list(
        SatisfactionResponse.objects.filter(phone=phone)
        .select_related("hall")
        .order_by("-created_at")
    )
    return overview
