"""A resident on a 375 px phone opens a course from the list (培训班 · N次课), sees its sessions,
enrols once for all of them, then a teacher enrols a school class; 我的 shows the course."""

from __future__ import annotations

import re

import pytest

from activities.models import Booking
from tests.browser import step
from tests.conftest import resident_cookie, verify_phone

from .test_courses import course, move_back

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_resident_enrols_in_a_course_and_a_class_enrols_as_a_group(page, live_server, cast):
    activity = course(cast.branch, sessions=10, capacity=40, group_limit=30)
    cookie = resident_cookie(verify_phone("13800138000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])

    page.goto(live_server.url + "/activities/")
    card = page.locator(".act-card", has_text="少儿民族舞培训班")
    assert "培训班 · 10次课" in card.inner_text()
    step(page, "course-1-list")
    card.get_by_role("link").click()
    page.wait_for_url(f"**/activities/{activity.pk}/")
    assert "共10次课" in page.locator("#sessions h2").inner_text()
    assert page.locator("#sessions .session").count() == 10
    assert "余 40 座" in page.locator(".act-top").inner_text()
    step(page, "course-2-page")

    own = page.locator("form.book-form").first
    own.get_by_label("姓名").fill("张三")
    own.get_by_label("座位数").select_option("1")
    own.get_by_label("我已阅读并同意《隐私政策》").check()
    own.get_by_role("button", name="提交预约").click()
    page.wait_for_url("**/bookings/*/?t=*")
    step(page, "course-3-enrolled")
    booking = Booking.objects.get(phone="13800138000")
    assert (booking.seats, booking.status) == (1, Booking.Status.CONFIRMED)

    # The class teacher, on her own verified phone, asks for more than the limit first.
    cookie = resident_cookie(verify_phone("13900139000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    page.goto(live_server.url + f"/activities/{activity.pk}/")
    group = page.locator("#group-booking")
    group.get_by_label("团体类型").select_option(label="学校班级")
    group.get_by_label("团体名称").fill("关上小学三年级二班")
    group.get_by_label("联系人").fill("王老师")
    group.get_by_label("人数").fill("31")
    group.get_by_label("我已阅读并同意《隐私政策》").check()
    group.get_by_role("button", name="提交团体报名").click()
    page.wait_for_load_state()
    assert "每个团体最多报名 30 人" in page.locator("#group-booking").inner_text()
    step(page, "course-4-group-too-many")
    group = page.locator("#group-booking")
    assert group.get_by_label("团体名称").input_value() == "关上小学三年级二班"
    group.get_by_label("人数").fill("28")
    group.get_by_label("我已阅读并同意《隐私政策》").check()
    group.get_by_role("button", name="提交团体报名").click()
    page.wait_for_url("**/bookings/*/?t=*")
    step(page, "course-5-group-enrolled")
    booking = Booking.objects.get(phone="13900139000")
    assert (booking.group_name, booking.seats) == ("关上小学三年级二班", 28)

    # After two sessions, 我的 of the first resident shows the course.
    move_back(activity, 2)
    cookie = resident_cookie(verify_phone("13800138000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    page.goto(live_server.url + "/me/")
    assert re.search(r"培训班 · 共10次课", page.locator(".me-item").first.inner_text())
    step(page, "course-6-me")
