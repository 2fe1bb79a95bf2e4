"""After the show, on the same phone: from the check-in page to 登记参与人次, the check-ins
already filled in, the door count typed over them."""

from __future__ import annotations

import pytest

from activities.models import Attendance, Category
from tests.browser import no_horizontal_scroll, step

from .test_attendance import checked_in, held

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_staff_record_the_door_count_from_the_check_in_page(page, live_server, cast):
    show = held(cast.branch, days_ago=0, capacity=20, category=Category.PERFORMANCE, title="花灯戏")
    checked_in(show, "13800138000", 3)

    page.goto(live_server.url + f"/staff/checkin/{show.pk}/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"**/staff/checkin/{show.pk}/")
    page.locator("#attendance-link").click()
    page.wait_for_url(f"**/admin/activities/activity/{show.pk}/attendance/")
    assert page.locator("#id_head_count").input_value() == "3"
    assert page.locator("#id_method").input_value() == "checked_in"
    step(page, "attendance-form")

    page.fill("#id_head_count", "2")
    page.locator("#attendance-form input[type=submit]").click()
    page.wait_for_selector("#attendance-form .errorlist")
    assert "已有 3 人签到" in page.locator("#attendance-form").inner_text()
    assert not Attendance.objects.exists()

    page.fill("#id_head_count", "45")
    page.select_option("#id_method", "counted")
    page.fill("#id_note", "含未预约的现场观众")
    page.locator("#attendance-form input[type=submit]").click()
    page.wait_for_selector("#attendance-figure strong")
    assert page.locator("#attendance-figure strong").inner_text() == "45"
    assert "45(现场清点)" in page.locator("#attendance-history").inner_text()
    assert no_horizontal_scroll(page)
    step(page, "attendance-recorded")
    assert Attendance.objects.get(activity=show).head_count == 45
