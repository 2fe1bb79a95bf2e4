"""A resident on a 375 px phone finds a free slot of a venue, reserves it, looks the reservation
up by code and phone, and cancels it."""

from __future__ import annotations

import pytest

from activities.venues.models import Reservation
from tests.browser import step
from tests.conftest import resident_cookie, verify_phone

from .factories import in_days, make_venue, reserve

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_resident_finds_a_free_slot_reserves_looks_up_and_cancels(page, live_server, cast):
    venue = make_venue(cast.branch, name="二楼舞蹈室", equipment="把杆、镜墙")
    make_venue(cast.other_county_point, name="华山书画室")
    day = in_days(2)
    reserve(venue, day=day, hour=8, hours=2, phone="13900000001")  # 08:00–10:00 taken

    # The browser has verified the phone (tests/activities/residents walks the verify page).
    cookie = resident_cookie(verify_phone("13800138000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    page.goto(f"{live_server.url}/venues/?hall={cast.branch.pk}")
    step(page, "venues-1-list")
    assert page.locator(".act-title").all_inner_texts() == ["二楼舞蹈室"]
    page.get_by_role("link", name="二楼舞蹈室").click()
    page.wait_for_url(f"**/venues/{venue.pk}/")
    step(page, "venues-2-week")
    # Move to the week of the day when it lies in the next one.
    if page.locator(f'a.cell.free[href*="day={day.isoformat()}"]').count() == 0:
        page.get_by_role("link", name="下一周").click()
        page.wait_for_url("**week=*")
    cells = page.locator(f'a.cell[href*="day={day.isoformat()}"]')
    assert not page.locator(f'a.cell[href*="day={day.isoformat()}&start=08:00"]').count()
    cells.filter(has_text="空").first.click()  # the first free slot of the day: 10:00
    page.wait_for_url("**start=10:00**")
    assert page.get_by_label("开始时间").input_value() == "10:00"
    assert page.get_by_label("结束时间").input_value() == "11:00"
    page.get_by_label("结束时间").select_option("12:00")
    page.get_by_label("姓名").fill("张三")
    assert page.get_by_label("手机号码").input_value() == "13800138000"  # the verified one
    page.get_by_label("用途").fill("民族舞排练")
    page.get_by_label("人数").fill("12")
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    step(page, "venues-3-form")
    page.get_by_role("button", name="提交预约").click()
    page.wait_for_url("**/venues/reservations/*/?t=*")
    step(page, "venues-4-reserved")

    reservation = Reservation.objects.get(phone="13800138000")
    assert reservation.status == Reservation.Status.CONFIRMED
    assert page.locator(".code").inner_text() == reservation.code
    assert page.locator(".status").inner_text() == "已确认"

    page.goto(f"{live_server.url}/venues/reservations/lookup/")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_label("预约码").fill("WRONG123")
    page.get_by_role("button", name="查询").click()
    assert "不匹配" in page.get_by_role("alert").inner_text()
    page.get_by_label("预约码").fill(reservation.code.lower())
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/venues/reservations/{reservation.code}/?t=*")
    step(page, "venues-5-looked-up")

    page.get_by_role("button", name="取消这个预约").click()
    page.wait_for_url("**cancelled=1")
    step(page, "venues-6-cancelled")
    assert page.locator(".status").inner_text() == "已取消"
    assert page.get_by_role("button", name="取消这个预约").count() == 0
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CANCELLED
