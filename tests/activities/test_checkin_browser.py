"""Staff at the door with a 375 px phone: log in, open tonight's show, check a party in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities import services
from activities.models import Booking
from tests.browser import no_horizontal_scroll

from .factories import published_activity

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_staff_check_a_party_in_on_a_phone(page, live_server, cast):
    show = published_activity(
        cast.branch, capacity=10, start_in=timedelta(hours=2), title="花灯戏专场演出"
    )
    party = services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=2)
    services.booking_create(activity_id=show.pk, name="李四", phone="13900139000", seats=1)

    page.goto(live_server.url + "/staff/checkin/")
    page.wait_for_url("**/admin/login/?next=/staff/checkin/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/staff/checkin/")
    assert no_horizontal_scroll(page)

    page.get_by_role("link", name="花灯戏专场演出").click()
    page.wait_for_url(f"**/staff/checkin/{show.pk}/")
    assert page.locator("#checked-count").inner_text() == "0"
    assert page.locator("#confirmed-count").inner_text() == "2"
    # Chromium without a camera either offers the scan button or says to type; never neither.
    assert page.locator("#scan").is_visible() or page.locator("#scan-note").is_visible()
    assert no_horizontal_scroll(page)

    page.get_by_label("预约码").fill(party.code.lower())
    page.get_by_role("button", name="查询").click()
    party_card = page.get_by_role("region", name="预约信息")
    assert "张三" in party_card.inner_text()
    assert "138****8000" in party_card.inner_text()
    assert no_horizontal_scroll(page)

    party_card.get_by_role("button", name="签到").click()
    page.wait_for_function("document.getElementById('checked-count').innerText === '1'")
    assert "已签到:张三,2 人" in page.get_by_role("status").inner_text()
    assert no_horizontal_scroll(page)
    party.refresh_from_db()
    assert party.checked_in_at is not None
    assert Booking.objects.filter(checked_in_at__isnull=False).count() == 1
