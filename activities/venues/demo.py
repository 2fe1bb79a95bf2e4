"""Demo data of venue booking: four venues of 官渡 and 关上 with free slots in the coming weeks,
three teams, a reservation in every state and a weekly series. Deterministic apart from the
dates, which follow today; a second run finds the venues and adds nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from common.codes import fix_codes
from network.models import Hall

from . import services
from .models import Reservation, Venue

# The resident whose reservation seed_demo prints.
DEMO_PHONE = "13800138001"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _next(weekday: int, *, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


@transaction.atomic
def seed_venues(centre: Hall) -> int:
    existing = Venue.objects.filter(hall__tree_id=centre.tree_id)
    if existing.exists():
        return existing.count()
    director = get_user_model().objects.get(username="guandu_director")
    guandu = Hall.objects.get(tree_id=centre.tree_id, name="官渡区文化馆")
    guanshang = Hall.objects.get(tree_id=centre.tree_id, name="关上街道综合文化站")
    afternoon_evening = [(d, time(9), time(12)) for d in range(1, 7)] + [
        (d, time(14), time(21)) for d in range(1, 7)
    ]
    rehearsal = services.venue_create(
        hall=guandu, name="三楼排练厅", kind=Venue.Kind.REHEARSAL, capacity=40, slot_minutes=60,
        equipment="钢琴、音响、落地镜", rules="请穿软底鞋;用后关灯关窗。",
        hours=afternoon_evening,
    )  # fmt: skip
    hall_room = services.venue_create(
        hall=guandu, name="一楼多功能厅", kind=Venue.Kind.MULTI_PURPOSE, capacity=120,
        slot_minutes=120, access=Venue.Access.TEAMS, needs_approval=True,
        equipment="舞台、灯光、投影、120 把折叠椅",
        hours=[(d, time(8), time(22)) for d in range(7)],
    )  # fmt: skip
    dance = services.venue_create(
        hall=guanshang, name="舞蹈室", kind=Venue.Kind.DANCE, capacity=25, slot_minutes=None,
        equipment="把杆、镜墙、音响", hours=[(d, time(8, 30), time(21, 30)) for d in range(7)],
    )  # fmt: skip
    calligraphy = services.venue_create(
        hall=guanshang, name="书画室", kind=Venue.Kind.CALLIGRAPHY, capacity=15, slot_minutes=60,
        equipment="书画案 8 张、毛毡、笔墨", hours=[(d, time(9), time(17)) for d in range(7)],
    )  # fmt: skip
    today = timezone.localdate()
    services.venue_closure_add(
        venue=calligraphy, first_day=today + timedelta(days=10),
        last_day=today + timedelta(days=11), reason="墙面粉刷维护",
    )  # fmt: skip

    huadeng = services.team_create(
        hall=guandu, name="官渡花灯艺术团", leader_name="杨丽华", leader_phone="13908710001",
        members=28,
    )  # fmt: skip
    square = services.team_create(
        hall=guanshang, name="关上街道广场舞队", leader_name="李秀英",
        leader_phone="13908710002", members=36,
    )  # fmt: skip
    services.team_create(
        hall=guanshang, name="关上社区合唱团", leader_name="王建国", leader_phone="13908710003",
        members=22,
    )  # fmt: skip

    tuesday = _next(1, after=today)
    # A season of Tuesday evenings for the square-dance team, booked by staff.
    services.series_create(
        venue_id=dance.pk, weekday=1, starts_at=time(19), ends_at=time(21), first_day=tuesday,
        last_day=tuesday + timedelta(weeks=11), team=square, name="李秀英",
        phone="13908710002", purpose="广场舞排练", party_size=20, by=director,
    )  # fmt: skip

    def resident(venue, day, start, end, phone, **fields):
        data = {"name": "张三", "purpose": "合唱排练", "party_size": 12}
        data.update(fields)
        return services.reservation_create(
            venue_id=venue.pk, start=_at(day, *start), end=_at(day, *end), phone=phone, **data
        )

    wednesday = _next(2, after=today)
    thursday = _next(3, after=today)
    resident(rehearsal, wednesday, (19,), (21,), DEMO_PHONE)  # confirmed
    resident(rehearsal, thursday, (15,), (17,), "13800138002", name="赵敏", purpose="器乐合奏")
    cancelled = resident(rehearsal, thursday, (10,), (11,), "13800138003", name="钱伟")
    services.reservation_cancel(code=cancelled.code, phone=cancelled.phone)
    resident(
        hall_room,
        _next(5, after=today),
        (14,),
        (16,),
        "13908710001",
        name="杨丽华",
        team=huadeng,
        purpose="花灯小戏彩排",
        party_size=28,
    )  # fmt: skip  pending
    rejected = resident(hall_room, _next(6, after=today), (10,), (12,), "13908710001",
                        name="杨丽华", team=huadeng, purpose="花灯专场", party_size=60)  # fmt: skip
    services.reservation_reject(
        reservation=rejected, by=director, reason="当天大厅已安排全区会演,请改期。"
    )
    resident(calligraphy, wednesday, (14,), (16,), "13800138004", name="孙丽", purpose="书法练习",
             party_size=6)  # fmt: skip

    # Two that have happened: one checked in, one no-show.
    yesterday = today - timedelta(days=1)
    for phone, hours, arrived in (("13800138005", (9, 11), True), ("13800138006", (14, 15), False)):
        start, end = _at(yesterday, hours[0]), _at(yesterday, hours[1])
        past = services.reservation_create(
            venue_id=calligraphy.pk, start=start, end=end, name="周强", phone=phone,
            purpose="国画小组", party_size=8, now=start - timedelta(days=1),
        )  # fmt: skip
        if arrived:
            services.reservation_check_in(
                reservation=past, by=director, now=start + timedelta(minutes=5)
            )
    services.reservations_mark_no_shows()
    _fix_codes(centre)
    return 4


def _fix_codes(centre: Hall) -> None:
    rows = Reservation.objects.filter(venue__hall__tree_id=centre.tree_id)
    fix_codes(Reservation, rows, "venues", order=("start", "pk"))


def demo_reservation() -> Reservation | None:
    return (
        Reservation.objects.filter(phone=DEMO_PHONE, status=Reservation.Status.CONFIRMED)
        .order_by("start")
        .first()
    )
