"""我的数据: a verified resident sees everything kept about the phone, downloads it, and asks for
its removal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activities
from activities.models import Activity, Booking
from activities.orders import services as orders
from activities.orders.models import Order
from activities.residents.models import ErasureRequest, Message, Resident
from activities.venues.models import Reservation
from common import privacy
from evaluation.scoring import services as scoring
from evaluation.scoring.models import SatisfactionResponse
from portal import privacy as portal_privacy
from tests.activities.factories import published_activity
from tests.activities.venues.factories import make_venue, reserve
from tests.conftest import verify_client

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
OTHER = "13900139000"


def _history(cast, phone: str, *, ended: bool) -> Booking:
    activity = published_activity(cast.branch, title=f"花灯戏 {phone}")
    booking = activities.booking_create(activity_id=activity.pk, name="张三", phone=phone, seats=1)
    if ended:
        past = timezone.now() - timedelta(days=3)
        Activity.objects.filter(pk=activity.pk).update(start=past, end=past + timedelta(hours=2))
    return booking


def _delivered() -> None:
    # A test's transaction never commits, so the tasks that send messages never ran; on a site
    # the verification code has been delivered before the resident could use it.
    Message.objects.update(status=Message.Status.SENT)


@pytest.fixture
def kept(cast):
    """Of PHONE: a booking of an ended activity, a refused order, a past reservation, a survey
    answer and their messages; of OTHER: one booking."""
    _history(cast, PHONE, ended=True)
    order = orders.order_create(
        point_id=cast.point.pk, name="张三", phone=PHONE, description="想看花灯戏"
    )
    orders.order_reject(order=order, by_user=cast.branch_staff, reason="本月已排满")
    reservation = reserve(make_venue(cast.branch), phone=PHONE)
    Reservation.objects.filter(pk=reservation.pk).update(
        start=timezone.now() - timedelta(days=2), end=timezone.now() - timedelta(days=2, hours=-1)
    )
    scoring.satisfaction_submit(hall_id=cast.point.pk, phone=PHONE, rating=5)
    _delivered()
    _history(cast, OTHER, ended=True)
    return cast


def test_me_data_needs_a_verified_phone(client, cast):
    for name in ("me_data", "me_data_download", "me_erase"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/residents/verify/" in response["Location"]


def test_me_data_lists_everything_about_the_phone_and_nothing_else(client, kept):
    verify_client(client, PHONE)
    body = client.get(reverse("me_data")).content.decode()
    assert f"花灯戏 {PHONE}" in body and f"花灯戏 {OTHER}" not in body
    for section in ("bookings", "orders", "reservations", "survey_answers", "messages"):
        assert f'id="data-{section}"' in body
    assert "本月已排满" not in body  # staff's notes are not the resident's data
    assert "想看花灯戏" in body and "合唱排练" in body
    assert reverse("me_erase") in body and reverse("me_data_download") in body
    assert reverse("me_data") in client.get(reverse("me")).content.decode()


def test_me_data_costs_a_fixed_number_of_queries(client, cast, django_assert_num_queries):
    verify_client(client, PHONE)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("me_data"))
        return len(queries.captured_queries)

    before = count()
    for _ in range(3):
        _history(cast, PHONE, ended=True)
    assert count() == before
    with django_assert_num_queries(before):
        client.get(reverse("me_data"))


def test_the_download_is_a_json_copy_of_it(client, kept):
    verify_client(client, PHONE)
    response = client.get(reverse("me_data_download"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["phone"] == PHONE
    assert len(data["bookings"]) == 1 and data["bookings"][0]["phone"] == PHONE
    assert len(data["orders"]) == 1 and len(data["reservations"]) == 1
    assert len(data["survey_answers"]) == 1 and data["messages"]
    assert data["verified_phone"][0]["phone"] == PHONE
    assert OTHER not in response.content.decode()


def test_removal_asks_first_then_anonymises_what_ended_and_keeps_an_open_booking(client, kept):
    open_booking = _history(kept, PHONE, ended=False)
    verify_client(client, PHONE)
    _delivered()
    page = client.get(reverse("me_erase"))
    assert "确认删除" in page.content.decode()
    assert Booking.objects.filter(phone=PHONE).count() == 2  # asking changed nothing

    response = client.post(reverse("me_erase"))
    assert response.status_code == 200
    assert "还有 1 条尚未结束的记录" in response.content.decode()
    assert list(Booking.objects.filter(phone=PHONE)) == [open_booking]
    assert open_booking.status == Booking.Status.CONFIRMED  # nothing cancelled
    for model in (Order, Reservation, SatisfactionResponse):
        assert not model.objects.filter(phone=PHONE).exists()
        assert model.objects.filter(phone=privacy.phone_hash(PHONE)).exists()
    assert not Message.objects.filter(phone=PHONE, status=Message.Status.SENT).exists()
    assert Booking.objects.filter(phone=OTHER).exists()
    assert Resident.objects.filter(phone=PHONE).exists()  # it may still cancel the open one
    assert client.get(reverse("me")).status_code == 200

    past = timezone.now() - timedelta(hours=3)
    Activity.objects.filter(pk=open_booking.activity_id).update(
        start=past, end=past + timedelta(hours=2)
    )
    Message.objects.update(status=Message.Status.SENT)
    portal_privacy.residents_anonymise()
    assert ErasureRequest.objects.get().done_at is not None
    assert not Booking.objects.filter(phone=PHONE).exists()
    assert not Resident.objects.filter(phone=PHONE).exists()


def test_removal_with_nothing_open_is_done_at_once_and_unverifies_the_browser(client, kept):
    verify_client(client, PHONE)
    _delivered()
    response = client.post(reverse("me_erase"))
    import re

    print(
        re.findall(r"<h1>.*?</h1>|<p class=\"notice[^>]*>.*?</p>", response.content.decode(), re.S)
    )
    assert "已全部匿名化" in response.content.decode()
    assert response.cookies["resident"].value == ""
    assert not Resident.objects.filter(phone=PHONE).exists()
    assert ErasureRequest.objects.get().done_at is not None
    assert not ErasureRequest.objects.filter(phone=PHONE).exists()  # its phone went too
    assert client.get(reverse("me")).status_code == 302
