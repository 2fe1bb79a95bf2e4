"""Messages by SMS: what each event sends, the quiet hours, retries and the delivery record."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.models import Booking
from activities.orders import services as order_services
from activities.residents import services
from activities.residents.models import Message
from tests.activities.factories import published_activity
from tests.conftest import build_cast, consenting_client, verify_phone

FIRST, SECOND = "13800000001", "13800000002"


@pytest.fixture
def api(django_capture_on_commit_callbacks):
    client = consenting_client()

    def post(url, body, phone):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                url,
                body,
                content_type="application/json",
                HTTP_X_RESIDENT_TOKEN=verify_phone(phone),
            )

    return post


def test_a_resident_books_is_confirmed_and_a_waiting_party_is_told_of_its_place(cast, api, outbox):
    activity = published_activity(cast.branch, title="花灯戏专场", capacity=2)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    first = api(url, {"name": "张三", "seats": 2}, FIRST).json()
    assert first["status"] == "confirmed"
    [confirmed] = [m for m in outbox.to(FIRST) if m["template"] == "booking_confirmed"]
    assert confirmed["params"]["code"] == first["code"] and confirmed["params"]["seats"] == "2"
    assert "花灯戏专场" in confirmed["text"] and first["code"] in confirmed["text"]

    second = api(url, {"name": "李四", "seats": 1}, SECOND).json()
    assert second["status"] == "waitlisted"
    assert outbox.templates(SECOND)[-1] == "booking_waitlisted"
    assert "候补名单第1位" in outbox.to(SECOND)[-1]["text"]

    cancelled = api(f"/api/v1/bookings/{first['code']}/cancel/", {}, FIRST)
    assert cancelled.status_code == 200
    assert outbox.templates(FIRST)[-1] == "booking_cancelled"
    assert outbox.templates(SECOND)[-1] == "booking_promoted"
    assert Booking.objects.get(code=second["code"]).status == Booking.Status.CONFIRMED
    record = Message.objects.get(phone=SECOND, template="booking_promoted")
    assert (record.status, record.attempts) == (Message.Status.SENT, 1)
    assert record.sent_at is not None and record.last_error == ""


def test_a_booking_is_saved_with_the_message_that_tells_of_it(cast):
    # On PostgreSQL the booking's own statement saves its message: the same row message_send
    # saves, with a waiting party's place filled in.
    activity = published_activity(cast.branch, title="花灯戏\ue000专场", capacity=1)
    told = {
        "activity": "花灯戏专场",
        "start": timezone.localtime(activity.start).strftime("%m-%d %H:%M"),
        "seats": "1",
    }
    for phone, template, extra in (
        (FIRST, "booking_confirmed", {}),
        (SECOND, "booking_waitlisted", {"position": "1"}),
        ("13800000003", "booking_waitlisted", {"position": "2"}),
    ):
        booking = activity_services.booking_create(
            activity_id=activity.pk, name="张三", phone=phone, seats=1
        )
        [message] = Message.objects.filter(phone=phone)
        expected = services.message_row(
            phone=phone,
            template=template,
            params={**told, "code": booking.code, **extra},
            urgent=True,
        )
        saved = {column: getattr(message, column) for column in services.MESSAGE_COLUMNS}
        for column in ("created_at", "send_after"):
            assert abs(saved.pop(column) - expected.pop(column)) < timedelta(seconds=5)
        assert saved == expected
        assert message.text.count(booking.code) == (template == "booking_confirmed")


def test_message_row_gives_every_column_of_a_message_but_its_id():
    columns = [f.column for f in Message._meta.concrete_fields if not f.primary_key]
    row = services.message_row(
        phone=FIRST, template="verify_code", params={"code": "1", "minutes": 5}
    )
    assert sorted(row) == sorted(columns) == sorted(services.MESSAGE_COLUMNS)


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def test_quiet_hours_hold_what_the_resident_did_not_just_ask_for(
    db, outbox, settings, django_capture_on_commit_callbacks
):
    settings.SMS_QUIET_HOURS = "22:00-08:00"
    late = local(1, 23, 30)
    params = {"activity": "讲座", "start": "12-09 09:00", "seats": 1, "code": "K7QH3M2X"}
    with django_capture_on_commit_callbacks(execute=True):
        held = services.message_send(
            phone=FIRST, template="booking_promoted", params=params, now=late
        )
        # Whatever the hour: urgent goes at once.
        now = services.message_send(
            phone=SECOND, template="booking_confirmed", params=params, urgent=True
        )
    assert timezone.localtime(held.send_after) == local(2, 8)
    assert now.send_after <= timezone.now()
    # The urgent one went at once; the held one waits for the morning.
    assert outbox.templates(SECOND) == ["booking_confirmed"]
    assert outbox.to(FIRST) == []
    assert Message.objects.get(pk=held.pk).status == Message.Status.QUEUED

    # One held over a night that has passed, whose task never ran (as under the embedded
    # default's eager Celery, with no worker to hold it): the sweep sends it, and only it.
    overnight = services.message_send(
        phone=FIRST, template="booking_promoted", params=params, now=local(-2, 23, 59)
    )
    assert timezone.localtime(overnight.send_after) == local(-1, 8)
    assert services.quiet_until(local(0, 7, 59)) == local(0, 8)
    assert services.quiet_until(local(0, 12)) is None
    assert services.messages_send_due() == 1
    assert outbox.templates(FIRST) == ["booking_promoted"]
    assert Message.objects.get(pk=overnight.pk).status == Message.Status.SENT
    assert Message.objects.get(pk=held.pk).status == Message.Status.QUEUED


def test_a_failing_provider_is_retried_recorded_and_never_loses_the_booking(
    cast, api, outbox, settings, tmp_path
):
    settings.SMS_FILE_PATH = str(tmp_path / "no-such-directory" / "sms.jsonl")
    activity = published_activity(cast.branch)
    response = api(
        f"/api/v1/activities/{activity.pk}/bookings/", {"name": "张三", "seats": 1}, FIRST
    )
    assert response.status_code == 201
    assert Booking.objects.get(code=response.json()["code"]).status == Booking.Status.CONFIRMED
    record = Message.objects.get(phone=FIRST, template="booking_confirmed")
    assert record.status == Message.Status.FAILED
    assert record.attempts == settings.SMS_MAX_ATTEMPTS
    assert "No such file or directory" in record.last_error and record.sent_at is None

    # The provider is back: the record is the same message, sent on a new try.
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    Message.objects.filter(pk=record.pk).update(status=Message.Status.QUEUED)
    services.message_deliver.delay(record.pk)
    record.refresh_from_db()
    assert record.status == Message.Status.SENT and record.attempts == 6
    assert outbox.templates(FIRST) == ["booking_confirmed"]


def test_a_reminder_the_day_before_at_most_once_per_booking(
    cast, outbox, django_capture_on_commit_callbacks
):
    tomorrow = published_activity(cast.branch, start_in=local(1, 10) - timezone.now())
    later = published_activity(cast.branch, start_in=local(5, 10) - timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        kept = activity_services.booking_create(
            activity_id=tomorrow.pk, name="张三", phone=FIRST, seats=1
        )
        activity_services.booking_create(activity_id=later.pk, name="张三", phone=FIRST, seats=1)
        dropped = activity_services.booking_create(
            activity_id=tomorrow.pk, name="李四", phone=SECOND, seats=1
        )
        activity_services.booking_cancel(code=dropped.code, phone=SECOND)
        assert activity_services.booking_reminders_send() == 1
        assert activity_services.booking_reminders_send() == 0
    [reminder] = [m for m in outbox.to(FIRST) if m["template"] == "booking_reminder"]
    assert reminder["params"]["code"] == kept.code
    assert "booking_reminder" not in outbox.templates(SECOND)
    assert Message.objects.filter(key=f"reminder:booking:{kept.pk}").count() == 1


def test_staff_changes_and_cancellations_are_told_to_everyone_booked(
    cast, outbox, django_capture_on_commit_callbacks
):
    activity = published_activity(cast.branch, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        activity_services.booking_create(activity_id=activity.pk, name="张三", phone=FIRST, seats=1)
        activity_services.booking_create(
            activity_id=activity.pk, name="李四", phone=SECOND, seats=1
        )
        activity_services.activity_update(activity=activity, capacity=2)  # promotes the second
        activity_services.activity_update(activity=activity, venue="三楼剧场")
        activity_services.activity_cancel(activity=activity, reason="暴雨")
    assert outbox.templates(FIRST) == [
        "booking_confirmed",
        "activity_changed",
        "activity_cancelled",
    ]
    assert outbox.templates(SECOND) == [
        "booking_waitlisted",
        "booking_promoted",
        "activity_changed",
        "activity_cancelled",
    ]
    assert "三楼剧场" in outbox.to(FIRST)[1]["text"]


def test_an_order_is_followed_by_sms(cast, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            point_id=cast.point.pk, name="王村长", phone=FIRST, description="想办广场舞培训"
        )
        order_services.order_accept(order=order, by_user=cast.branch_staff)
        start = timezone.now() - timedelta(days=3)
        order_services.order_schedule(
            order=order,
            by_user=cast.branch_staff,
            title="广场舞培训",
            start=start,
            end=start + timedelta(hours=2),
        )
        order_services.order_complete(order=order, by_user=cast.branch_staff)
    assert outbox.templates(FIRST) == ["order_accepted", "order_scheduled", "order_done"]
    assert order.code in outbox.to(FIRST)[0]["text"]


def test_an_escalated_order_tells_the_resident_where_it_went(
    cast, outbox, django_capture_on_commit_callbacks
):
    order = order_services.order_create(
        point_id=cast.point.pk, name="王村长", phone=FIRST, description="想办广场舞培训"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert order_services.orders_escalate_overdue(now=order.respond_by + timedelta(hours=1))
    [sms] = outbox.to(FIRST)
    assert sms["template"] == "order_escalated" and sms["params"]["hall"] == "官渡区文化馆"


def test_a_no_show_ban_falls_only_on_a_verified_phone(cast, settings):
    settings.RESIDENT_VERIFICATION = "off"
    phone = "13900000099"
    ends = []
    for i in range(3):
        activity = published_activity(cast.branch, title=f"过去{i}")
        activity_services.booking_create(activity_id=activity.pk, name="张三", phone=phone, seats=1)
        ends.append(activity.end)
    upcoming = published_activity(cast.branch, start_in=timedelta(days=60))
    now = max(ends) + timedelta(days=1)
    assert activity_services.no_show_ban(phone, now=now) is None
    verify_phone(phone)
    assert activity_services.no_show_ban(phone, now=now).no_shows == 3
    with pytest.raises(activity_services.ValidationError):
        activity_services.booking_create(
            activity_id=upcoming.pk, name="张三", phone=phone, seats=1, now=now
        )


@pytest.mark.django_db(transaction=True)
def test_end_to_end_verify_book_wait_be_promoted_and_see_it_on_me(outbox):
    """Through the API alone, as an app would, outside a test transaction so every message
    goes when its request commits: each resident verifies by the code the SMS brought, books;
    the first cancels; the second is promoted, told, and sees it on 我的."""
    cast = build_cast()
    activity = published_activity(cast.branch, title="滇剧折子戏", capacity=1)
    client = consenting_client()

    def post(url, body, token=""):
        extra = {"HTTP_X_RESIDENT_TOKEN": token} if token else {}
        return client.post(url, body, content_type="application/json", **extra)

    tokens = {}
    for phone in (FIRST, SECOND):
        assert post("/api/v1/phone-codes/", {"phone": phone}).status_code == 202
        answer = post("/api/v1/phone-tokens/", {"phone": phone, "code": outbox.code(phone)})
        tokens[phone] = answer.json()["token"]
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    first = post(url, {"name": "张三", "seats": 1}, tokens[FIRST]).json()
    second = post(url, {"name": "李四", "seats": 1}, tokens[SECOND]).json()
    assert (first["status"], second["status"]) == ("confirmed", "waitlisted")
    me = client.get("/api/v1/me/", HTTP_X_RESIDENT_TOKEN=tokens[SECOND]).json()
    assert [(b["code"], b["status"], b["position"]) for b in me["bookings"]] == [
        (second["code"], "waitlisted", 1)
    ]

    assert post(f"/api/v1/bookings/{first['code']}/cancel/", {}, tokens[FIRST]).status_code == 200
    assert outbox.templates(SECOND) == ["verify_code", "booking_waitlisted", "booking_promoted"]
    assert second["code"] in outbox.to(SECOND)[-1]["text"]
    me = client.get("/api/v1/me/", HTTP_X_RESIDENT_TOKEN=tokens[SECOND]).json()
    assert [(b["code"], b["status"], b["position"]) for b in me["bookings"]] == [
        (second["code"], "confirmed", None)
    ]
