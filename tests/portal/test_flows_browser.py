"""The flows that used to dead-end, walked in Chromium at 1280 px and 375 px: a new activity
published from its own page, a return reviewed with its buttons above 关闭, an official's
refused step that says why, the scores page on the latest year with a scheme."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Activity
from evaluation.returns import services as return_services
from evaluation.returns.models import ReturnKind
from evaluation.scoring import services as scoring
from tests.evaluation.factories import open_window

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def _log_in(page, live_server, username, password):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def _fits(page, width) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 375])
def test_the_flows_complete(page, live_server, cast, width):
    page.set_viewport_size({"width": width, "height": 900})
    year = timezone.localtime().year
    open_window(ReturnKind.SERVICE, year)
    annual = return_services.return_get_or_create(
        kind=ReturnKind.SERVICE, hall=cast.branch, year=year
    )
    return_services.return_submit(
        kind=ReturnKind.SERVICE, annual_return=annual, by=cast.branch_staff
    )
    scoring.scheme_create(year=year - 1)

    # A new activity: saved as a draft, said so, published from its own page.
    _log_in(page, live_server, "branch_staff", cast.password)
    page.goto(f"{live_server.url}/admin/activities/activity/add/?hall={cast.branch.pk}")
    page.fill("#id_title", "非遗讲座")
    page.select_option("#id_category", "lecture")
    start = timezone.localtime() + timedelta(days=10)
    page.fill("#id_start_0", start.strftime("%Y-%m-%d"))
    page.fill("#id_start_1", "14:00:00")
    page.fill("#id_end_0", start.strftime("%Y-%m-%d"))
    page.fill("#id_end_1", "16:00:00")
    page.fill("#id_capacity", "30")
    page.fill("#id_max_seats_per_booking", "2")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert "已保存为草稿" in page.locator(".messagelist").inner_text()
    assert _fits(page, width)
    page.locator("#activity-publish-button").click()
    page.wait_for_load_state()
    assert "已发布" in page.locator(".messagelist").inner_text()
    assert Activity.objects.get(title="非遗讲座").status == Activity.Status.PUBLISHED

    # The county reviews the branch's return: the buttons come before 关闭.
    _log_in(page, live_server, "county_director", cast.password)
    page.goto(f"{live_server.url}/admin/returns/servicereturn/{annual.pk}/change/")
    approve = page.get_by_role("button", name="审核通过").bounding_box()
    close = page.locator(".submit-row").last.bounding_box()
    assert approve["y"] < close["y"]
    assert page.get_by_role("heading", name="报送与审核").count() == 1
    assert _fits(page, width)
    page.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    annual.refresh_from_db()
    assert annual.status == "approved"

    # The scores page opens on last year, which has the scheme.
    page.goto(f"{live_server.url}/admin/scoring/inspection/scores/")
    assert str(year - 1) in page.locator("h1").inner_text()

    # An official's refused step says why, with a way back.
    _log_in(page, live_server, "county_official", cast.password)
    page.goto(f"{live_server.url}/admin/activities/activity/add/")
    assert "文化和旅游局官员" in page.locator("#content").inner_text()
    assert page.get_by_role("link", name="返回管理首页").count() == 1
    assert _fits(page, width)
