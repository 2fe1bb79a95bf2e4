from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from activities import booking_sql, services
from activities.models import Activity, Booking, Category
from tests.conftest import verify_phone

from .factories import published_activity

pytestmark = pytest.mark.django_db


def book(activity, phone, seats=1, name="李四", **kw):
    return services.booking_create(
        activity_id=activity.pk, name=name, phone=phone, seats=seats, **kw
    )


def test_it_confirms_a_party_that_fits_and_counts_its_seats(cast):
    activity = published_activity(cast.branch, capacity=5)
    booking = book(activity, "13800000001", seats=3)
    assert booking.status == Booking.Status.CONFIRMED
    assert len(booking.code) == 8
    activity.refresh_from_db()
    assert (activity.seats_taken, activity.seats_left) == (3, 2)


def test_it_waitlists_a_party_that_does_not_fit_whole(cast):
    activity = published_activity(cast.branch, capacity=5)
    book(activity, "13800000001", seats=4)
    waiting = book(activity, "13800000002", seats=2)
    assert waiting.status == Booking.Status.WAITLISTED
    activity.refresh_from_db()
    assert activity.seats_taken == 4


def test_it_rejects_a_second_booking_from_the_same_phone(cast):
    activity = published_activity(cast.branch)
    book(activity, "13800000001")
    with pytest.raises(ValidationError) as exc:
        book(activity, "13800000001")
    assert "phone" in exc.value.message_dict
    assert activity.bookings.count() == 1


def test_a_cancelled_booking_frees_the_phone_to_book_again(cast):
    activity = published_activity(cast.branch)
    first = book(activity, "13800000001")
    services.booking_cancel(code=first.code, phone="13800000001")
    again = book(activity, "13800000001")
    assert again.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    ("name", "phone", "seats", "field"),
    [
        ("", "13800000001", 1, "name"),
        ("名" * 41, "13800000001", 1, "name"),
        ("王五", "12345", 1, "phone"),
        ("王五", "23800000001", 1, "phone"),
        ("王五", "13800000001", 0, "seats"),
        ("王五", "13800000001", "两", "seats"),
        ("王五", "13800000001", 5, "seats"),  # more than max_seats_per_booking (4)
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(cast, name, phone, seats, field):
    activity = published_activity(cast.branch, capacity=10)
    with pytest.raises(ValidationError) as exc:
        services.booking_create(activity_id=activity.pk, name=name, phone=phone, seats=seats)
    assert field in exc.value.message_dict
    activity.refresh_from_db()
    assert activity.seats_taken == 0
    assert not Booking.objects.exists()


def test_a_draft_cancelled_or_closed_activity_takes_no_booking(cast):
    draft = services.activity_create(
        hall=cast.branch,
        category=Category.LECTURE,
        title="讲座",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=1),
        capacity=10,
    )
    cancelled = published_activity(cast.branch)
    services.activity_cancel(activity=cancelled)
    closed = published_activity(cast.branch, booking_closes=timezone.now() - timedelta(minutes=1))
    for activity in (draft, cancelled, closed):
        with pytest.raises(ValidationError) as exc:
            book(activity, "13800000001")
        assert "activity" in exc.value.message_dict
    assert not Booking.objects.exists()


def test_booking_closes_when_the_activity_starts(cast):
    activity = published_activity(cast.branch)
    with pytest.raises(ValidationError):
        book(activity, "13800000001", now=activity.start)


def test_cancelling_a_confirmed_booking_confirms_the_first_waiting_party_that_fits(cast):
    activity = published_activity(cast.branch, capacity=4)
    big = book(activity, "13800000001", seats=4)
    three = book(activity, "13800000002", seats=3)
    four = book(activity, "13800000003", seats=4)
    assert three.status == four.status == Booking.Status.WAITLISTED
    services.booking_cancel(code=big.code, phone="13800000001")
    three.refresh_from_db()
    four.refresh_from_db()
    assert three.status == Booking.Status.CONFIRMED
    assert three.confirmed_at is not None
    assert four.status == Booking.Status.WAITLISTED  # does not fit in the one seat left
    activity.refresh_from_db()
    assert activity.seats_taken == 3


