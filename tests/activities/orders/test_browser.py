"""A resident on a 375 px phone picks a village, orders a menu item, lands on the order's page,
and later looks it up by phone and code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Category
from activities.orders.models import MenuItem, Order
from tests.browser import step
from tests.conftest import resident_cookie, verify_phone

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def test_resident_orders_a_menu_item_and_looks_it_up(page, live_server, cast):
    item = MenuItem.objects.create(
        hall=cast.county,
        category=Category.PERFORMANCE,
        title="花灯戏送戏下乡",
        description="官渡区花灯剧团到村演出一场,约 90 分钟,需要一块平整的场地。",
        lead_days=14,
        monthly_limit=1,
    )
    MenuItem.objects.create(hall=cast.branch, category=Category.TRAINING, title="广场舞辅导")
    MenuItem.objects.create(hall=cast.other_county, category=Category.LECTURE, title="五华区讲座")

    # The resident's browser has verified the phone (tests/activities/residents walks the page).
    cookie = resident_cookie(verify_phone("13700000001"))
    page.context.add_cookies([{"name": "resident", "value": cookie, "url": live_server.url}])
    page.goto(live_server.url + "/orders/")
    step(page, "order-1-pick")
    page.get_by_label("县(区)").select_option(label="官渡区")
    page.wait_for_url("**/orders/?*county=*")
    page.get_by_label("乡镇(街道)").select_option(label="关上街道")
    page.wait_for_url("**township=*")
    page.get_by_label("村(社区)", exact=True).select_option(label="关上一社区")
    step(page, "order-2-picked")
    page.get_by_role("button", name="查看服务菜单").click()
    page.wait_for_url(f"**/orders/village/{cast.point.pk}/")
    step(page, "order-3-menu")
    titles = page.locator(".menu-title").all_inner_texts()
    assert titles == ["广场舞辅导", "花灯戏送戏下乡"]

    page.locator(".menu-card", has_text="花灯戏送戏下乡").get_by_role("link", name="点这项").click()
    page.wait_for_url(f"**/orders/village/{cast.point.pk}/?item={item.pk}#order")
    assert page.get_by_label("点什么").input_value() == str(item.pk)
    # The card says the village's monthly allowance; the date picker starts after the lead days
    # and follows the chosen item (static/js/orders.js).
    card = page.locator(".menu-card", has_text="花灯戏送戏下乡")
    assert "本村本月还可点 1 次" in card.inner_text()
    today = timezone.localdate()
    date = page.get_by_label("希望日期")
    assert date.get_attribute("min") == (today + timedelta(days=14)).isoformat()
    page.get_by_label("点什么").select_option(label="广场舞辅导(关上街道综合文化站)")
    assert date.evaluate("e => e.min") == (today + timedelta(days=7)).isoformat()
    page.get_by_label("点什么").select_option(str(item.pk))
    assert date.evaluate("e => e.min") == (today + timedelta(days=14)).isoformat()
    page.get_by_label("需求说明").fill("国庆期间想请剧团来村里演一场,预计 200 人观看。")
    page.get_by_label("联系人").fill("王村长")
    assert page.get_by_label("手机号码").input_value() == "13700000001"  # the verified one
    # Too soon for a 14-day lead time: the form says so and keeps what was typed.
    soon = timezone.localdate() + timedelta(days=3)
    page.get_by_label("希望日期").fill(soon.isoformat())
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="提交点单").click()
    page.wait_for_load_state()
    step(page, "order-4-too-soon")
    assert "须提前 14 天" in page.locator(".has-error").inner_text()
    assert page.get_by_label("联系人").input_value() == "王村长"
    later = timezone.localdate() + timedelta(days=20)
    page.get_by_label("希望日期").fill(later.isoformat())
    page.get_by_role("button", name="提交点单").click()
    page.wait_for_url("**/orders/D*/?t=*")
    step(page, "order-5-status")

    order = Order.objects.get()
    assert order.item == item and order.handler == cast.county
    assert page.locator(".code").inner_text() == order.code
    assert page.locator(".order-status").inner_text() == "已提交"
    assert "官渡区文化馆" in page.locator(".facts").inner_text()
    assert "点单人" in page.locator(".timeline").inner_text()

    # Later: through the nav, the lookup by phone and code.
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="点单").click()
    page.get_by_role("link", name="已经点过单?查询进度").click()
    page.wait_for_url("**/orders/lookup/")
    step(page, "order-6-lookup")
    page.get_by_label("手机号码").fill("13700000001")
    page.get_by_label("订单号").fill("DWRONG22")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "订单号与手机号码不匹配" in page.locator(".form-errors").inner_text()
    page.get_by_label("订单号").fill(order.code.lower())
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/orders/{order.code}/?t=*")
    step(page, "order-7-found")
    assert page.locator(".code").inner_text() == order.code
