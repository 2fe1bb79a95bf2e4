"""Every public page, in Chromium at 375 px, checked by axe-core (vendored from the npm registry
in tests/vendor/axe-core, never served): no serious or critical violation. Also what axe cannot
see: every focusable thing shows a focus ring."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.digital.models import Kind
from activities.models import Booking
from activities.orders import services as order_services
from activities.orders.views import ORDER_LINK
from activities.views import BOOKING_LINK
from network import services as network_services
from tests.activities.digital.factories import published as digital_published
from tests.activities.factories import published_activity
from tests.activities.venues.factories import make_venue
from tests.conftest import resident_cookie, verify_phone

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser

# axe-core is injected as a script tag, which the site's Content-Security-Policy refuses.
BYPASS_CSP = True
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def public_pages(cast) -> list[tuple[str, str]]:
    """(name, address) of each public page, with the data that makes it show what it can."""
    hall = network_services.hall_update(
        hall=cast.branch,
        address="昆明市官渡区关上中路 1 号",
        latitude=Decimal("24.990000"),
        longitude=Decimal("102.740000"),
        opening_hours="暑期延长至 21:30",
    )
    network_services.opening_hours_set_week(
        halls=[hall],
        week={day: [(time(9), time(17))] for day in range(6)},
    )
    activity = published_activity(
        hall, title="花灯戏专场演出", venue="二楼多功能厅", description="昆明花灯经典剧目选段。"
    )
    booking = activity_services.booking_create(
        activity_id=activity.pk, name="张三", phone="13800138000", seats=2
    )
    notice = activity_services.notice_create(
        hall=hall,
        title="国庆开放时间调整",
        body="10 月 1 日至 7 日闭馆。",
        published_at=timezone.now(),
    )
    order = order_services.order_create(
        point_id=cast.point.pk, name="李四", phone="13900139000", description="想请老师来教广场舞。"
    )
    video = digital_published(hall, title="花灯基本功", summary="第一课。", tags="花灯,慕课")
    book = digital_published(hall, Kind.BOOK, "滇剧入门", file="demo-book.pdf")
    venue = make_venue(hall, name="二楼排练厅", equipment="音响、镜子", rules="请穿软底鞋。")
    return [
        ("home", "/"),
        ("hall list", "/halls/"),
        ("hall search", "/halls/search/?q=关上"),
        ("hall detail", f"/halls/{hall.pk}/"),
        ("village detail", f"/halls/{cast.point.pk}/"),
        ("activity list", "/activities/"),
        ("activity detail", f"/activities/{activity.pk}/"),
        ("booking lookup", "/bookings/lookup/"),
        ("booking detail", BOOKING_LINK.url(booking.code)),
        ("notice list", "/notices/"),
        ("notice detail", f"/notices/{notice.pk}/"),
        ("order pick", "/orders/"),
        ("order lookup", "/orders/lookup/"),
        ("order village", f"/orders/village/{cast.point.pk}/"),
        ("order detail", ORDER_LINK.url(order.code)),
        ("survey", f"/survey/{hall.pk}/"),
        ("resources", "/resources/"),
        ("venue list", "/venues/"),
        ("venue week", f"/venues/{venue.pk}/"),
        ("reservation lookup", "/venues/reservations/lookup/"),
        ("verify phone", "/residents/verify/?next=/me/"),
        ("me, not verified", "/me/"),
        ("digital list", "/digital/"),
        ("digital video", f"/digital/{video.pk}/"),
        ("digital book", f"/digital/{book.pk}/"),
        ("not found", "/no-such-page/"),
    ]


def violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )


def blocking_violations(page) -> list[dict]:
    return [v for v in violations(page) if v["impact"] in BLOCKING]


def test_every_public_page_passes_axe(page, live_server, cast):
    found = {}
    for name, address in public_pages(cast):
        response = page.goto(live_server.url + address)
        assert response is not None and response.status in (200, 404), (name, response.status)
        violations = blocking_violations(page)
        if violations:
            found[f"{name} ({address})"] = violations
    # The same browser, verified: the booking form with its phone, 我的 and its cancel step.
    cookie = resident_cookie(verify_phone("13800138000"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    booking = Booking.objects.get(phone="13800138000")
    for name, address in [
        ("me, verified", "/me/"),
        ("me, cancel step", f"/me/bookings/{booking.code}/cancel/"),
        ("activity, verified", f"/activities/{booking.activity_id}/"),
    ]:
        response = page.goto(live_server.url + address)
        assert response is not None and response.status == 200, (name, response.status)
        violations = blocking_violations(page)
        if violations:
            found[f"{name} ({address})"] = violations
    report = "\n".join(
        f"{where}:\n"
        + "\n".join(
            f"  [{v['impact']}] {v['id']}: {v['help']} — {v['nodes']}" for v in found[where]
        )
        for where in found
    )
    assert not found, f"axe-core found serious or critical violations:\n{report}"


def test_the_checker_finds_what_it_should(page, live_server, cast):
    """A page with a known fault: an unlabelled field and low-contrast text are reported."""
    page.goto(live_server.url + "/halls/")
    page.evaluate(
        "() => { const i = document.createElement('input'); document.querySelector('main')"
        ".append(i); const p = document.createElement('p'); p.textContent = '浅色文字';"
        " p.style.color = '#ddd'; document.querySelector('main').append(p); }"
    )
    ids = {v["id"] for v in blocking_violations(page)}
    assert {"label", "color-contrast"} <= ids, ids


def test_links_buttons_and_fields_show_a_focus_ring(page, live_server, cast):
    activity = published_activity(cast.branch, title="花灯戏专场演出")
    page.goto(f"{live_server.url}/activities/{activity.pk}/")
    unringed = []
    for _ in range(25):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            "() => { const e = document.activeElement; if (!e || e === document.body) return null;"
            " const s = getComputedStyle(e);"
            " return {tag: e.tagName, text: (e.innerText || e.name || '').slice(0, 20),"
            " ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"
        )
        if ring and not ring["ring"]:
            unringed.append(ring)
    assert not unringed, f"focused without a visible outline: {unringed}"


def test_the_check_in_page_passes_axe(page, live_server, cast):
    """Not public, but staff use it on a phone at the door: the scanner, the photo input and the
    phone search are labelled and readable too."""
    activity = published_activity(cast.branch, title="花灯戏专场演出")
    activity_services.booking_create(
        activity_id=activity.pk, name="张三", phone="13800138000", seats=2
    )
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    found = {}
    for name, address in [
        ("index", "/staff/checkin/"),
        ("activity", f"/staff/checkin/{activity.pk}/"),
        ("phone search", f"/staff/checkin/{activity.pk}/?phone=8000"),
        ("bad phone", f"/staff/checkin/{activity.pk}/?phone=12"),
    ]:
        page.goto(live_server.url + address)
        if violations := blocking_violations(page):
            found[name] = violations
    assert not found, f"axe-core found serious or critical violations: {found}"
