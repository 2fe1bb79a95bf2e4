"""Reads of the site that span rooms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from activities.models import Activity, Booking
from activities.orders.models import Order
from activities.residents.models import Message, Resident
from activities.selectors import bookings_of_phone
from activities.venues.models import Reservation
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


def _plain(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def resident_data(phone: str) -> dict[str, list[dict]]:
    """Everything the portal keeps about ``phone`` (个人信息保护法: the resident's right to see it
    and take a copy): each room's rows in clear, field by field as stored. A fixed number of
    queries whatever their number."""

    def rows(qs, *fields: str) -> list[dict]:
        return [{k: _plain(v) for k, v in row.items()} for row in qs.values(*fields)]

    return {
        "verified_phone": rows(
            Resident.objects.filter(phone=phone),
            "phone",
            "verified_at",
            "created_at",
            "consent_version",
            "consented_at",
        ),
        "bookings": rows(
            Booking.objects.filter(phone=phone).order_by("-created_at"),
            "code",
            "activity__title",
            "activity__start",
            "name",
            "phone",
            "seats",
            "status",
            "created_at",
            "cancelled_at",
            "checked_in_at",
            "consent_version",
            "consented_at",
        ),
        "orders": rows(
            Order.objects.filter(phone=phone).order_by("-created_at"),
            "code",
            "point__name",
            "handler__name",
            "name",
            "phone",
            "description",
            "preferred_date",
            "status",
            "rating",
            "rating_comment",
            "created_at",
            "consent_version",
            "consented_at",
        ),
        "reservations": rows(
            Reservation.objects.filter(phone=phone).order_by("-start"),
            "code",
            "venue__name",
            "start",
            "end",
            "name",
            "phone",
            "purpose",
            "party_size",
            "status",
            "created_at",
            "consent_version",
            "consented_at",
        ),
        "survey_answers": rows(
            SatisfactionResponse.objects.filter(phone=phone).order_by("-created_at"),
            "hall__name",
            "quarter",
            "rating",
            "comment",
            "created_at",
            "consent_version",
            "consented_at",
        ),
        "messages": rows(
            Message.objects.filter(phone=phone).order_by("-created_at"),
            "created_at",
            "template",
            "text",
            "status",
            "sent_at",
        ),
    }
