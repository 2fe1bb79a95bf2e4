"""The sign-up list of an activity, as officials and staff print it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _

from common.privacy import mask_phone
from common.xlsx import Column, Sheet, write_workbook

from .models import Activity, Booking
from .selectors import activity_bookings


def _local(dt):
    # Excel has no time zones: write the wall-clock time of Asia/Shanghai, without tzinfo.
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def signup_rows(
    activity: Activity, *, full_phones: bool = False, counted: list | None = None
) -> Iterator[list]:
    bookings = activity_bookings(activity).values_list(
        "code", "name", "phone", "seats", "status", "created_at", "checked_in_at"
    )
    labels = dict(Booking.Status.choices)
    for n, (code, name, phone, seats, status, created_at, checked_in_at) in enumerate(
        bookings.iterator(chunk_size=2000), start=1
    ):
        if counted is not None:
            counted.append(n)
        yield [
            n,
            code,
            name,
            phone if full_phones else mask_phone(phone),
            seats,
            str(labels[status]),
            _local(created_at),
            _local(checked_in_at),
        ]


def write_signup_list(
    activity: Activity, target: str | IO[bytes], *, full_phones: bool = False
) -> int:
    """The sign-up list, phones masked unless ``full_phones`` (the caller checked the right and
    logs it); how many rows it wrote."""
    counted: list[int] = []
    start = timezone.localtime(activity.start).strftime("%Y-%m-%d %H:%M")
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
                ],
                rows=signup_rows(activity, full_phones=full_phones, counted=counted),
            )
        ],
        target,
    )
    return len(counted)
