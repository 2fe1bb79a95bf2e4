"""The admin home page's 待办: each account's pending work, counted against the database, each
link opening the list of exactly those rows, at a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity, Booking
from activities.orders.models import Order
from activities.residents.models import Message
from activities.resources import services as resource_services
from activities.resources.models import Dispatch, ResourceKind
from evaluation.returns.models import ReturnKind, ReturnStatus, ServiceReturn
from evaluation.scoring import services as scoring
from evaluation.scoring.models import Inspection
from network import services as network_services
from network.models import Hall
from portal.todo import todo_for
from tests.activities.factories import published_activity
from tests.evaluation.factories import open_window

pytestmark = pytest.mark.django_db


def _order(code, point, handler, *, respond_in, status=Order.Status.SUBMITTED):
    return Order.objects.create(
        code=code,
        point=point,
        handler=handler,
        name="王五",
        phone="13900000001",
        description="点单",
        status=status,
        respond_by=timezone.now() + respond_in,
    )


def _pending(cast):
    """Work waiting in 官渡区 (the county and its branch) and some in 五华区 (another scope)."""
    _order("OVER1", cast.point, cast.branch, respond_in=timedelta(hours=-2))
    _order("OVER2", cast.point2, cast.county, respond_in=timedelta(days=-1))
    _order("SOON1", cast.point, cast.branch, respond_in=timedelta(hours=5))
    _order("LATER", cast.point, cast.branch, respond_in=timedelta(days=4))
    _order("ACC1", cast.point, cast.branch, respond_in=timedelta(days=-3), status="accepted")
    _order("WUHUA", cast.other_county_point, cast.other_county, respond_in=timedelta(hours=-1))

    year = timezone.localtime().year
    ServiceReturn.objects.create(hall=cast.branch, year=year, status=ReturnStatus.SUBMITTED)
    # The county's own, submitted to the city: the city's to review, not the county's.
    ServiceReturn.objects.create(hall=cast.county, year=year, status=ReturnStatus.SUBMITTED)
    ServiceReturn.objects.create(hall=cast.point, year=year, status=ReturnStatus.RETURNED)
    ServiceReturn.objects.create(
        hall=cast.other_county_branch, year=year, status=ReturnStatus.SUBMITTED
    )
    open_window(ReturnKind.SERVICE, year, days_left=5)

    truck = resource_services.resource_create(
        hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车", by=cast.county_director
    )
    start = timezone.now() + timedelta(days=10)
    resource_services.dispatch_request(
        resource=truck,
        requesting_hall=cast.branch,
        start=start,
        end=start + timedelta(days=1),
        purpose="送戏下乡",
        by=cast.branch_staff,
    )

    today = published_activity(cast.branch, capacity=20)
    soon = timezone.now() + timedelta(minutes=1)
    local_midnight = timezone.localtime().replace(hour=23, minute=59)
    when = min(soon, local_midnight)
    Activity.objects.filter(pk=today.pk).update(start=when, end=when + timedelta(minutes=30))
    booking = activity_services.booking_create(
        activity_id=today.pk, name="张三", phone="13800138000", seats=3
    )
    activity_services.booking_create(
        activity_id=today.pk, name="李四", phone="13800138001", seats=2
    )
    Booking.objects.filter(pk=booking.pk).update(checked_in_at=timezone.now())

    scheme = scoring.scheme_create(year=year)
    dimension = scheme.dimensions.exclude(source="satisfaction").order_by("order").first()
    for days in (-3, 7):
        Inspection.objects.create(
            hall=cast.branch,
            inspector_hall=cast.county,
            inspected_on=timezone.localdate() - timedelta(days=10),
            findings="台账不全",
            dimension=dimension,
            fix_by=timezone.localdate() + timedelta(days=days),
            recorded_by=cast.county_director,
        )
    Message.objects.create(
        phone="13800138000", template="t", text="x", status="failed", send_after=timezone.now()
    )


def _counts(user) -> dict[str, int]:
    return {item.key: item.count for item in todo_for(user)}


def test_the_county_director_sees_the_county_work_counted_from_the_database(cast):
    _pending(cast)
    counts = _counts(cast.county_director)
    scope_orders = Order.objects.filter(
        handler__tree_id=cast.county.tree_id,
        handler__lft__gte=cast.county.lft,
        handler__rght__lte=cast.county.rght,
    )
    now = timezone.now()
    assert (
        counts["orders_overdue"]
        == scope_orders.filter(status="submitted", respond_by__lt=now).count()
        == 2
    )
    assert counts["orders_due_soon"] == 1
    assert counts["orders_accepted"] == 1
    assert counts["returns_review_service"] == 1  # the branch's; not 五华's, not its own
    assert counts["returns_returned_service"] == 1
    year = timezone.localtime().year
    # Open halls of the county (the county, 2 branches, 3 points) without a reported return.
    assert counts[f"window_service_{year}"] == 6 - 2
    assert counts["dispatch_approve"] == Dispatch.objects.filter(status="requested").count() == 1
    assert counts["activities_today"] == 1
    assert counts["inspections_open"] == 2
    assert "messages_failed" not in counts  # messages belong to no hall
    items = {item.key: item for item in todo_for(cast.county_director)}
    assert items["activities_today"].detail == "已签到 3 / 已预约 5 座"
    assert items["inspections_open"].detail == "其中已超过整改期限 1 项"
    # The urgent ones first.
    keys = list(items)
    assert keys.index("orders_overdue") < keys.index("dispatch_approve")


def test_each_scope_sees_only_its_own(cast):
    _pending(cast)
    wuhua = _counts(cast.other_county_director)
    assert wuhua["orders_overdue"] == 1
    assert wuhua["returns_review_service"] == 1
    assert "dispatch_approve" not in wuhua and "activities_today" not in wuhua
    branch = _counts(cast.branch_staff)
    # The branch answers its own orders; the county's order is not its own; it does not
    # review its own return, nor approve the county's truck.
    assert branch["orders_overdue"] == 1
    assert "returns_review_service" not in branch
    assert "dispatch_approve" not in branch
    # An official acts on nothing: only what is for information.
    official = _counts(cast.county_official)
    assert set(official) == {f"window_service_{timezone.localtime().year}", "activities_today"}
    root = _counts(cast.superuser)
    assert root["messages_failed"] == 1 and root["orders_overdue"] == 3


def test_nothing_pending_says_so(client, cast):
    assert todo_for(cast.other_county_director) == []
    client.force_login(cast.other_county_director)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="portal-todo"' in html and "目前没有待办事项。" in html


def test_the_links_open_exactly_the_rows_counted(client, cast):
    _pending(cast)
    client.force_login(cast.county_director)
    html = client.get(reverse("admin:index")).content.decode()
    for item in todo_for(cast.county_director):
        assert f'data-todo="{item.key}"' in html
        page = client.get(item.url)
        assert page.status_code == 200, item.url
        if "changelist" in str(page.context.get("cl", "")) or "cl" in page.context:
            assert page.context["cl"].result_count == item.count, item.key


def _queries(client, user) -> int:
    client.force_login(user)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(ctx.captured_queries)


def test_the_todo_costs_the_same_queries_for_a_bigger_tree(client, cast):
    _pending(cast)
    small = _queries(client, cast.county_director)
    county = Hall.objects.get(pk=cast.county.pk)
    for b in range(3):
        branch = network_services.hall_create(parent=county, name=f"新{b}文化站", locality=f"新{b}")
        for p in range(2):
            point = network_services.hall_create(
                parent=branch, name=f"新{b}村{p}服务中心", locality=f"新{b}{p}"
            )
            _order(f"N{b}{p}", point, branch, respond_in=timedelta(hours=-1))
    assert _queries(client, cast.county_director) == small
    director = type(cast.county_director).objects.get(pk=cast.county_director.pk)
    assert _counts(director)["orders_overdue"] == 2 + 6
