"""The big screen on a 1920×1080 wall display and on a phone, and the home page's 待办 at
1280 px and 375 px, in real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Activity
from activities.orders.models import Order
from evaluation.scoring import services as scoring
from portal.services import screen_link_reset, screen_token
from tests.activities.factories import published_activity

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def _network(cast):
    for i in range(8):
        activity = published_activity(cast.branch, capacity=20, title=f"社区文艺展演第{i + 1}场")
        when = timezone.localtime().replace(hour=23, minute=0) + timedelta(days=i % 3)
        Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=1))
    year = timezone.localtime().year - 1
    scheme = scoring.scheme_create(year=year)
    dimension = scheme.dimensions.exclude(source="satisfaction").order_by("order").first()
    for hall in (cast.branch, cast.other_branch):
        scoring.score_set(dimension=dimension, hall=hall, points=3, by=cast.superuser)


def test_the_big_screen_fills_a_wall_display_without_scrollbars(page, live_server, cast):
    _network(cast)
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    errors = _watch_errors(page)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/screen/{screen_token(link)}/")
    assert page.locator("h1").inner_text().startswith("官渡区文化馆")
    assert page.locator(".upcoming li").count() == 6
    assert page.locator("svg.chart").count() == 2
    width, height = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert width <= 1920 and height <= 1080
    # Every card shows whole inside the screen.
    for i in range(page.locator(".card").count()):
        box = page.locator(".card").nth(i).bounding_box()
        assert box["y"] + box["height"] <= 1080 and box["x"] + box["width"] <= 1920
    # The clock runs from the static script (no inline script), in the hall's time.
    clock = page.locator("#screen-clock").inner_text()
    assert clock == timezone.localtime().strftime("%Y-%m-%d %H:%M") or clock[:10] == str(
        timezone.localdate()
    )
    # Refreshing swaps in new figures without reloading the page.
    assert errors == []

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("width", [1280, 375])
def test_the_todo_shows_the_pending_work_at_each_width(page, live_server, cast, width):
    _network(cast)
    Order.objects.create(
        code="LATE1",
        point=cast.point,
        handler=cast.branch,
        name="王五",
        phone="13900000001",
        description="点单",
        respond_by=timezone.now() - timedelta(hours=3),
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "county_director")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    errors = _watch_errors(page)
    page.reload()
    todo = page.locator("#portal-todo")
    assert todo.locator("[data-todo='orders_overdue'] .count").inner_text() == str(
        Order.objects.filter(status="submitted", respond_by__lt=timezone.now()).count()
    )
    assert todo.locator("[data-todo='activities_today'] .count").inner_text() == "3"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == 1280:
        # The figures use the page: the charts stand side by side.
        boxes = [page.locator(".chart-card").nth(i).bounding_box() for i in range(3)]
        assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]
        assert page.locator("#portal-dashboard").bounding_box()["width"] > 1000
    page.locator("[data-todo='orders_overdue'] a").click()
    page.wait_for_load_state()
    assert "LATE1" in page.locator("#result_list").inner_text()
    page.goto(f"{live_server.url}/admin/")
    page.locator("a.screen-link").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("官渡区文化馆")
    assert errors == []


def test_the_screen_refreshes_itself_and_keeps_its_figures_offline(
    page, live_server, cast, monkeypatch
):
    import portal.views

    monkeypatch.setattr(portal.views, "SCREEN_REFRESH_SECONDS", 1)
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/screen/{screen_token(link)}/")
    assert page.locator("[data-figure='today'] strong").inner_text() == "0"
    activity = published_activity(cast.branch, capacity=20, title="新排的演出")
    when = timezone.localtime().replace(hour=23, minute=0)
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=1))
    page.wait_for_function(
        "() => document.querySelector(\"[data-figure='today'] strong\").textContent === '1'",
        timeout=10_000,
    )
    assert "新排的演出" in page.locator(".upcoming").inner_text()
    # The network goes down: the last figures stay, with a note; the charts need nothing
    # from outside (drawn by the server as SVG, the script and styles from /static/).
    page.context.set_offline(True)
    page.wait_for_selector("#screen-offline:not([hidden])", timeout=10_000)
    assert page.locator("[data-figure='today'] strong").inner_text() == "1"
    assert page.locator("svg.chart").count() >= 1
    page.context.set_offline(False)
