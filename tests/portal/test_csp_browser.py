"""The key pages run in a real Chromium under the site's Content-Security-Policy without a
single violation: their scripts come from static files and do their work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities import services
from tests.activities.factories import published_activity
from tests.activities.venues.factories import make_venue

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser

# Registered before any of the page's own scripts run; CDP injects it, so the policy allows it.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile
    + ":" + e.lineNumber);
});
"""


def violations(page, console: list[str]) -> list[str]:
    return page.evaluate("window.__csp || []") + [
        text for text in console if "Content Security Policy" in text
    ]


def test_the_key_pages_run_without_policy_violations(page, live_server, cast):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(LISTEN)
    show = published_activity(
        cast.branch, capacity=10, start_in=timedelta(hours=2), title="花灯戏专场演出"
    )
    services.booking_create(activity_id=show.pk, name="张三", phone="13800138000", seats=1)
    venue = make_venue(cast.branch, name="二楼排练厅")
    seen = {}

    def visit(name: str, address: str) -> None:
        response = page.goto(live_server.url + address)
        assert response.status == 200, (name, response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        seen[name] = violations(page, console)
        console.clear()

    # The booking page: its share script binds the link (the handler it used to have inline).
    visit("booking page", f"/activities/{show.pk}/")
    assert page.locator("[data-share]").first.get_attribute("data-share-bound") == "1"
    visit("verify page", "/residents/verify/?next=/me/")
    visit("venue week grid", f"/venues/{venue.pk}/")
    # The activity list's county filter submits itself on change (static/js/area.js).
    visit("activity list", "/activities/")

    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "branch_staff")
    page.fill("#id_password", cast.password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    seen["admin login"] = violations(page, console)
    console.clear()
    visit("admin dashboard", "/admin/")
    assert (
        page.locator("#portal-dashboard .figures").evaluate("el => getComputedStyle(el).display")
        == "grid"
    )  # the dashboard's stylesheet, now a static file, applies
    # An admin form with a hall autocomplete (select2) and date shortcuts, opened.
    visit("admin activity form", "/admin/activities/activity/add/")
    page.locator(".select2-selection").first.click()
    page.wait_for_selector(".select2-results")
    seen["admin activity form"] += violations(page, console)
    console.clear()
    # The check-in scanner page: its script shows the scan button, or the note to type.
    visit("check-in scanner", f"/staff/checkin/{show.pk}/")
    assert page.locator("#scan").is_visible() or page.locator("#scan-note").is_visible()
    # A course's sessions and roll-call page, and the big screen with its refresh script.
    visit("course sessions", f"/admin/activities/activity/{show.pk}/sessions/")
    visit("big screen", "/screen/")
    visit("order page", "/orders/")

    assert all(not found for found in seen.values()), seen


def test_an_inline_script_would_be_caught(page, live_server, cast):
    """The check above can fail: a script the page adds inline is refused and reported."""
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(LISTEN)
    page.goto(live_server.url + "/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === true") is False
    assert violations(page, console)