def test_cancel_needs_the_matching_phone_and_stops_at_the_deadline(cast):
    activity = published_activity(cast.branch, cancel_deadline=timezone.now() + timedelta(days=1))
    booking = book(activity, "13800000001")
    with pytest.raises(ValidationError):
        services.booking_cancel(code=booking.code, phone="13900000000")
    with pytest.raises(ValidationError):
        services.booking_cancel(
            code=booking.code, phone="13800000001", now=timezone.now() + timedelta(days=2)
        )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancelling_an_activity_cancels_its_bookings_and_keeps_them(cast):
    activity = published_activity(cast.branch, capacity=1)
    confirmed = book(activity, "13800000001")
    waiting = book(activity, "13800000002")
    services.activity_cancel(activity=activity, reason="暴雨")
    assert set(
        Booking.objects.filter(pk__in=[confirmed.pk, waiting.pk]).values_list("status", flat=True)
    ) == {Booking.Status.CANCELLED}
    assert Booking.objects.get(pk=confirmed.pk).cancel_reason == "暴雨"
    activity.refresh_from_db()
    assert activity.status == Activity.Status.CANCELLED


def three_no_shows(cast, phone):
    """Three activities ``phone`` booked; the end of the latest (no-shows from then on)."""
    ends = []
    for i in range(3):
        activity = published_activity(cast.branch, title=f"过去的活动{i}")
        book(activity, phone)
        ends.append(activity.end)
    return max(ends)


@override_settings(NO_SHOW_LIMIT=3, NO_SHOW_WINDOW_DAYS=365, NO_SHOW_BAN_DAYS=30)
def test_three_no_shows_in_a_year_block_a_phone_for_thirty_days(cast):
    phone = "13800000009"
    verify_phone(phone)  # a ban falls only on a verified phone
    latest = three_no_shows(cast, phone)
    now = latest + timedelta(days=1)
    upcoming = published_activity(cast.branch, start_in=timedelta(days=60), title="新活动")
    with pytest.raises(ValidationError) as exc:
        book(upcoming, phone, now=now)
    assert "phone" in exc.value.message_dict
    assert "3" in exc.value.message_dict["phone"][0]
    # Thirty days after the latest no-show the phone may book again.
    later = latest + timedelta(days=31)
    assert book(upcoming, phone, now=later).status == Booking.Status.CONFIRMED


@override_settings(NO_SHOW_LIMIT=3, NO_SHOW_WINDOW_DAYS=365, NO_SHOW_BAN_DAYS=30)
def test_no_shows_enough_for_a_ban_stop_only_a_verified_phone_from_booking(cast):
    # On PostgreSQL the booking's statement stops at the phone's record; the service then finds
    # that an unverified phone is not banned and books it after all.
    phone = "13800000009"
    now = three_no_shows(cast, phone) + timedelta(days=1)
    first = published_activity(cast.branch, start_in=timedelta(days=60), title="新活动一")
    second = published_activity(cast.branch, start_in=timedelta(days=60), title="新活动二")
    booking = book(first, phone, now=now)
    assert booking.status == Booking.Status.CONFIRMED
    assert Booking.objects.get(pk=booking.pk).code == booking.code
    verify_phone(phone)
    with pytest.raises(ValidationError) as exc:
        book(second, phone, now=now)
    assert "3" in exc.value.message_dict["phone"][0]
    assert not second.bookings.exists()
    # Booking the activity it holds a place in again is refused as well; the ban is checked
    # first, so the ban is what it is told.
    with pytest.raises(ValidationError) as exc:
        book(first, phone, now=now)
    assert "3" in exc.value.message_dict["phone"][0]
    assert first.bookings.count() == 1


