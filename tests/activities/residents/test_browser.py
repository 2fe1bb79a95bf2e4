"""On a 375 px phone: a resident verifies a phone by SMS code, books, finds the booking on 我的
and cancels it there, with a confirmation step."""

from __future__ import annotations

import pytest

from activities.models import Booking
from tests.activities.factories import published_activity
from tests.browser import step

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser

PHONE = "13800138000"


def test_verify_book_find_it_on_me_and_cancel(page, live_server, cast, outbox):
    activity = published_activity(cast.branch, title="花灯戏专场演出", capacity=30)

    page.goto(f"{live_server.url}/activities/{activity.pk}/")
    step(page, "verify-1-activity")
    assert page.get_by_label("手机号码").count() == 0  # no form before a verified phone
    page.locator("#verify-needed").get_by_role("link", name="验证手机号码").click()
    page.wait_for_url("**/residents/verify/?next=*")
    step(page, "verify-2-phone")
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("短信验证码").wait_for()
    step(page, "verify-3-code")
    page.get_by_label("短信验证码").fill("000000")
    page.get_by_role("button", name="验证").click()
    assert "验证码不正确,还可以再试 4 次" in page.locator(".has-error").inner_text()
    page.get_by_label("短信验证码").fill(outbox.code(PHONE))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(f"**/activities/{activity.pk}/")
    step(page, "verify-4-verified")

    phone = page.get_by_label("手机号码")
    assert phone.input_value() == PHONE and not phone.is_editable()
    assert page.get_by_role("link", name="换一个号码").is_visible()
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("座位数").select_option("2")
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="提交预约").click()
    page.wait_for_url("**/bookings/*/?t=*")
    booking = Booking.objects.get(phone=PHONE)
    assert booking.status == Booking.Status.CONFIRMED and booking.seats == 2
    assert outbox.templates(PHONE) == ["verify_code", "booking_confirmed"]

    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="我的", exact=True
    ).click()
    page.wait_for_url("**/me/")
    step(page, "verify-5-me")
    item = page.locator(f'.me-item[data-code="{booking.code}"]')
    assert "花灯戏专场演出" in item.inner_text() and booking.code in item.inner_text()
    item.get_by_role("link", name="取消预约").click()
    page.wait_for_url(f"**/me/bookings/{booking.code}/cancel/")
    step(page, "verify-6-confirm")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED  # not before the confirmation
    page.get_by_role("button", name="确认取消").click()
    page.wait_for_url("**/me/?cancelled=*")
    step(page, "verify-7-cancelled")
    assert f"预约 {booking.code} 已取消" in page.get_by_role("status").inner_text()
    assert booking.code in page.locator("#cancelled").inner_text()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert outbox.templates(PHONE)[-1] == "booking_cancelled"
