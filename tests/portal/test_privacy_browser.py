"""A resident on a 375 px phone sees the short privacy notice at the booking and 点单 forms,
cannot send either without agreeing, and the agreed version is kept with what was saved."""

from __future__ import annotations

import pytest
from django.conf import settings

from activities.models import Booking
from activities.orders.models import Order
from tests.activities.factories import published_activity
from tests.browser import no_horizontal_scroll, step
from tests.conftest import resident_cookie, verify_phone

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser

AGREE = "我已阅读并同意《隐私政策》"


def _verified(page, live_server, phone: str) -> None:
    cookie = resident_cookie(verify_phone(phone))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])


def _notice_then_agree(page, submit: str, shot: str) -> None:
    notice = page.locator(".consent-notice")
    assert notice.is_visible()
    assert "匿名化" in notice.inner_text()
    assert notice.get_by_role("link", name="隐私政策").get_attribute("href") == "/privacy/"
    page.get_by_role("button", name=submit).click()
    page.wait_for_load_state()
    step(page, f"{shot}-refused")
    assert "请阅读并同意《隐私政策》后再提交" in page.locator(".consent").inner_text()
    assert no_horizontal_scroll(page)
    page.get_by_label(AGREE).check()
    page.get_by_role("button", name=submit).click()


def test_booking_shows_the_notice_and_needs_the_agreement(page, live_server, cast):
    activity = published_activity(cast.branch, title="花灯戏专场演出", capacity=30)
    _verified(page, live_server, "13800138000")
    page.goto(f"{live_server.url}/activities/{activity.pk}/")
    page.get_by_label("姓名").fill("张三")
    step(page, "privacy-booking-form")
    assert no_horizontal_scroll(page)
    _notice_then_agree(page, "提交预约", "privacy-booking")
    page.wait_for_url("**/bookings/*/?t=*")
    booking = Booking.objects.get()
    assert booking.consent_version == settings.PRIVACY_NOTICE_VERSION
    assert booking.consented_at is not None


def test_ordering_shows_the_notice_and_needs_the_agreement(page, live_server, cast):
    _verified(page, live_server, "13700000001")
    page.goto(f"{live_server.url}/orders/village/{cast.point.pk}/")
    page.get_by_label("需求说明").fill("想请剧团来村里演一场花灯戏。")
    page.get_by_label("联系人").fill("王村长")
    step(page, "privacy-order-form")
    assert no_horizontal_scroll(page)
    _notice_then_agree(page, "提交点单", "privacy-order")
    page.wait_for_url("**/orders/D*/?t=*")
    assert Order.objects.get().consent_version == settings.PRIVACY_NOTICE_VERSION
    assert not Order.objects.filter(consent_version="").exists()


def test_the_privacy_page_reads_on_a_phone(page, live_server):
    page.goto(f"{live_server.url}/privacy/")
    step(page, "privacy-page")
    assert page.get_by_role("heading", name="隐私政策").is_visible()
    assert settings.PRIVACY_NOTICE_VERSION in page.content()
    assert no_horizontal_scroll(page)
