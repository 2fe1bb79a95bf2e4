"""Residents' personal information across the rooms (个人信息保护法): the nightly anonymisation
of what ended ``RESIDENT_DATA_RETENTION_DAYS`` ago, and a resident's request to remove what is
kept about their phone.

Each room anonymises its own rows (``<entity>_anonymise_ended``, in its services); this module,
at the top, lists them once and runs them all. The rows stay, so every count, figure, score and
export gives the same numbers before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from celery import shared_task
from django.db import models, transaction
from django.utils import timezone

from activities.models import Booking
from activities.orders.models import Order
from activities.orders.services import order_anonymise_ended
from activities.residents.models import ErasureRequest, Message, PhoneCode, Resident
from activities.residents.services import message_anonymise_ended, resident_forget_stale
from activities.services import booking_anonymise_ended
from activities.venues.models import Reservation, ReservationSeries
from activities.venues.services import reservation_anonymise_ended
from common import privacy
from evaluation.scoring.models import SatisfactionResponse
from evaluation.scoring.services import satisfaction_anonymise_ended


@dataclass(frozen=True)
class PersonalData:
    """One room's rows about residents: its label, its anonymiser, and the models (with their
    phone field) where a phone still in clear means something is kept."""

    label: str
    anonymise: Callable[..., int]
    models: tuple[tuple[type[models.Model], str], ...]


REGISTRY: tuple[PersonalData, ...] = (
    PersonalData("bookings", booking_anonymise_ended, ((Booking, "phone"),)),
    PersonalData("orders", order_anonymise_ended, ((Order, "phone"),)),
    PersonalData(
        "reservations",
        reservation_anonymise_ended,
        ((Reservation, "phone"), (ReservationSeries, "phone")),
    ),
    PersonalData(
        "survey_answers", satisfaction_anonymise_ended, ((SatisfactionResponse, "phone"),)
    ),
    PersonalData("messages", message_anonymise_ended, ((Message, "phone"),)),
)


def residents_anonymise(
    *, older_than_days: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> dict[str, int]:
    """Anonymise every room's rows of what ended more than ``older_than_days`` (default
    ``RESIDENT_DATA_RETENTION_DAYS``) ago, then finish the removals residents asked for whose
    open records have ended since. How many rows each room changed (or would change)."""
    now = now or timezone.now()
    before = privacy.retention_cutoff(older_than_days=older_than_days, now=now)
    counts = {entry.label: entry.anonymise(before=before, dry_run=dry_run) for entry in REGISTRY}
    counts["verified_phones"] = resident_forget_stale(before=before, dry_run=dry_run)
    if not dry_run:
        counts["erasures_done"] = sum(
            erasure_continue(request=request, now=now)
            for request in ErasureRequest.objects.filter(done_at__isnull=True)
        )
    return counts


@shared_task(ignore_result=True)
def anonymize_residents() -> None:
    residents_anonymise()


def kept_about(phone: str) -> int:
    """How many rows still hold ``phone`` in clear, in every room."""
    return sum(
        model.objects.filter(**{field: phone}).count()
        for entry in REGISTRY
        for model, field in entry.models
    )


@transaction.atomic
def erasure_request(*, phone: str, now: datetime | None = None) -> ErasureRequest:
    """A verified resident asks to remove what is kept about ``phone``: everything that has
    ended is anonymised now; an open booking, order or reservation keeps the phone until it
    ends (nothing is cancelled), and the nightly run finishes the request then."""
    now = now or timezone.now()
    request = ErasureRequest.objects.filter(phone=phone, done_at__isnull=True).first()
    if request is None:
        request = ErasureRequest.objects.create(phone=phone, requested_at=now)
    erasure_continue(request=request, now=now)
    return request


@transaction.atomic
def erasure_continue(*, request: ErasureRequest, now: datetime | None = None) -> bool:
    """Anonymise what of the request's phone has ended by ``now``; once nothing holds the phone
    any more, drop the verified phone, its codes and tokens, and close the request (its phone
    then goes too). True when the request is done."""
    now = now or timezone.now()
    phone = request.phone
    for entry in REGISTRY:
        entry.anonymise(before=now, phone=phone)
    if kept_about(phone):
        return False
    Resident.objects.filter(phone=phone).delete()
    PhoneCode.objects.filter(phone=phone).delete()
    request.phone = privacy.phone_hash(phone)
    request.done_at = now
    request.save(update_fields=["phone", "done_at"])
    return True
