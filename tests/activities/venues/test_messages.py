"""What a resident is told about their venue reservation (through activities.residents): their
own actions at once, staff decisions after the quiet hours, each with the venue, the time and
the code or the reason."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from activities.residents.models import Message
from activities.venues import services

from .factories import make_venue, reserve

pytestmark = pytest.mark.django_db


def _sent(phone="13800138000"):
    return list(Message.objects.filter(phone=phone).order_by("pk"))


def test_the_resident_is_told_of_each_step(cast, settings):
    settings.SMS_QUIET_HOURS = ""
    venue = make_venue(cast.branch, name="二楼排练厅", needs_approval=True)
    pending = reserve(venue)
    services.reservation_approve(reservation=pending, by=cast.branch_staff)
    refused = reserve(venue, hour=14, phone="13900139000")
    services.reservation_reject(reservation=refused, by=cast.branch_staff, reason="场地检修")
    services.reservation_cancel_by_staff(
        reservation=pending, by=cast.branch_staff, reason="临时举办活动"
    )
    mine = _sent()
    assert [m.template for m in mine] == [
        "reservation_pending",
        "reservation_approved",
        "reservation_cancelled_by_staff",
    ]
    assert pending.code in mine[0].text and "二楼排练厅" in mine[0].text
    assert "临时举办活动" in mine[2].text
    asked, rejected = _sent("13900139000")
    assert (asked.template, rejected.template) == ("reservation_pending", "reservation_rejected")
    assert "场地检修" in rejected.text
    own = reserve(make_venue(cast.branch), hour=16, phone="13700137000")
    services.reservation_cancel(code=own.code, phone="13700137000")
    assert [m.template for m in _sent("13700137000")] == [
        "reservation_confirmed",
        "reservation_cancelled",
    ]


def test_staff_decisions_wait_out_the_quiet_hours(cast, settings):
    settings.SMS_QUIET_HOURS = "22:00-08:00"
    venue = make_venue(cast.branch, needs_approval=True)
    pending = reserve(venue)
    late = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time())).replace(
        hour=23
    )
    services.reservation_reject(reservation=pending, by=cast.branch_staff, reason="满", now=late)
    rejected = Message.objects.get(template="reservation_rejected")
    # Sent no earlier than 08:00 the next morning; the resident's own request went at once.
    assert timezone.localtime(rejected.send_after).hour == 8
    submitted = Message.objects.get(template="reservation_pending")
    assert submitted.send_after <= timezone.now()
