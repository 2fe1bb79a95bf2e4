"""Residents' personal information: anonymisation of what ended (command and beat), with every
figure unchanged, and a resident's removal request."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activities
from activities.models import Activity, Booking
from activities.orders import services as orders
from activities.orders.models import Order, OrderEvent
from activities.residents.models import ErasureRequest, Message, Resident
from activities.selectors import participants_total
from activities.venues.models import Reservation
from common import privacy
from evaluation import exports
from evaluation.returns import services as returns
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import portal_figures
from evaluation.scoring import services as scoring
from evaluation.scoring.models import SatisfactionResponse
from portal import privacy as portal_privacy
from tests.activities.factories import published_activity
from tests.activities.venues.factories import make_venue, reserve
from tests.conftest import verify_phone
from tests.evaluation.factories import YEAR, open_window

pytestmark = pytest.mark.django_db

PHONES = ["13800000011", "13800000012", "13800000013"]
IN_YEAR = datetime(YEAR, 5, 10, 10, 0, tzinfo=timezone.get_current_timezone())


def _to_the_past(activity: Activity, start: datetime) -> None:
    Activity.objects.filter(pk=activity.pk).update(start=start, end=start + timedelta(hours=2))


def ended_bookings(hall, phones, *, start=IN_YEAR, checked_in=1) -> Activity:
    """An activity held at ``start`` with one booking per phone; the first ``checked_in`` came."""
    activity = published_activity(hall)
    codes = [
        activities.booking_create(activity_id=activity.pk, name="张三", phone=p, seats=2).code
        for p in phones
    ]
    for code in codes[:checked_in]:
        activities.booking_check_in(code=code, now=activity.start)
    _to_the_past(activity, start)
    return activity


@pytest.fixture
def history(cast):
    """A year of a branch's residents: bookings (one checked in), a delivered and rated order,
    a venue reservation, survey answers and the messages they caused; the yearly return filed
    from the portal's own figures, an assessment scheme."""
    ended_bookings(cast.branch, PHONES)
    order = orders.order_create(
        point_id=cast.point.pk, name="李四", phone=PHONES[0], description="想看一场花灯戏"
    )
    orders.order_accept(order=order, by_user=cast.branch_staff)
    orders.order_complete(order=order, by_user=cast.branch_staff, note="已在村里演出")
    orders.order_rate(code=order.code, phone=PHONES[0], rating=5)
    Order.objects.filter(pk=order.pk).update(created_at=IN_YEAR, done_at=IN_YEAR)
    reservation = reserve(make_venue(cast.branch), phone=PHONES[1])
    Reservation.objects.filter(pk=reservation.pk).update(
        start=IN_YEAR, end=IN_YEAR + timedelta(hours=1)
    )
    for phone, rating in zip(PHONES, (5, 4, 3), strict=True):
        scoring.satisfaction_submit(hall_id=cast.branch.pk, phone=phone, rating=rating, now=IN_YEAR)
    SatisfactionResponse.objects.update(created_at=IN_YEAR)
    # Delivered (a test's transaction never commits, so their tasks never ran).
    Message.objects.update(status=Message.Status.SENT, created_at=IN_YEAR)
    scheme = scoring.scheme_create(year=YEAR)
    open_window(ReturnKind.SERVICE)
    report = returns.return_get_or_create(kind=ReturnKind.SERVICE, hall=cast.branch, year=YEAR)
    returns.return_submit(kind=ReturnKind.SERVICE, annual_return=report, by=cast.branch_staff)
    return scheme


def _cells(write, *args) -> list:
    buffer = io.BytesIO()
    write(*args, buffer)
    buffer.seek(0)
    workbook = load_workbook(buffer)
    return [
        (ws.title, list(row))
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
    ]


def _figures(cast, scheme) -> dict:
    return {
        "statistics": _cells(exports.write_statistics, YEAR),
        "assessment": _cells(exports.write_assessment, scheme),
        "portal": portal_figures(hall_id=cast.branch.pk, year=YEAR),
        "participants": participants_total(Activity.objects.all()),
        "rows": [
            m.objects.count() for m in (Booking, Order, Reservation, SatisfactionResponse, Message)
        ],
    }


def _clear_phones() -> int:
    return sum(
        m.objects.filter(phone__in=PHONES).count()
        for m in (Booking, Order, Reservation, SatisfactionResponse, Message)
    )


def test_the_command_anonymises_what_ended_and_every_figure_stays(cast, history):
    before = _figures(cast, history)
    assert before["participants"] == 2
    assert _clear_phones() > 0
    out = io.StringIO()
    call_command("anonymize_residents", "--older-than-days", "0", stdout=out)
    assert "活动预约:已匿名化 3 条" in out.getvalue()
    assert _clear_phones() == 0
    assert not Booking.objects.exclude(name=privacy.ANONYMOUS_NAME).exists()
    assert not Order.objects.exclude(name=privacy.ANONYMOUS_NAME).exists()
    assert not Message.objects.exclude(text="").filter(status=Message.Status.SENT).exists()
    assert not OrderEvent.objects.filter(by_phone__in=PHONES).exists()
    assert _figures(cast, history) == before


def test_a_second_run_changes_nothing(cast, history):
    assert sum(portal_privacy.residents_anonymise(older_than_days=0).values()) > 0
    assert portal_privacy.residents_anonymise(older_than_days=0) == {
        "bookings": 0,
        "orders": 0,
        "reservations": 0,
        "survey_answers": 0,
        "messages": 0,
        "verified_phones": 0,
        "erasures_done": 0,
    }


