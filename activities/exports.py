"""The sign-up list of an activity, as officials and staff print it; a course's list adds each
party's group, its attendance over the sessions held and whether it completed (结业)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _

from common.privacy import mask_phone
from common.xlsx import Column, Sheet, write_workbook

from .models import Activity, Booking, CourseSession
from .selectors import activity_bookings, with_completion


def _local(dt):
    # Excel has no time zones: write the wall-clock time of Asia/Shanghai, without tzinfo.
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def signup_rows(
    activity: Activity,
    *,
    course: bool = False,
    full_phones: bool = False,
    counted: list | None = None,
) -> Iterator[list]:
    bookings = activity_bookings(activity)
    extra = ()
    if course:
        bookings = with_completion(bookings)
        extra = ("group_kind", "group_name", "present_times", "held", "completed")
    bookings = bookings.values_list(
        "code", "name", "phone", "seats", "status", "created_at", "checked_in_at", *extra
    )
    labels = dict(Booking.Status.choices)
    kinds = dict(Booking._meta.get_field("group_kind").choices)
    for n, (code, name, phone, seats, status, created_at, checked_in_at, *more) in enumerate(
        bookings.iterator(chunk_size=2000), start=1
    ):
        if counted is not None:
            counted.append(n)
        row = [
            n,
            code,
            name,
            phone if full_phones else mask_phone(phone),
            seats,
            str(labels[status]),
            _local(created_at),
            _local(checked_in_at),
        ]
        if course:
            kind, group, present, held, completed = more
            row += [
                f"{kinds[kind]} · {group}" if kind else "",
                f"{present}/{held}" if status == Booking.Status.CONFIRMED else "",
                (_("是") if completed else _("否")) if status == Booking.Status.CONFIRMED else "",
            ]
        yield row


def write_signup_list(
    activity: Activity, target: str | IO[bytes], *, full_phones: bool = False
) -> int:
    """The sign-up list, phones masked unless ``full_phones`` (the caller checked the right and
    logs it); how many rows it wrote."""
    counted: list[int] = []
    start = timezone.localtime(activity.start).strftime("%Y-%m-%d %H:%M")
    course = CourseSession.objects.filter(activity=activity).exists()
    course_columns = []
    if course:
        course_columns = [
            Column(_("团体"), 24),
            Column(_("出勤(次/已上课)"), 14),
            Column(_("结业(出勤≥%(share)d%%)") % {"share": activity.completion_share}, 14),
        ]
    write_workbook(
        [
            Sheet(
                title=_("报名名单"),
                title_rows=[
                    f"{activity.title} · {activity.venue_hall.name} · {start}",
                ],
                columns=[
                    Column(_("序号"), 6, "0"),
                    Column(_("预约码"), 12),
                    Column(_("姓名"), 12),
                    Column(_("手机号码"), 14),
                    Column(_("座位数"), 8, "0"),
                    Column(_("状态"), 10),
                    Column(_("预约时间"), 18, "yyyy-mm-dd hh:mm"),
                    Column(_("签到时间"), 18, "yyyy-mm-dd hh:mm"),
                    *course_columns,
                ],
                rows=signup_rows(activity, course=course, full_phones=full_phones, counted=counted),
            )
        ],
        target,
    )
    return len(counted)
