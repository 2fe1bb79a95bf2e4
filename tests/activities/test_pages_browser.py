"""A resident on a 375 px phone finds an activity, books two seats, looks the booking up by phone
and code, and cancels it."""

from __future__ import annotations

import re

import pytest

from activities.models import Booking, Category
from tests.browser import step
from tests.conftest import resident_cookie, verify_phone

from .factories import published_activity

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_resident_books_looks_up_and_cancels(page, live_server, cast):
    published_activity(cast.other_county, title="五华区的讲座", category=Category.LECTURE)
    activity = published_activity(
        cast.branch,
        title="花灯戏专场演出",
        venue="二楼多功能厅",
        description="昆明花灯经典剧目选段,老少皆宜。",
        capacity=30,
    )

    # The browser has verified the phone (tests/activities/residents walks the verify page).
    cookie = resident_cookie(verify_phone("13800138000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    page.goto(live_server.url + "/activities/")
    step(page, "1-list")
    # Narrow to the county: picking it reloads the list with its townships offered.
    page.get_by_text("筛选:区域、类别、日期").click()
    page.get_by_label("县(区)").select_option(label="官渡区")
    page.wait_for_url("**/activities/?*county=*")
    page.get_by_label("乡镇(街道)").select_option(label="关上街道")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**township=*")
    step(page, "2-filtered")
    assert page.locator(".act-title").all_inner_texts() == ["花灯戏专场演出"]
    assert "余 30 座" in page.locator(".act-card").inner_text()

    page.get_by_role("link", name=re.compile("花灯戏专场演出")).click()
    page.wait_for_url(f"**/activities/{activity.pk}/")
    step(page, "3-activity")
    page.get_by_label("姓名").fill("张三")
    assert page.get_by_label("手机号码").input_value() == "13800138000"  # the verified one
    page.get_by_label("座位数").select_option("2")
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="提交预约").click()
    page.wait_for_url("**/bookings/*/?t=*")
    step(page, "4-booking")

    booking = Booking.objects.get(phone="13800138000")
    assert booking.seats == 2 and booking.status == Booking.Status.CONFIRMED
    assert page.locator(".code").inner_text() == booking.code
    assert page.locator(".status").inner_text() == "已确认"
    assert page.locator(".qr svg").is_visible()
    assert page.locator(".qr svg").bounding_box()["width"] >= 150

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的预约").click()
    page.wait_for_url("**/bookings/lookup/")
    step(page, "5-lookup")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_label("预约码").fill("WRONG123")
    page.get_by_role("button", name="查询").click()
    assert page.get_by_role("alert").inner_text().strip() == "预约码与手机号码不匹配,请核对后再试。"
    step(page, "6-lookup-error")
    page.get_by_label("预约码").fill(booking.code.lower())
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/bookings/{booking.code}/?t=*")
    assert page.locator(".code").inner_text() == booking.code

    page.get_by_role("button", name="取消预约").click()
    # It asks first; nothing is cancelled until the second button.
    assert page.locator("h1").inner_text() == "确认取消预约?"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    page.get_by_role("button", name="确认取消").click()
    page.wait_for_url("**cancelled=1")
    step(page, "7-cancelled")
    assert page.locator(".status").inner_text() == "已取消"
    assert page.get_by_role("status").first.inner_text() == "预约已取消。"
    assert page.get_by_role("button", name="取消预约").count() == 0
    booking.refresh_from_db()
    activity.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert activity.seats_taken == 0
