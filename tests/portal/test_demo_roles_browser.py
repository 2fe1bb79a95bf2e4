"""Each role of the demo opens the admin at 1280 px and 375 px: its 待办 shows the demo's
pending work with the counts the database holds, the page fits the width, and the big screen
opens on the scope."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from activities.orders.models import Order
from evaluation.returns.models import ReturnStatus, ServiceReturn
from network.models import Hall
from portal.todo import todo_for

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser

ROLES = [
    "admin",
    "centre_director",
    "city_official",
    "guandu_director",
    "guandu_official",
    "guanshang_head",
    "village_manager",
]


def _log_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Demo@2026")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_every_demo_role_sees_its_pending_work_at_both_widths(
    page, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    users = get_user_model().objects
    guandu = Hall.objects.get(name="官渡区文化馆")
    # Counted straight from the tables, not through the selectors the page uses.
    below_guandu = ServiceReturn.objects.filter(
        status=ReturnStatus.SUBMITTED,
        hall__tree_id=guandu.tree_id,
        hall__lft__gt=guandu.lft,
        hall__rght__lt=guandu.rght,
    ).count()
    overdue_guandu = Order.objects.filter(
        status="submitted",
        respond_by__lt=timezone.now(),
        handler__tree_id=guandu.tree_id,
        handler__lft__gte=guandu.lft,
        handler__rght__lte=guandu.rght,
    ).count()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        for username in ROLES:
            _log_in(page, live_server, username)
            shown = {
                item.get_attribute("data-todo"): int(item.locator(".count").inner_text())
                for item in page.locator("#portal-todo [data-todo]").all()
            }
            expected = {item.key: item.count for item in todo_for(users.get(username=username))}
            assert shown == expected, (username, width)
            if not expected:
                assert "目前没有待办事项。" in page.locator("#portal-todo").inner_text()
            if username == "guandu_director":
                assert shown.get("returns_review_service", 0) == below_guandu > 0
                assert shown.get("orders_overdue", 0) == overdue_guandu
            if username.endswith("official"):
                assert not any(
                    key.startswith(("orders_", "returns_", "dispatch_")) for key in shown
                )
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (username, width)
    # The director's big screen at the wall display's size, no scrollbars.
    page.set_viewport_size({"width": 1920, "height": 1080})
    _log_in(page, live_server, "guandu_director")
    page.goto(f"{live_server.url}/screen/")
    assert page.locator("h1").inner_text().startswith("官渡区文化馆")
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= 1920 and size[1] <= 1080
