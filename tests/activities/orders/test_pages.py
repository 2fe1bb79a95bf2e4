"""The residents' order pages: pick a village, its menus, ordering, the signed status page, lookup
and rating; every bad input, CSRF, rate limits and query counts."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from activities.models import Category
from activities.orders import services, views
from activities.orders.models import MenuItem, Order
from common.cache import ProcessMemory
from network import services as network_services
from tests.conftest import verify_client

pytestmark = pytest.mark.django_db

PICK = "/orders/"
LOOKUP = "/orders/lookup/"


def village_url(point) -> str:
    return f"/orders/village/{point.pk}/"


def main(response) -> str:
    html = response.content.decode()
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def menu_item(hall, **fields) -> MenuItem:
    defaults = {"category": Category.TRAINING, "title": "广场舞辅导", "lead_days": 7}
    return MenuItem.objects.create(hall=hall, **{**defaults, **fields})


def post_order(client, point, **fields):
    data = {
        "item": "",
        "name": "王村长",
        "phone": "13700000001",
        "description": "村里想办一期广场舞培训,约 40 人",
        "preferred_date": "",
    }
    data.update(fields)
    return client.post(village_url(point), data)


def place(cast, **fields) -> Order:
    defaults = {
        "point_id": cast.point.pk,
        "name": "王村长",
        "phone": "13700000001",
        "description": "村里想办一期广场舞培训",
    }
    return services.order_create(**{**defaults, **fields})


def detail(order) -> str:
    return views.ORDER_LINK.url(order.code)


# --- Picking a village ---------------------------------------------------------------------------


def test_the_pick_page_narrows_county_township_village_and_goes_to_the_menu(client, cast):
    page = client.get(PICK)
    html = main(page)
    assert page.status_code == 200
    assert "官渡区" in html and "五华区" in html
    assert 'id="id_township"' not in html

    html = main(client.get(PICK, {"county": cast.county.pk}))
    assert "关上街道" in html and "太和街道" in html and "华山街道" not in html
    assert 'id="id_point"' not in html

    html = main(client.get(PICK, {"county": cast.county.pk, "township": cast.branch.pk}))
    assert "关上一社区" in html and "关上二社区" in html and "太和一社区" not in html

    response = client.get(
        PICK, {"county": cast.county.pk, "township": cast.branch.pk, "point": cast.point.pk}
    )
    assert response.status_code == 302 and response["Location"] == village_url(cast.point)


@pytest.mark.parametrize(
    "params",
    [
        {"county": "abc"},
        {"county": "99999999999999999999"},
        {"county": "-1"},
        {"county": "county", "township": "x"},
        {"county": "county", "township": "other_county_branch"},
        {"county": "county", "township": "branch", "point": "other_branch_point"},
        {"q": "长" * 500},
    ],
)
def test_bad_picks_are_form_errors_never_500(client, cast, params):
    params = {k: (getattr(cast, v).pk if hasattr(cast, v) else v) for k, v in params.items()}
    response = client.get(PICK, params)
    assert response.status_code == 200
    html = main(response)
    if "q" not in params:
        assert 'class="errorlist"' in html


@pytest.mark.parametrize(
    "params", [{"county": "1", "township": "2", "point": "\x00"}, {"q": "\x00"}]
)
def test_a_nul_byte_in_a_pick_is_a_400_that_says_so(client, cast, params):
    # Issue 15: one guard for the whole site (common.middleware) answers it before the view.
    response = client.get(PICK, params)
    assert response.status_code == 400 and "空字符" in response.content.decode()


def test_search_finds_villages_by_name_with_their_area(client, cast):
    html = main(client.get(PICK, {"q": "关上"}))
    assert "关上一社区服务中心" in html and "关上二社区服务中心" in html
    assert "官渡区 · 关上街道" in html
    assert f'href="{village_url(cast.point)}"' in html
    assert "太和一社区" not in html
    assert "没有找到" in main(client.get(PICK, {"q": "不存在的村"}))


def test_the_pick_page_costs_the_same_whatever_the_network(client, cast, django_assert_num_queries):
    params = {"county": cast.county.pk, "township": cast.branch.pk}
    # counties, townships, points (the session is not touched by an anonymous GET)
    with django_assert_num_queries(3):
        client.get(PICK, params)
    for i in range(20):
        network_services.hall_create(parent=cast.branch, name=f"新村{i}", locality=f"新村{i}")
    # Each process keeps the counties a minute (activities.selectors.area_counties): one
    # query fewer.
    with django_assert_num_queries(2):
        assert "新村19" in main(client.get(PICK, params))
    ProcessMemory.clear_all()
    with django_assert_num_queries(3):
        assert "新村19" in main(client.get(PICK, params))
    with django_assert_num_queries(1):
        assert "新村19" in main(client.get(PICK, {"q": "新村"}))


# --- A village's menu ----------------------------------------------------------------------------


def test_the_village_shows_the_menus_of_the_halls_above_it_only(client, cast):
    menu_item(cast.branch, title="分馆的广场舞辅导", monthly_limit=2)
    menu_item(cast.county, title="总馆的花灯戏送戏", category=Category.PERFORMANCE, lead_days=14)
    menu_item(cast.centre, title="中心馆的非遗展览", category=Category.EXHIBITION)
    menu_item(cast.point, title="本村的读书会", category=Category.READING)
    menu_item(cast.other_branch, title="太和分馆的书法课")
    menu_item(cast.other_county, title="五华区的讲座")
    menu_item(cast.branch, title="停了的服务", active=False)
    menu_item(cast.branch, title="只给服务点的", orderers=MenuItem.Orderers.POINTS)

    response = client.get(village_url(cast.point))
    html = main(response)
    assert response.status_code == 200
    for title in ("分馆的广场舞辅导", "总馆的花灯戏送戏", "中心馆的非遗展览", "本村的读书会"):
        assert title in html
    for title in ("太和分馆的书法课", "五华区的讲座", "停了的服务"):
        assert title not in html
    assert "需提前 14 天" in html and "每村每月限 2 次" in html
    # A points-only item is listed, but a resident cannot pick it.
    assert "仅限基层服务点" in html
    choices = dict(response.context["form"].fields["item"].choices)
    assert "只给服务点的(关上街道综合文化站)" not in choices.values()
    assert len(choices) == 5  # four items + the free request
    # Nearest hall first: the village's own, then branch, county, centre.
    assert (
        html.index("本村的读书会") < html.index("分馆的广场舞辅导") < html.index("中心馆的非遗展览")
    )


@pytest.mark.parametrize("target", ["branch", "county", "centre"])
def test_only_village_points_take_orders(client, cast, target):
    assert client.get(village_url(getattr(cast, target))).status_code == 404


def test_an_unknown_village_is_404(client, cast):
    assert client.get("/orders/village/999999/").status_code == 404
    assert client.get("/orders/village/99999999999999999999/").status_code == 404


def test_the_village_page_costs_the_same_whatever_the_menu(client, cast, django_assert_num_queries):
    menu_item(cast.branch)
    # The point with its chain, the menu, this month's orders per item (the monthly limits).
    with django_assert_num_queries(3):
        client.get(village_url(cast.point))
    for i in range(15):
        menu_item(cast.county, title=f"服务{i}", monthly_limit=2)
        place(cast, item_id=MenuItem.objects.get(title=f"服务{i}").pk)
    with django_assert_num_queries(3):
        assert "服务14" in main(client.get(village_url(cast.point)))


# --- Ordering ------------------------------------------------------------------------------------


def test_a_resident_orders_a_menu_item_and_lands_on_the_signed_status_page(client, cast):
    item = menu_item(cast.county, title="花灯戏送戏下乡", lead_days=7)
    page = client.get(village_url(cast.point), {"item": item.pk})
    assert page.context["form"]["item"].value() == item.pk
    when = (timezone.localdate() + timedelta(days=20)).isoformat()
    response = post_order(client, cast.point, item=item.pk, preferred_date=when)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.item == item and order.handler == cast.county
    assert order.requested_by is None
    url = urlparse(response["Location"])
    assert url.path == f"/orders/{order.code}/"
    assert parse_qs(url.query)["t"] == [views.ORDER_LINK.token(order.code)]

    html = main(client.get(response["Location"]))
    assert order.code in html and "已提交" in html
    assert "花灯戏送戏下乡" in html and "官渡区文化馆" in html
    assert "137****0001" in html and "13700000001" not in html
    assert "提交点单" in html and "点单人" in html


def test_a_free_request_goes_to_the_branch(client, cast):
    response = post_order(client, cast.point)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.item is None and order.handler == cast.branch
    assert "其他需求(不在菜单上)" in main(client.get(response["Location"]))


def test_the_status_page_needs_its_token(client, cast):
    order = place(cast)
    path = f"/orders/{order.code}/"
    assert client.get(path).status_code == 404
    assert client.get(path, {"t": "forged"}).status_code == 404
    other = place(cast, phone="13700000002")
    assert client.get(path, {"t": views.ORDER_LINK.token(other.code)}).status_code == 404
    # A code that does not exist answers the same 404.
    assert (
        client.get("/orders/DXXXXXXX/", {"t": views.ORDER_LINK.token("DXXXXXXX")}).status_code
        == 404
    )
    assert client.get(detail(order)).status_code == 200
    # Lower case in the address is the same order.
    lower = f"/orders/{order.code.lower()}/"
    assert client.get(lower, {"t": views.ORDER_LINK.token(order.code)}).status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": ""}, "name", "请填写联系人"),
        ({"name": "长" * 41}, "name", "最多 40 个字"),
        ({"phone": ""}, "phone", "请填写手机号码"),
        ({"phone": "12345"}, "phone", "11 位"),
        ({"phone": "138001380001"}, "phone", "11 位"),
        ({"description": ""}, "description", "请说明"),
        ({"description": "长" * 1001}, "description", "最多 1000 字"),
        ({"preferred_date": "2026-13-45"}, "preferred_date", "正确的日期"),
        ({"preferred_date": "2000-01-01"}, "preferred_date", "不能早于今天"),
        ({"item": "abc"}, "item", "不对本村开放"),
        ({"item": "999999"}, "item", "不对本村开放"),
        ({"item": "99999999999999999999"}, "item", "不对本村开放"),
        ({"name": "\x00"}, "name", ""),
    ],
)
def test_bad_orders_are_form_errors_and_save_nothing(client, cast, settings, fields, field, words):
    if field == "phone":
        # With verification required the phone is the verified one and cannot be typed: a
        # phone typed wrong is shown on the field when verification is off.
        settings.RESIDENT_VERIFICATION = "off"
    response = post_order(client, cast.point, **fields)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in str(errors[field])
    assert 'class="errorlist"' in main(response)
    assert not Order.objects.exists()


def test_the_service_rules_come_back_on_the_form(client, cast):
    item = menu_item(cast.branch, lead_days=10, monthly_limit=1)
    soon = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = post_order(client, cast.point, item=item.pk, preferred_date=soon)
    assert "须提前 10 天" in str(response.context["form"].errors["preferred_date"])
    assert post_order(client, cast.point, item=item.pk).status_code == 302
    response = post_order(client, cast.point, item=item.pk, phone="13700000002")
    assert "每月限量" in str(response.context["form"].errors["item"])
    assert Order.objects.count() == 1


def test_an_item_of_another_county_cannot_be_ordered_by_its_id(client, cast):
    elsewhere = menu_item(cast.other_county)
    response = post_order(client, cast.point, item=elsewhere.pk)
    assert "item" in response.context["form"].errors
    assert not Order.objects.exists()


def test_the_villages_own_staff_order_as_the_point(client, cast):
    points_only = menu_item(cast.branch, title="只给服务点的", orderers=MenuItem.Orderers.POINTS)
    client.force_login(cast.village_manager)
    page = client.get(village_url(cast.point))
    assert "以本服务点工作人员的身份" in main(page)
    assert post_order(client, cast.point, item=points_only.pk).status_code == 302
    order = Order.objects.get()
    assert order.requested_by == cast.village_manager
    # Staff of another hall order like anyone else.
    client.force_login(cast.branch_staff)
    response = post_order(client, cast.point, item=points_only.pk, phone="13700000002")
    assert "item" in response.context["form"].errors


def test_the_order_form_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    assert post_order(client, cast.point).status_code == 403
    assert not Order.objects.exists()


@override_settings(BOOKING_RATE_LIMIT_IP=3, BOOKING_RATE_LIMIT_PHONE=2)
def test_ordering_is_rate_limited_per_phone_and_per_address(client, cast):
    for _i in range(2):
        assert post_order(client, cast.point, description="").status_code == 200
    response = post_order(client, cast.point)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "操作太频繁" in main(response)
    assert not Order.objects.exists()
    # Another phone from the same address: the address's own limit (3) is reached next.
    response = post_order(client, cast.point, phone="13700000009")
    assert response.status_code == 429
    # Booking keeps its own budget.
    assert client.get("/bookings/lookup/").status_code == 200


# --- Lookup ----------------------------------------------------------------------------------------


def test_lookup_by_phone_and_code_redirects_to_the_signed_page(client, cast):
    order = place(cast)
    response = client.post(LOOKUP, {"phone": order.phone, "code": f" {order.code.lower()} "})
    assert response.status_code == 302 and response["Location"] == detail(order)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "13700000009", "code": "right"}, "__all__"),
        ({"phone": "13700000001", "code": "DNOPE234"}, "__all__"),
        ({"phone": "", "code": "right"}, "phone"),
        ({"phone": "1370000", "code": "right"}, "phone"),
        ({"phone": "13700000001", "code": ""}, "code"),
        ({"phone": "13700000001", "code": "D" * 40}, "code"),
    ],
)
def test_a_bad_lookup_says_so_and_names_no_one(client, cast, data, field):
    order = place(cast)
    data = {k: (order.code if v == "right" else v) for k, v in data.items()}
    response = client.post(LOOKUP, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if field == "__all__":
        assert "订单号与手机号码不匹配" in main(response)


@override_settings(BOOKING_RATE_LIMIT_IP=2)
def test_lookups_are_rate_limited_per_address(client, cast):
    for _i in range(2):
        client.post(LOOKUP, {"phone": "13700000001", "code": "DGUESS22"})
    assert client.post(LOOKUP, {"phone": "13700000001", "code": "DGUESS23"}).status_code == 429


# --- Following the order through, and rating ----------------------------------------------------


def test_the_status_page_shows_each_step_with_hall_and_role_never_a_username(client, cast):
    order = place(cast)
    services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=10)
    services.order_schedule(
        order=order,
        by_user=cast.branch_staff,
        title="广场舞培训(点单)",
        start=start,
        end=start + timedelta(hours=2),
        capacity=30,
        venue="村广场",
    )
    html = main(client.get(detail(order)))
    assert "已排期" in html
    assert "关上街道综合文化站 工作人员" in html
    assert "branch_staff" not in html
    assert "广场舞培训(点单)" in html and "村广场" in html
    order.refresh_from_db()
    assert f'href="/activities/{order.activity_id}/"' in html
    assert "评价这次服务" not in html


def test_an_escalation_shows_in_the_history(client, cast):
    order = place(cast)
    Order.objects.filter(pk=order.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    html = main(client.get(detail(order)))
    assert "已逾期" in html
    services.orders_escalate_overdue()
    html = main(client.get(detail(order)))
    assert "逾期上报" in html and "系统自动" in html and "自动上报至 官渡区文化馆" in html


def test_a_rejected_order_shows_the_reason(client, cast):
    order = place(cast)
    services.order_reject(order=order, by_user=cast.branch_staff, reason="场地维修,下月再办")
    html = main(client.get(detail(order)))
    assert "未受理" in html and "场地维修,下月再办" in html


def _done(cast) -> Order:
    order = place(cast)
    services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() - timedelta(days=10)
    services.order_schedule(
        order=order,
        by_user=cast.branch_staff,
        title="广场舞培训",
        start=start,
        end=start + timedelta(hours=2),
    )
    return services.order_complete(order=order, by_user=cast.branch_staff)


def test_the_resident_rates_a_done_order_once(client, cast):
    order = _done(cast)
    verify_client(client, order.phone)
    page = client.get(detail(order))
    assert "评价这次服务" in main(page)
    rate = f"/orders/{order.code}/rate/"
    token = views.ORDER_LINK.token(order.code)
    response = client.post(rate, {"t": token, "rating": "4", "comment": "老师很耐心"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.RATED and order.rating == 4
    html = main(client.get(response["Location"]))
    assert "感谢您的评价" in html and "★★★★☆" in html and "老师很耐心" in html
    assert "评价这次服务" not in html
    # Once only: a second rating is refused and changes nothing.
    response = client.post(rate, {"t": token, "rating": "1"})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.rating == 4


@pytest.mark.parametrize(
    "data",
    [
        {"rating": ""},
        {"rating": "6"},
        {"rating": "0"},
        {"rating": "x"},
        {"rating": "3", "comment": "长" * 501},
    ],
)
def test_a_bad_rating_is_a_form_error(client, cast, data):
    order = _done(cast)
    verify_client(client, order.phone)
    response = client.post(
        f"/orders/{order.code}/rate/", {"t": views.ORDER_LINK.token(order.code), **data}
    )
    assert response.status_code == 400
    assert response.context["rating_form"].errors
    order.refresh_from_db()
    assert order.status == Order.Status.DONE


def test_rating_needs_the_token_and_a_post(client, cast):
    order = _done(cast)
    rate = f"/orders/{order.code}/rate/"
    assert client.post(rate, {"rating": "5"}).status_code == 404
    assert client.get(rate, {"t": views.ORDER_LINK.token(order.code)}).status_code == 405
    order.refresh_from_db()
    assert order.status == Order.Status.DONE


def test_rating_before_the_service_is_done_is_refused(client, cast):
    order = place(cast)
    verify_client(client, order.phone)
    response = client.post(
        f"/orders/{order.code}/rate/",
        {"t": views.ORDER_LINK.token(order.code), "rating": "5"},
    )
    assert response.status_code == 400
    assert "服务完成后才能评价" in main(response)


def test_the_status_page_costs_the_same_whatever_the_history(
    client, cast, django_assert_num_queries
):
    order = place(cast)
    # order with its halls, item and activity; the events; the staff memberships
    with django_assert_num_queries(2):
        client.get(detail(order))
    _ = services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=10)
    services.order_schedule(
        order=order,
        by_user=cast.county_director,
        title="培训",
        start=start,
        end=start + timedelta(hours=1),
    )
    with django_assert_num_queries(3):
        assert "官渡区文化馆 馆长" in main(client.get(detail(order)))


def test_the_nav_has_an_order_item(client, cast):
    html = client.get(PICK).content.decode()
    assert '<a href="/orders/" aria-current="page">点单</a>' in html


def test_the_menu_card_counts_the_monthly_limit_and_the_date_picker_its_lead_days(client, cast):
    item = menu_item(cast.branch, monthly_limit=2, lead_days=5)
    verify_client(client, "13700000001")
    html = main(client.get(village_url(cast.point), {"item": item.pk}))
    assert "每村每月限 2 次" in html and "本村本月还可点 2 次" in html
    today = timezone.localdate()
    earliest = (today + timedelta(days=5)).isoformat()
    assert f'min="{earliest}"' in html and f"最早可选 {earliest}" in html
    assert f'data-today="{today.isoformat()}"' in html and "js/orders.js" in response_head(
        client, cast
    )
    place(cast, item_id=item.pk)
    assert "本村本月还可点 1 次" in main(client.get(village_url(cast.point)))
    place(cast, item_id=item.pk)
    html = main(client.get(village_url(cast.point)))
    # Used up: the card and the choice say so, and the card no longer offers it.
    assert "本村本月已达限量,下月可再点" in html and "本月已达限量)</option>" in html
    assert f"?item={item.pk}" not in html
    # The free request's date starts today.
    assert f'min="{today.isoformat()}"' in html


def response_head(client, cast) -> str:
    return client.get(village_url(cast.point)).content.decode().split("</head>", 1)[0]
