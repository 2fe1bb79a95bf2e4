"""我的: a verified phone's bookings, orders and survey answers, on the page and in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from activities import services as activity_services
from activities.models import Booking
from activities.orders import services as order_services
from evaluation.scoring import services as scoring_services
from tests.activities.factories import published_activity
from tests.conftest import verify_client, verify_phone

PHONE, OTHER = "13800000001", "13800000002"


def book(activity, phone, seats=1, **kw) -> Booking:
    return activity_services.booking_create(
        activity_id=activity.pk, name="张三", phone=phone, seats=seats, **kw
    )


@pytest.fixture
def history(cast):
    """One of everything for PHONE, and a booking of someone else's."""
    soon = published_activity(cast.branch, title="花灯戏", capacity=1)
    full = published_activity(cast.branch, title="满员讲座", capacity=1)
    gone = published_activity(cast.branch, title="已取消的培训")
    past = published_activity(cast.branch, title="去年的展览", start_in=timedelta(days=-30))
    book(full, OTHER)
    book(full, "13800000003")  # waiting, ahead of PHONE
    upcoming = book(soon, PHONE)
    waiting = book(full, PHONE)
    cancelled = book(gone, PHONE)
    activity_services.booking_cancel(code=cancelled.code, phone=PHONE)
    # Booked before it happened: the seat count and the rules are those of that day.
    attended = book(past, PHONE, now=past.start - timedelta(days=3))
    order = order_services.order_create(
        point_id=cast.point.pk, name="张三", phone=PHONE, description="想办一期书法培训"
    )
    scoring_services.satisfaction_submit(hall_id=cast.point.pk, phone=PHONE, rating=5, comment="好")
    return {
        "upcoming": upcoming,
        "waiting": waiting,
        "cancelled": cancelled,
        "attended": attended,
        "order": order,
    }


def test_the_page_lists_everything_of_the_phone_and_shows_each_code(
    client, history, django_assert_num_queries
):
    verify_client(client, PHONE)
    # The token's phone, the bookings (with their places in the queue), the orders, the answers.
    with django_assert_num_queries(4):
        response = client.get("/me/")
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("upcoming", "waiting", "cancelled", "attended"):
        assert history[key].code in html  # a lost code is found again here
    assert "候补第 2 位" in html
    assert history["order"].code in html and "已提交" in html
    assert "关上一社区服务中心" in html and "5 星" in html
    sections = [html.find(f'id="{s}"') for s in ("upcoming", "waitlisted", "past", "cancelled")]
    assert sections == sorted(sections)
    assert html.find(history["upcoming"].code) < html.find('id="waitlisted"')
    assert (
        html.find('id="past"') < html.find(history["attended"].code) < html.find('id="cancelled"')
    )
    assert not any(b.code in html for b in Booking.objects.exclude(phone=PHONE))


def test_the_query_count_does_not_grow_with_the_history(client, cast, django_assert_num_queries):
    verify_client(client, PHONE)
    for i in range(5):
        book(published_activity(cast.branch, title=f"活动{i}", capacity=1), PHONE)
        order_services.order_create(
            point_id=cast.point.pk, name="张三", phone=PHONE, description=f"需求{i}"
        )
    with django_assert_num_queries(4):
        assert client.get("/me/").status_code == 200
    with django_assert_num_queries(4):
        body = client.get("/api/v1/me/", HTTP_X_RESIDENT_TOKEN=verify_phone(PHONE)).json()
    assert len(body["bookings"]) == 5 and len(body["orders"]) == 5


def test_cancel_from_the_page_takes_a_confirmation_step(client, history):
    verify_client(client, PHONE)
    code = history["upcoming"].code
    confirm = client.get(f"/me/bookings/{code}/cancel/")
    assert confirm.status_code == 200 and "确认取消预约" in confirm.content.decode()
    assert Booking.objects.get(code=code).status == Booking.Status.CONFIRMED
    done = client.post(f"/me/bookings/{code}/cancel/")
    assert done.status_code == 302 and done["Location"] == f"/me/?cancelled={code}"
    assert Booking.objects.get(code=code).status == Booking.Status.CANCELLED
    html = client.get(done["Location"]).content.decode()
    assert f"预约 {code} 已取消" in html
    again = client.post(f"/me/bookings/{code}/cancel/")
    assert again.status_code == 400 and "已经取消过了" in again.content.decode()


def test_someone_elses_booking_is_404_and_stays(client, history):
    verify_client(client, OTHER)
    code = history["upcoming"].code
    assert client.get(f"/me/bookings/{code}/cancel/").status_code == 404
    assert client.post(f"/me/bookings/{code}/cancel/").status_code == 404
    assert Booking.objects.get(code=code).status == Booking.Status.CONFIRMED


def test_without_a_verified_phone_the_page_asks_for_one(db):
    response = Client().get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/residents/verify/?next=%2Fme%2F"
    assert Client().post("/me/bookings/ABCDEFGH/cancel/").status_code == 302


def test_the_api_gives_the_same_content(client, history, settings):
    # 我的 needs a verified phone even where booking does not.
    settings.RESIDENT_VERIFICATION = "off"
    assert client.get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/me/", HTTP_X_RESIDENT_TOKEN="nope").status_code == 401
    body = client.get("/api/v1/me/", HTTP_X_RESIDENT_TOKEN=verify_phone(PHONE)).json()
    assert body["phone"] == PHONE
    by_code = {b["code"]: b for b in body["bookings"]}
    assert set(by_code) == {
        history[k].code for k in ("upcoming", "waiting", "cancelled", "attended")
    }
    waiting = by_code[history["waiting"].code]
    assert (waiting["status"], waiting["position"], waiting["cancellable"]) == (
        "waitlisted",
        2,
        True,
    )
    assert by_code[history["cancelled"].code]["cancellable"] is False
    assert by_code[history["attended"].code]["position"] is None
    assert [o["code"] for o in body["orders"]] == [history["order"].code]
    assert (
        body["answers"][0]["rating"] == 5
        and body["answers"][0]["hall_name"] == "关上一社区服务中心"
    )
