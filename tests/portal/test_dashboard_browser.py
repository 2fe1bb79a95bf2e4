"""The admin home page's charts and a printed report's charts in real Chromium."""

from __future__ import annotations

import pytest

from evaluation.reports import services as report_services
from evaluation.scoring import services as scoring
from tests.activities.factories import published_activity

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


def _log_in(page, live_server, username, password):
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_the_dashboard_and_a_printed_report_draw_their_charts(
    page, live_server, cast, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    published_activity(cast.branch, capacity=10)
    scoring.scheme_create(year=2025)
    run, _ = report_services.report_run_build(
        kind="quarterly", period="2026Q3", hall_id=cast.county.pk, worker="browser-test"
    )
    _log_in(page, live_server, "county_director", cast.password)
    # From here on: the login page is Django's own (and asks for a favicon nobody serves).
    errors = _watch_errors(page)
    page.reload()
    board = page.locator("#portal-dashboard")
    assert "官渡区文化馆" in board.locator("h2.scope").inner_text()
    charts = board.locator("svg.chart")
    assert charts.count() == 3
    assert board.locator("svg.chart polyline.line").count() == 1
    assert board.locator("svg.chart rect.bar").count() >= 12
    box = charts.first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50
    # Each chart stays inside its card (the card's padding and border are not the chart's).
    for i in range(charts.count()):
        chart = charts.nth(i).bounding_box()
        card = board.locator(".chart-card").nth(i).bounding_box()
        assert card["x"] < chart["x"] and chart["x"] + chart["width"] < card["x"] + card["width"]
    # The app list is still below the dashboard.
    assert page.locator("#content-main .app-evaluation").count() == 1

    page.goto(f"{live_server.url}/admin/reports/reportrun/{run.pk}/print/")
    assert page.locator("h1").inner_text() == "官渡区文化馆 2026Q3 季度报告"
    assert page.locator("section svg.chart").count() >= 5
    assert page.locator("#section-categories svg rect.bar").count() == 14
    page.emulate_media(media="print")
    assert not page.locator(".tools").is_visible()
    assert errors == []