@override_settings(NO_SHOW_LIMIT=3)
def test_checked_in_parties_are_not_no_shows(cast):
    phone = "13800000009"
    ends = []
    for i in range(3):
        activity = published_activity(cast.branch, title=f"活动{i}")
        booking = book(activity, phone)
        services.booking_check_in(code=booking.code, by_user=cast.branch_staff)
        ends.append(activity.end)
    upcoming = published_activity(cast.branch, start_in=timedelta(days=20))
    assert book(upcoming, phone, now=max(ends) + timedelta(days=1)).status == "confirmed"


@override_settings(NO_SHOW_WINDOW_DAYS=365)
def test_the_quick_no_show_count_agrees_with_the_rule(cast):
    # A booking counts its phone's no-shows in plain SQL; it must count what _no_shows says.
    phone = "13800000009"
    now = timezone.now() + timedelta(days=10)
    kinds = {
        "no_show": {},
        "checked_in": {},
        "waiting": {},
        "cancelled_booking": {},
        "not_ended": {"start_in": timedelta(days=20)},
        "long_ago": {},
    }
    for title, fields in kinds.items():
        activity = published_activity(cast.branch, capacity=1, title=title, **fields)
        if title == "waiting":
            book(activity, "13900000000")
        booking = book(activity, phone)
        if title == "checked_in":
            services.booking_check_in(code=booking.code, by_user=cast.branch_staff)
        if title == "cancelled_booking":
            services.booking_cancel(code=booking.code, phone=phone)
    Activity.objects.filter(title="long_ago").update(
        start=now - timedelta(days=400), end=now - timedelta(days=399)
    )
    cancelled = published_activity(cast.branch, title="cancelled_activity")
    book(cancelled, phone)
    Activity.objects.filter(pk=cancelled.pk).update(status=Activity.Status.CANCELLED)
    other = published_activity(cast.branch, start_in=timedelta(days=30))
    expected = Booking.objects.filter(services._no_shows(now), phone=phone).count()
    assert expected == 1
    assert booking_sql.phone_record(phone, other.pk, now) == (0, expected)
    assert booking_sql.phone_record(phone, cancelled.pk, now) == (1, expected)


def test_a_code_drawn_twice_is_drawn_again_and_the_seats_are_taken_once(cast, monkeypatch):
    activity = published_activity(cast.branch, capacity=5)
    first = book(activity, "13800000001")
    codes = iter([first.code, "NEWCODE2"])
    monkeypatch.setattr(services, "new_code", lambda: next(codes))
    second = book(activity, "13800000002", seats=2)
    assert (second.code, second.status) == ("NEWCODE2", Booking.Status.CONFIRMED)
    assert Booking.objects.get(code="NEWCODE2").seats == 2
    activity.refresh_from_db()
    assert activity.seats_taken == 3


def test_check_in_marks_a_confirmed_booking_once(cast):
    activity = published_activity(cast.branch)
    booking = book(activity, "13800000001")
    done = services.booking_check_in(code=booking.code.lower(), by_user=cast.branch_staff)
    assert done.checked_in_at is not None and done.checked_in_by == cast.branch_staff
    with pytest.raises(ValidationError):
        services.booking_check_in(code=booking.code, by_user=cast.branch_staff)
    with pytest.raises(ValidationError):
        services.booking_check_in(code="NOSUCH00", by_user=cast.branch_staff)


def test_an_activity_may_be_held_below_its_organiser_but_nowhere_else(cast):
    activity = published_activity(
        cast.county, category=Category.MOBILE, venue_hall=cast.point, title="流动舞台车进社区"
    )
    assert activity.venue_hall == cast.point
    with pytest.raises(ValidationError) as exc:
        published_activity(
            cast.county, category=Category.MOBILE, venue_hall=cast.other_county_point
        )
    assert "venue_hall" in exc.value.message_dict
    with pytest.raises(ValidationError):
        published_activity(cast.branch, category=Category.LECTURE, venue_hall=cast.county)


def test_an_activity_must_end_after_it_starts(cast):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.activity_create(
            hall=cast.branch, category=Category.LECTURE, title="x", start=start, end=start
        )
    assert "end" in exc.value.message_dict
