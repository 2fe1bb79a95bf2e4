"""The rules of venue booking, one test each."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from activities.venues import selectors, services
from activities.venues.models import Reservation, ReservationSeries, Venue

from .factories import in_days, local, make_team, make_venue, reserve

pytestmark = pytest.mark.django_db


def _errors(exc_info) -> dict:
    return exc_info.value.message_dict


def test_a_free_range_is_confirmed_with_a_code(cast):
    venue = make_venue(cast.branch)
    r = reserve(venue)
    assert r.status == Reservation.Status.CONFIRMED
    assert len(r.code) == 8
    assert Reservation.objects.get(code=r.code).venue == venue


def test_a_venue_that_needs_approval_makes_it_pending(cast):
    venue = make_venue(cast.branch, needs_approval=True)
    assert reserve(venue).status == Reservation.Status.PENDING


def test_an_overlapping_range_is_taken_and_nothing_is_written(cast):
    venue = make_venue(cast.branch, slot_minutes=30)
    reserve(venue, hour=10, hours=2)
    with pytest.raises(services.RangeTaken) as exc:
        reserve(venue, hour=11, hours=2, phone="13900000001")
    assert "已被预约" in _errors(exc)["start"][0]
    assert Reservation.objects.count() == 1
    # Touching ranges do not overlap; a pending one holds the venue as well.
    assert reserve(venue, hour=12, hours=1, phone="13900000002").status == "confirmed"


def test_a_cancelled_reservation_frees_its_range(cast):
    venue = make_venue(cast.branch)
    r = reserve(venue)
    services.reservation_cancel(code=r.code.lower(), phone=r.phone)
    assert reserve(venue, phone="13900000001").status == Reservation.Status.CONFIRMED


@pytest.mark.parametrize(
    ("hour", "hours", "why"),
    [(7, 2, "开放时间"), (21, 2, "开放时间")],
)
def test_outside_the_opening_hours_is_refused(cast, hour, hours, why):
    venue = make_venue(cast.branch)
    with pytest.raises(ValidationError) as exc:
        reserve(venue, hour=hour, hours=hours)
    assert why in _errors(exc)["start"][0]


def test_a_day_with_several_ranges_takes_a_range_inside_one_of_them(cast):
    hours = [(in_days(2).weekday(), time(9), time(12)), (in_days(2).weekday(), time(14), time(18))]
    venue = make_venue(cast.branch, hours=hours)
    assert reserve(venue, hour=14, hours=2).status == "confirmed"
    with pytest.raises(ValidationError) as exc:
        reserve(venue, hour=11, hours=2, phone="13900000001")  # across the lunch break
    assert "09:00–12:00、14:00–18:00" in _errors(exc)["start"][0]


def test_ranges_keep_to_the_slot_grid(cast):
    venue = make_venue(cast.branch, slot_minutes=90)  # 08:00, 09:30, 11:00 …
    day = in_days(2)
    with pytest.raises(ValidationError) as exc:
        services.reservation_create(
            venue_id=venue.pk, start=local(day, 9), end=local(day, 10, 30), name="张三",
            phone="13800138000", purpose="排练", party_size=5,
        )  # fmt: skip
    assert "90 分钟" in _errors(exc)["start"][0]
    r = services.reservation_create(
        venue_id=venue.pk, start=local(day, 9, 30), end=local(day, 12, 30), name="张三",
        phone="13800138000", purpose="排练", party_size=5,
    )  # fmt: skip
    assert r.status == "confirmed"


def test_a_closure_closes_the_venue(cast):
    venue = make_venue(cast.branch)
    services.venue_closure_add(
        venue=venue, first_day=in_days(1), last_day=in_days(3), reason="地板维修"
    )
    with pytest.raises(ValidationError) as exc:
        reserve(venue)
    assert _errors(exc)["start"] == ["闭馆:地板维修"]


def test_a_public_holiday_closes_the_venue(cast, tmp_path):
    calendar = tmp_path / "holidays.csv"
    calendar.write_text(f"date,kind,name\n{in_days(2).isoformat()},off,测试节\n")
    venue = make_venue(cast.branch)
    with override_settings(HOLIDAY_CALENDAR=calendar):
        with pytest.raises(ValidationError) as exc:
            reserve(venue)
        assert _errors(exc)["start"] == ["法定节假日闭馆"]
        day = selectors.venue_days(venue, in_days(2), 1)[0]
        assert day.closed_reason == "法定节假日闭馆"
        assert {s.state for s in day.slots} == {"closed"}


def test_party_size_start_and_horizon_are_checked_naming_the_field(cast):
    venue = make_venue(cast.branch, capacity=8)
    with pytest.raises(ValidationError) as exc:
        reserve(venue, party_size=9)
    assert _errors(exc) == {"party_size": ["该场馆最多容纳 8 人。"]}
    with pytest.raises(ValidationError) as exc:
        reserve(venue, day=in_days(-1), party_size=5)
    assert "已经过去" in _errors(exc)["start"][0]
    with override_settings(VENUE_BOOKING_WEEKS_AHEAD=2):
        with pytest.raises(ValidationError) as exc:
            reserve(venue, day=in_days(20), party_size=5)
        assert _errors(exc)["start"] == ["最多只能预约 2 周以内的时段。"]
    with pytest.raises(ValidationError) as exc:
        reserve(venue, name=" ", phone="123", purpose="", party_size=0)
    assert set(_errors(exc)) == {"name", "phone", "purpose", "party_size"}
    assert not Reservation.objects.exists()


def test_a_teams_only_venue_needs_a_team(cast):
    venue = make_venue(cast.branch, access=Venue.Access.TEAMS)
    with pytest.raises(ValidationError) as exc:
        reserve(venue)
    assert "team" in _errors(exc)
    team = make_team(cast.branch)
    assert reserve(venue, team=team).team == team


def test_a_closed_venue_takes_nothing(cast):
    venue = make_venue(cast.branch, status=Venue.Status.CLOSED)
    with pytest.raises(ValidationError) as exc:
        reserve(venue)
    assert _errors(exc)["start"] == ["该场馆暂停预约。"]


def test_staff_approve_reject_cancel_and_check_in(cast):
    venue = make_venue(cast.branch, needs_approval=True)
    first = reserve(venue, hour=9)
    second = reserve(venue, hour=11, phone="13900000001")
    services.reservation_approve(reservation=first, by=cast.branch_staff)
    with pytest.raises(ValidationError) as exc:
        services.reservation_reject(reservation=second, by=cast.branch_staff, reason=" ")
    assert "reason" in _errors(exc)
    services.reservation_reject(reservation=second, by=cast.branch_staff, reason="当天有演出。")
    second.refresh_from_db()
    assert (second.status, second.decision_note) == ("rejected", "当天有演出。")
    # The SMS says the reason once, with one full stop (the template's), not "演出。。".
    from activities.residents.models import Message

    told = Message.objects.filter(phone="13900000001", template="reservation_rejected").get()
    assert told.text.endswith("未获批准:当天有演出。") and "。。" not in told.text
    with pytest.raises(ValidationError):
        services.reservation_approve(reservation=second, by=cast.branch_staff)

    with pytest.raises(ValidationError, match="才能签到"):
        services.reservation_check_in(reservation=first, by=cast.branch_staff)
    services.reservation_check_in(
        reservation=first, by=cast.branch_staff, now=first.start + timedelta(minutes=5)
    )
    first.refresh_from_db()
    assert first.status == "checked_in" and first.checked_in_by == cast.branch_staff
    with pytest.raises(ValidationError):
        services.reservation_cancel_by_staff(reservation=first, by=cast.branch_staff, reason="x")

    third = reserve(venue, hour=15, phone="13900000002")
    services.reservation_cancel_by_staff(
        reservation=third, by=cast.branch_staff, reason="场馆临时维修"
    )
    third.refresh_from_db()
    assert (third.status, third.cancelled_by, third.cancel_reason) == (
        "cancelled",
        cast.branch_staff,
        "场馆临时维修",
    )


def test_the_resident_cancels_with_code_and_phone_until_the_start(cast):
    venue = make_venue(cast.branch)
    r = reserve(venue)
    with pytest.raises(ValidationError) as exc:
        services.reservation_cancel(code=r.code, phone="13900000000")
    assert "不匹配" in _errors(exc)["code"][0]
    with pytest.raises(ValidationError) as exc:
        services.reservation_cancel(code=r.code, phone=r.phone, now=r.start)
    assert "已经开始" in _errors(exc)["code"][0]
    services.reservation_cancel(code=r.code, phone=r.phone)
    with pytest.raises(ValidationError, match="已经取消过"):
        services.reservation_cancel(code=r.code, phone=r.phone)
    assert Reservation.objects.get(pk=r.pk).cancel_reason == "本人取消"


def test_no_shows_are_marked_and_ban_the_phone(cast, settings):
    settings.NO_SHOW_LIMIT = 2
    venue = make_venue(cast.branch)
    made = [reserve(venue, day=in_days(1 + i)) for i in range(3)]
    later = made[-1].end + timedelta(hours=1)
    assert services.reservations_mark_no_shows(now=later) == 3
    assert set(Reservation.objects.values_list("status", flat=True)) == {"no_show"}
    with pytest.raises(ValidationError) as exc:
        services.reservation_create(
            venue_id=venue.pk, start=later + timedelta(days=1), end=later + timedelta(days=1, hours=1),
            name="张三", phone="13800138000", purpose="排练", party_size=5, now=later,
        )  # fmt: skip
    assert "未到场" in _errors(exc)["phone"][0]
    assert services.no_show_ban("13900000009", now=later) is None


def test_a_series_is_saved_whole_as_one_series(cast):
    venue = make_venue(cast.branch, slot_minutes=None)
    team = make_team(cast.branch)
    first = in_days(1)
    series = services.series_create(
        venue_id=venue.pk, weekday=first.weekday(), starts_at=time(19), ends_at=time(21),
        first_day=first, last_day=first + timedelta(weeks=3), team=team,
        name="李四", phone="13900139000", purpose="花灯排练", party_size=12,
    )  # fmt: skip
    rows = list(series.reservations.order_by("start"))
    assert [timezone.localtime(r.start).date() for r in rows] == [
        first + timedelta(weeks=i) for i in range(4)
    ]
    assert {r.status for r in rows} == {"confirmed"}
    assert len({r.code for r in rows}) == 4


def test_a_series_that_collides_anywhere_saves_nothing_and_lists_the_dates(cast):
    venue = make_venue(cast.branch)
    first = in_days(1)
    reserve(venue, day=first + timedelta(weeks=1), hour=20)
    services.venue_closure_add(
        venue=venue,
        first_day=first + timedelta(weeks=2),
        last_day=first + timedelta(weeks=2),
        reason="设备检修",
    )
    with pytest.raises(ValidationError) as exc:
        services.series_create(
            venue_id=venue.pk, weekday=first.weekday(), starts_at=time(19), ends_at=time(21),
            first_day=first, last_day=first + timedelta(weeks=3),
            name="李四", phone="13900139000", purpose="花灯排练", party_size=12,
        )  # fmt: skip
    lines = _errors(exc)["dates"]
    assert lines[0].startswith("以下 2 个日期无法预约")
    week1, week2 = first + timedelta(weeks=1), first + timedelta(weeks=2)
    assert lines[1].startswith(week1.isoformat()) and lines[1].endswith("已被预约")
    assert lines[2].startswith(week2.isoformat()) and lines[2].endswith("闭馆:设备检修")
    assert not ReservationSeries.objects.exists()
    assert Reservation.objects.count() == 1


def test_a_series_that_collides_only_with_reservations_is_taken(cast):
    venue = make_venue(cast.branch)
    first = in_days(1)
    reserve(venue, day=first, hour=19)
    with pytest.raises(services.RangeTaken):
        services.series_create(
            venue_id=venue.pk, weekday=first.weekday(), starts_at=time(19), ends_at=time(21),
            first_day=first, last_day=first + timedelta(weeks=1),
            name="李四", phone="13900139000", purpose="排练", party_size=12,
        )  # fmt: skip


def test_the_grid_shows_free_taken_and_closed_slots_in_fixed_queries(
    cast, django_assert_num_queries
):
    venue = make_venue(cast.branch)
    reserve(venue, day=in_days(1), hour=10, hours=2)
    public = selectors.venue_public(venue.pk)
    with django_assert_num_queries(1):
        week = selectors.venue_days(public, in_days(0), 7)
    assert len(week) == 7 and all(len(d.slots) == 14 for d in week)
    tomorrow = {timezone.localtime(s.start).hour: s.state for s in week[1].slots}
    assert tomorrow[9] == "free" and tomorrow[10] == tomorrow[11] == "taken"
    assert tomorrow[12] == "free"


def test_the_database_refuses_overlapping_live_reservations(cast):
    """The exclusion constraint itself, past every service check."""
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints are PostgreSQL's; SQLite relies on the venue lock")
    venue = make_venue(cast.branch)
    r = reserve(venue)
    copy = {
        "venue": venue, "start": r.start + timedelta(minutes=30), "end": r.end,
        "name": "王五", "phone": "13900000001", "purpose": "x", "party_size": 1,
    }  # fmt: skip
    with pytest.raises(IntegrityError, match="reservation_no_overlap"), transaction.atomic():
        Reservation.objects.create(code="OVERLAP1", status="pending", **copy)
    Reservation.objects.create(code="OVERLAP2", status="cancelled", **copy)  # not live: fine


def test_venue_use_feeds_the_figures_in_fixed_queries(cast, django_assert_num_queries, tmp_path):
    calendar = tmp_path / "holidays.csv"
    first = in_days(1)
    calendar.write_text(f"date,kind,name\n{(first + timedelta(days=2)).isoformat()},off,测试节\n")
    hours = [(d, time(9), time(12)) for d in range(7)] + [(d, time(14), time(16)) for d in range(7)]
    venue = make_venue(cast.branch, hours=hours)  # 5 hours a day
    make_venue(cast.other_county_point)  # outside the county
    services.venue_closure_add(venue=venue, first_day=first + timedelta(days=4),
                               last_day=first + timedelta(days=4), reason="维修")  # fmt: skip
    came = reserve(venue, day=first, hour=9, party_size=12)
    reserve(venue, day=first, hour=14, party_size=30, phone="13900000001")  # no check-in
    services.reservation_check_in(reservation=came, by=cast.branch_staff, now=came.start)
    with override_settings(HOLIDAY_CALENDAR=calendar), django_assert_num_queries(4):
        usage = selectors.venue_usage(
            within=cast.county.pk, first=first, last=first + timedelta(days=6)
        )
    # Seven days, less the holiday and the closure: five days of five hours.
    assert usage == selectors.VenueUsage(open_hours=25, sessions=1, people=12)
