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
    page.wait_for_function("() => document.getElementById('checked-count').innerText === '1'")
    assert "已签到:张三,2 人" in page.get_by_role("status").inner_text()
    assert no_horizontal_scroll(page)
    party.refresh_from_db()
    assert party.checked_in_at is not None
    assert Booking.objects.filter(checked_in_at__isnull=False).count() == 1


def test_the_scanner_reads_a_qr_photo_and_the_party_is_checked_in(
    page, live_server, cast, tmp_path
):
    """The path of a phone without a camera API (WeChat's browser on some phones): a photo of the
    resident's QR code, decoded by the vendored jsQR, finds the party; staff check it in."""
    import segno

    show = published_activity(
        cast.branch, capacity=10, start_in=timedelta(hours=2), title="花灯戏专场演出"
    )
    party = services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=2)
    picture = tmp_path / "booking-qr.png"
    # As the booking page draws it (activities.qr), with a quiet zone, photographed at 4 px a module.
    segno.make_qr(party.code, error="m").save(str(picture), scale=4, border=4)

    page.goto(live_server.url + "/admin/login/?next=/staff/checkin/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/staff/checkin/")
    page.goto(f"{live_server.url}/staff/checkin/{show.pk}/")
    assert page.evaluate("typeof window.jsQR") == "function"  # served from our static files
    assert no_horizontal_scroll(page)

    page.set_input_files("#scan-photo", str(picture))
    party_card = page.get_by_role("region", name="预约信息")
    party_card.wait_for()
    assert page.get_by_label("预约码").input_value() == party.code
    assert "张三" in party_card.inner_text()
    assert no_horizontal_scroll(page)

    party_card.get_by_role("button", name="签到").click()
    page.wait_for_function("() => document.getElementById('checked-count').innerText === '1'")
    party.refresh_from_db()
    assert party.checked_in_at is not None


def test_a_photo_without_a_qr_code_says_so_and_checks_nobody_in(page, live_server, cast, tmp_path):
    from PIL import Image

    show = published_activity(cast.branch, capacity=10, start_in=timedelta(hours=2))
    party = services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=2)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.goto(f"{live_server.url}/staff/checkin/{show.pk}/")
    page.set_input_files("#scan-photo", str(blank))
    alert = page.locator("#scan-error")
    alert.wait_for()
    assert "没有在照片中找到二维码" in alert.inner_text()
    party.refresh_from_db()
    assert party.checked_in_at is None


def test_staff_find_a_party_by_the_phones_last_digits(page, live_server, cast):
    show = published_activity(cast.branch, capacity=10, start_in=timedelta(hours=2))
    party = services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=2)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.goto(f"{live_server.url}/staff/checkin/{show.pk}/")
    page.get_by_label("按手机号码查找").fill("8000")
    page.get_by_role("button", name="查找预约").click()
    matches = page.get_by_role("region", name="按手机号码找到的预约")
    assert "138****8000" in matches.inner_text()
    assert no_horizontal_scroll(page)
    matches.get_by_role("button", name="为 张三 签到").click()
    page.wait_for_function("() => document.getElementById('checked-count').innerText === '1'")
    party.refresh_from_db()
    assert party.checked_in_at is not None


def _y4m_of(picture, path) -> None:
    """A still video in the YUV4MPEG2 format Chromium's fake camera plays: the picture as the
    luma plane, no colour."""
    from PIL import Image

    frame = Image.open(picture).convert("L")
    canvas = Image.new("L", (640, 480), 255)
    canvas.paste(frame, ((640 - frame.width) // 2, (480 - frame.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            f.write(b"FRAME\n" + canvas.tobytes() + chroma + chroma)


def test_the_camera_scanner_reads_the_code_from_live_frames(
    live_server, cast, tmp_path, monkeypatch
):
    """The camera path (getUserMedia, frames drawn on a canvas, jsQR): Chromium's fake camera
    shows the resident's QR code, and the scan finds the party."""
    import segno
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, PHONE
    from tests.conftest import need_chromium

    executable = need_chromium()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    show = published_activity(cast.branch, capacity=10, start_in=timedelta(hours=2))
    party = services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=2)
    picture = tmp_path / "qr.png"
    segno.make_qr(party.code, error="m").save(str(picture), scale=8, border=4)
    video = tmp_path / "camera.y4m"
    _y4m_of(picture, video)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN")
            context.set_default_timeout(15_000)
            context.grant_permissions(["camera"], origin=live_server.url)
            page = context.new_page()
            page.goto(live_server.url + "/admin/login/")
            page.fill("#id_username", "branch_staff")
            page.fill("#id_password", cast.password)
            page.locator("input[type=submit]").click()
            page.wait_for_url("**/admin/")
            page.goto(f"{live_server.url}/staff/checkin/{show.pk}/")
            page.get_by_role("button", name="扫码").click()
            party_card = page.get_by_role("region", name="预约信息")
            party_card.wait_for()
            assert "张三" in party_card.inner_text()
            assert page.get_by_label("预约码").input_value() == party.code
        finally:
            browser.close()