def test_a_dry_run_counts_and_changes_nothing(cast, history):
    out = io.StringIO()
    call_command("anonymize_residents", "--older-than-days", "0", "--dry-run", stdout=out)
    assert "活动预约:将匿名化 3 条" in out.getvalue()
    assert "满意度评价:将匿名化 3 条" in out.getvalue()
    assert Booking.objects.filter(phone__in=PHONES).count() == 3


def test_the_retention_period_keeps_what_ended_recently(cast, settings):
    settings.RESIDENT_DATA_RETENTION_DAYS = 365
    old = ended_bookings(cast.branch, PHONES[:1], start=timezone.now() - timedelta(days=400))
    recent = ended_bookings(cast.branch, PHONES[1:2], start=timezone.now() - timedelta(days=30))
    portal_privacy.residents_anonymise()
    assert privacy.is_anonymised(old.bookings.get().phone)
    assert recent.bookings.get().phone == PHONES[1]


def test_a_phone_not_verified_again_within_the_period_is_forgotten(cast, settings):
    settings.RESIDENT_DATA_RETENTION_DAYS = 365
    verify_phone(PHONES[0])
    verify_phone(PHONES[1])
    Resident.objects.filter(phone=PHONES[0]).update(
        verified_at=timezone.now() - timedelta(days=400)
    )
    assert portal_privacy.residents_anonymise(dry_run=True)["verified_phones"] == 1
    assert Resident.objects.count() == 2
    assert portal_privacy.residents_anonymise()["verified_phones"] >= 1
    assert list(Resident.objects.values_list("phone", flat=True)) == [PHONES[1]]


def test_the_beat_task_runs_it(cast, history, eager_tasks, settings):
    settings.RESIDENT_DATA_RETENTION_DAYS = 1
    before = _figures(cast, history)
    portal_privacy.anonymize_residents.delay()
    assert _clear_phones() == 0
    assert _figures(cast, history) == before
    assert "anonymize-residents" in settings.CELERY_BEAT_SCHEDULE


def test_an_open_booking_keeps_its_phone(cast, history):
    upcoming = published_activity(cast.branch)
    activities.booking_create(activity_id=upcoming.pk, name="张三", phone=PHONES[0], seats=1)
    portal_privacy.residents_anonymise(older_than_days=0)
    assert upcoming.bookings.get().phone == PHONES[0]


def test_the_no_show_rule_holds_on_anonymised_bookings(cast, settings):
    settings.NO_SHOW_LIMIT = 2
    phone = PHONES[2]
    verify_phone(phone)
    for days in (20, 10):
        ended_bookings(
            cast.branch, [phone], start=timezone.now() - timedelta(days=days), checked_in=0
        )
    assert activities.no_show_ban(phone) is not None
    portal_privacy.residents_anonymise(older_than_days=5)  # both ended, the phone still verified
    assert not Booking.objects.filter(phone=phone).exists()
    assert activities.no_show_ban(phone) is not None
    upcoming = published_activity(cast.branch)
    with pytest.raises(Exception, match="未到场"):
        activities.booking_create(activity_id=upcoming.pk, name="张三", phone=phone, seats=1)


def test_the_same_phone_gives_the_same_hash_and_never_a_number():
    assert privacy.phone_hash(PHONES[0]) == privacy.phone_hash(PHONES[0])
    assert privacy.phone_hash(PHONES[0]) != privacy.phone_hash(PHONES[1])
    assert len(privacy.phone_hash(PHONES[0])) == 11
    assert not privacy.phone_hash(PHONES[0]).isdigit()
    assert privacy.phone_hash(privacy.phone_hash(PHONES[0])) == privacy.phone_hash(PHONES[0])
    assert privacy.mask_phone("13812341234") == "138****1234"


# --- A resident's removal request ---------------------------------------------------------------


def test_removal_anonymises_what_ended_and_keeps_an_open_booking_until_it_ends(cast, history):
    phone = PHONES[0]
    verify_phone(phone)
    upcoming = published_activity(cast.branch)
    open_booking = activities.booking_create(
        activity_id=upcoming.pk, name="张三", phone=phone, seats=1
    )
    before = _figures(cast, history)
    request = portal_privacy.erasure_request(phone=phone)
    assert request.done_at is None
    assert Booking.objects.filter(phone=phone).get() == open_booking
    assert not Order.objects.filter(phone=phone).exists()
    assert not SatisfactionResponse.objects.filter(phone=phone).exists()
    assert Resident.objects.filter(phone=phone).exists()  # the open booking may be cancelled
    assert Booking.objects.filter(phone=PHONES[1]).exists()  # another phone's stay
    _to_the_past(upcoming, timezone.now() - timedelta(days=1))
    portal_privacy.residents_anonymise()
    assert ErasureRequest.objects.get().done_at is None  # its confirmation is still queued
    Message.objects.update(status=Message.Status.SENT)
    portal_privacy.residents_anonymise()
    request.refresh_from_db()
    assert request.done_at is not None
    assert privacy.is_anonymised(request.phone)
    assert not Booking.objects.filter(phone=phone).exists()
    assert not Resident.objects.filter(phone=phone).exists()
    assert ErasureRequest.objects.filter(phone=phone).count() == 0
    after = _figures(cast, history)
    assert after["statistics"] == before["statistics"]
    assert after["assessment"] == before["assessment"]
