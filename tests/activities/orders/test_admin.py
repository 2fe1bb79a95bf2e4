"""Orders and menus in the admin: the inbox by scope, the steps (accept, reject, schedule,
complete) through the services, the resident rating the result, query counts; and the per-hall
response and fulfilment figures for the evaluation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, Category
from activities.orders import services, views
from activities.orders.models import MenuItem, Order
from activities.orders.selectors import order_performance
from tests.conftest import verify_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


def change(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def step(order, name: str) -> str:
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def place(cast, point=None, phone="13700000001", **fields) -> Order:
    return services.order_create(
        point_id=(point or cast.point).pk,
        name="王村长",
        phone=phone,
        description="村里想办一期广场舞培训",
        **fields,
    )


def rows(client) -> list[str]:
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    return [o.code for o in response.context["cl"].result_list]


def test_the_inbox_is_the_scope_oldest_first(client, cast):
    first = place(cast)
    second = place(cast, point=cast.point2, phone="13700000002")
    elsewhere = place(cast, point=cast.other_branch_point, phone="13700000003")
    client.force_login(cast.branch_staff)
    assert rows(client) == [first.code, second.code]
    client.force_login(cast.county_director)
    assert rows(client) == [first.code, second.code, elsewhere.code]
    # The village's own staff follow their village's orders.
    client.force_login(cast.village_manager)
    assert rows(client) == [first.code]
    client.force_login(cast.other_county_director)
    assert rows(client) == []


def test_the_list_shows_the_columns_and_highlights_overdue_orders(client, cast):
    item = MenuItem.objects.create(
        hall=cast.county, category=Category.PERFORMANCE, title="送戏下乡"
    )
    menu = place(cast, item_id=item.pk)
    free = place(cast, phone="13700000002")
    Order.objects.filter(pk=free.pk).update(respond_by=timezone.now() - timedelta(hours=2))
    client.force_login(cast.county_director)
    html = client.get(CHANGELIST).content.decode()
    for text in (
        menu.code,
        free.code,
        "送戏下乡",
        "菜单外需求",
        "官渡区文化馆",
        "关上街道综合文化站",
    ):
        assert text in html, text
    assert html.count("已逾期") == 1
    assert "order-overdue" in html


def test_the_inbox_costs_the_same_with_3_and_30_orders(client, cast, django_assert_num_queries):
    for i in range(3):
        place(cast, phone=f"1370000{i:04d}")
    client.force_login(cast.branch_staff)
    client.get(CHANGELIST)
    # session, user, scope, count, rows
    with django_assert_num_queries(5):
        assert len(client.get(CHANGELIST).context["cl"].result_list) == 3
    item = MenuItem.objects.create(hall=cast.branch, category=Category.TRAINING, title="辅导")
    for i in range(3, 30):
        place(cast, phone=f"1370000{i:04d}", item_id=item.pk if i % 2 else None)
    with django_assert_num_queries(5):
        assert len(client.get(CHANGELIST).context["cl"].result_list) == 30


def test_staff_accept_schedule_and_complete_and_the_resident_rates(client, cast):
    order = place(cast, preferred_date=timezone.localdate() + timedelta(days=9))
    client.force_login(cast.branch_staff)
    page = client.get(change(order))
    assert page.status_code == 200
    links = dict(page.context["order_steps"])
    assert set(links) == {"受理", "不予受理"}
    assert "提交" not in [s for s in links]
    html = page.content.decode()
    assert "办理经过" in html and "submitted" in html
    assert 'name="_save"' not in html  # nothing to edit directly

    response = client.post(step(order, "accept"), {"note": "下周联系村里"})
    assert response.status_code == 302 and response["Location"] == change(order)
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED and order.answered_at

    page = client.get(step(order, "schedule"))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert "关上一社区" in initial["title"]
    assert timezone.localtime(initial["start"]).date() == order.preferred_date

    start = timezone.localtime(timezone.now() + timedelta(days=9)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    fmt = "%Y-%m-%dT%H:%M"
    bad = client.post(
        step(order, "schedule"),
        {"title": "广场舞培训", "start": start.strftime(fmt), "end": start.strftime(fmt)},
    )
    assert bad.status_code == 200 and "end" in bad.context["form"].errors
    bad = client.post(
        step(order, "schedule"),
        {"title": "", "start": "明天", "end": "", "capacity": "0"},
    )
    assert set(bad.context["form"].errors) == {"title", "start", "end", "capacity"}
    assert not Activity.objects.exists()

    response = client.post(
        step(order, "schedule"),
        {
            "title": "广场舞培训(点单)",
            "start": start.strftime(fmt),
            "end": (start + timedelta(hours=2)).strftime(fmt),
            "capacity": "40",
            "venue": "村文化广场",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SCHEDULED
    activity = order.activity
    assert activity.venue_hall == cast.point and activity.hall == cast.branch
    assert activity.status == Activity.Status.PUBLISHED and activity.capacity == 40
    assert timezone.localtime(activity.start) == start
    links = dict(client.get(change(order)).context["order_steps"])
    # Not done before the activity has happened: no button, and the step refuses.
    assert set(links) == {"查看排期活动"}
    early = client.post(step(order, "complete"), {"note": "已办"})
    assert early.status_code == 200
    assert "结束后才能标记完成" in str(early.context["form"].errors)
    order.refresh_from_db()
    assert order.status == Order.Status.SCHEDULED

    Activity.objects.filter(pk=activity.pk).update(
        start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=1)
    )
    links = dict(client.get(change(order)).context["order_steps"])
    assert set(links) == {"查看排期活动", "完成"}
    assert client.post(step(order, "complete"), {}).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.DONE

    # The resident, on the order's page, rates it from the phone they ordered with.
    client.logout()
    verify_client(client, order.phone)
    token = views.ORDER_LINK.token(order.code)
    page = client.get(f"/orders/{order.code}/", {"t": token})
    assert "评价这次服务" in page.content.decode()
    response = client.post(f"/orders/{order.code}/rate/", {"t": token, "rating": "5"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.RATED and order.rating == 5
    actions = list(order.events.values_list("action", flat=True))
    assert actions == ["submitted", "accepted", "scheduled", "done", "rated"]


def test_rejecting_needs_a_reason_that_the_resident_sees(client, cast):
    order = place(cast)
    client.force_login(cast.branch_staff)
    response = client.post(step(order, "reject"), {"reason": " "})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(step(order, "reject"), {"reason": "场地维修,下月再办"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED
    assert dict(client.get(change(order)).context["order_steps"]) == {}
    # A step that no longer applies says so on the form.
    response = client.post(step(order, "accept"), {})
    assert response.status_code == 200
    assert "不能进行这一步" in str(response.context["form"].non_field_errors())


def test_who_may_answer(client, cast):
    order = place(cast)
    # The village's staff see it but the branch answers.
    client.force_login(cast.village_manager)
    page = client.get(change(order))
    assert page.status_code == 200 and page.context["order_steps"] == []
    assert client.get(step(order, "accept")).status_code == 403
    assert client.post(step(order, "accept"), {}).status_code == 403
    # Officials read only.
    client.force_login(cast.county_official)
    assert client.get(change(order)).context["order_steps"] == []
    assert client.post(step(order, "accept"), {}).status_code == 403
    # Outside the scope the order does not exist.
    client.force_login(cast.other_branch_staff)
    for name in ("accept", "reject", "schedule", "complete"):
        assert client.get(step(order, name)).status_code == 404
    assert client.post(step(order, "accept"), {}).status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED
    # The county above answers too.
    client.force_login(cast.county_director)
    assert client.post(step(order, "accept"), {}).status_code == 302


def test_an_escalated_order_is_answered_by_the_parent_hall(client, cast):
    order = place(cast)
    Order.objects.filter(pk=order.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    services.orders_escalate_overdue()
    client.force_login(cast.branch_staff)
    # Still visible to the branch (its village), but now the county's to answer.
    assert client.get(change(order)).context["order_steps"] == []
    assert client.post(step(order, "accept"), {}).status_code == 403
    client.force_login(cast.county_director)
    assert client.post(step(order, "accept"), {}).status_code == 302


def test_menu_items_are_added_in_scope_only(client, cast):
    client.force_login(cast.branch_staff)
    data = {
        "hall": cast.branch.pk,
        "category": Category.TRAINING,
        "title": "书法入门课",
        "orderers": MenuItem.Orderers.ANYONE,
        "lead_days": 7,
        "monthly_limit": "",
        "active": "on",
    }
    response = client.post(reverse("admin:orders_menuitem_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert MenuItem.objects.get().hall == cast.branch
    response = client.post(
        reverse("admin:orders_menuitem_add"), {**data, "hall": cast.other_branch.pk}
    )
    assert "hall" in response.context["adminform"].form.errors
    assert MenuItem.objects.count() == 1


def test_a_menu_item_is_switched_off_through_the_service_and_a_bad_change_writes_nothing(
    client, cast, monkeypatch
):
    item = services.menu_item_create(hall=cast.branch, category=Category.TRAINING, title="书法课")
    client.force_login(cast.branch_staff)
    url = reverse("admin:orders_menuitem_change", args=[item.pk])
    data = {
        "hall": cast.branch.pk,
        "category": Category.TRAINING,
        "title": "书法课",
        "orderers": MenuItem.Orderers.ANYONE,
        "lead_days": 7,
        "monthly_limit": "",
    }
    calls = []
    update = services.menu_item_update
    monkeypatch.setattr(services, "menu_item_update", lambda **kw: calls.append(kw) or update(**kw))
    assert client.post(url, {**data, "lead_days": "-1"}).status_code == 200
    assert calls == []
    item.refresh_from_db()
    assert (item.lead_days, item.active) == (7, True)
    assert client.post(url, data).status_code == 302  # "active" unticked
    assert [set(kw) for kw in calls] == [{"item", "active"}]
    item.refresh_from_db()
    assert item.active is False


# --- Figures for the evaluation -----------------------------------------------------------------


def _at(days_ago: float) -> datetime:
    return timezone.now() - timedelta(days=days_ago)


def _answered(order, hours: float, status=None, rating=None):
    fields = {"answered_at": order.created_at + timedelta(hours=hours)}
    if status:
        fields["status"] = status
    if rating:
        fields["rating"] = rating
    Order.objects.filter(pk=order.pk).update(**fields)


def test_order_performance_per_handler_hall_in_one_query(cast, django_assert_num_queries):
    year = timezone.localdate().year
    item = MenuItem.objects.create(hall=cast.county, category=Category.TRAINING, title="辅导")
    branch = [place(cast, phone=f"1370000{i:04d}") for i in range(4)]
    county = [place(cast, phone=f"1380000{i:04d}", item_id=item.pk) for i in range(2)]
    other = place(cast, point=cast.other_county_point, phone="13900000001")
    _answered(branch[0], 2, Order.Status.RATED, rating=5)
    _answered(branch[1], 4, Order.Status.DONE)
    _answered(branch[2], 30, Order.Status.RATED, rating=2)
    # branch[3] is still unanswered
    _answered(county[0], 10, Order.Status.REJECTED)
    _answered(other, 1, Order.Status.ACCEPTED)

    with django_assert_num_queries(1):
        figures = order_performance(year=year, within=cast.county.pk)
    by_hall = {f.hall_id: f for f in figures}
    assert [f.hall_id for f in figures] == [cast.county.pk, cast.branch.pk]  # tree order
    b = by_hall[cast.branch.pk]
    assert (b.received, b.answered, b.fulfilled, b.rated) == (4, 3, 3, 2)
    assert b.median_response_hours == 4.0
    assert b.avg_response_hours == 12.0
    assert b.fulfilment_rate == 0.75
    assert b.mean_rating == 3.5
    c = by_hall[cast.county.pk]
    assert (c.received, c.answered, c.fulfilled) == (2, 1, 0)
    assert c.median_response_hours == c.avg_response_hours == 10.0
    assert c.fulfilment_rate == 0 and c.mean_rating is None

    # By hall ids; the other county only with its own.
    only = order_performance(year=year, hall_ids=[cast.other_county_branch.pk])
    assert [(f.hall_name, f.received, f.answered) for f in only] == [("华山街道综合文化站", 1, 1)]
    # Another year has nothing; an even count takes the middle two's mean.
    assert order_performance(year=year - 1) == []
    _answered(branch[3], 8)
    b = {f.hall_id: f for f in order_performance(year=year)}[cast.branch.pk]
    assert b.median_response_hours == 6.0
    assert len(branch) + len(county) == 6


def test_an_escalated_order_counts_for_the_hall_that_holds_it(cast):
    order = place(cast)
    Order.objects.filter(pk=order.pk).update(respond_by=_at(0.1))
    services.orders_escalate_overdue()
    figures = order_performance(year=timezone.localdate().year)
    assert [(f.hall_id, f.received) for f in figures] == [(cast.county.pk, 1)]
