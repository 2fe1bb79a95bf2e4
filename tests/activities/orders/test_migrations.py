"""Moving the orders into their own app keeps every row: rows written before the move, through
the models as they were then, are read after it through the new models, with their ids, links
and content types."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from activities.models import Activity
from activities.orders import services
from activities.orders.models import MenuItem, Order, OrderEvent
from tests.conftest import build_cast

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("activities", "0002_menuitem_demandorder_orderevent_and_more")]


def _migrate(targets=None) -> MigrationExecutor:
    """Migrate to ``targets`` (the latest of every app when None)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()
    return executor


def _content_type_ids() -> dict[tuple[str, str], int]:
    return dict(
        ((app, model), pk)
        for app, model, pk in ContentType.objects.filter(
            app_label__in=["activities", "orders"],
            model__in=["menuitem", "demandorder", "order", "orderevent"],
        ).values_list("app_label", "model", "pk")
    )


def _seed_before_the_move(apps, cast) -> dict:
    """A menu item, an order placed from it and waiting, and a free request scheduled as an
    activity, each with its events, through the historical models."""
    HistoricalActivity = apps.get_model("activities", "Activity")
    HistoricalMenuItem = apps.get_model("activities", "MenuItem")
    HistoricalOrder = apps.get_model("activities", "DemandOrder")
    HistoricalEvent = apps.get_model("activities", "OrderEvent")
    now = timezone.now()
    item = HistoricalMenuItem.objects.create(
        hall_id=cast.county.pk,
        category="performance",
        title="送戏下乡",
        lead_days=14,
        monthly_limit=1,
    )
    activity = HistoricalActivity.objects.create(
        hall_id=cast.branch.pk,
        venue_hall_id=cast.point.pk,
        category="other",
        title="点单服务:关上一社区",
        start=now + timedelta(days=10),
        end=now + timedelta(days=10, hours=2),
        status="published",
    )
    waiting = HistoricalOrder.objects.create(
        code="DWAIT234",
        point_id=cast.point.pk,
        item_id=item.pk,
        handler_id=cast.county.pk,
        name="王村长",
        phone="13700000001",
        description="想看花灯戏",
        respond_by=now + timedelta(days=5),
    )
    scheduled = HistoricalOrder.objects.create(
        code="DSCHED78",
        point_id=cast.point.pk,
        handler_id=cast.branch.pk,
        name="李四",
        phone="13700000002",
        description="想学葫芦丝",
        status="scheduled",
        respond_by=now + timedelta(days=5),
        answered_at=now,
        activity_id=activity.pk,
        requested_by_id=cast.village_manager.pk,
    )
    for order, steps in ((waiting, ["submitted"]), (scheduled, ["submitted", "accepted"])):
        for action in steps:
            HistoricalEvent.objects.create(
                order_id=order.pk,
                action=action,
                to_status=action,
                hall_id=order.handler_id,
                by_user_id=cast.branch_staff.pk if action == "accepted" else None,
            )
    return {
        "item": item.pk,
        "activity": activity.pk,
        "waiting": waiting.pk,
        "scheduled": scheduled.pk,
    }


def test_the_move_keeps_every_order_row_and_its_links():
    cast = build_cast()
    types_before = _content_type_ids()
    try:
        executor = _migrate(BEFORE)
        tables = connection.introspection.table_names()
        assert "activities_demandorder" in tables and "orders_order" not in tables
        # The content types went back with the models.
        moved_back = _content_type_ids()
        assert moved_back.get(("activities", "demandorder")) == types_before[("orders", "order")]
        rows = _seed_before_the_move(executor.loader.project_state(BEFORE).apps, cast)
    finally:
        _migrate()

    tables = connection.introspection.table_names()
    assert {"orders_menuitem", "orders_order", "orders_orderevent"} <= set(tables)
    assert not {"activities_menuitem", "activities_demandorder", "activities_orderevent"} & set(
        tables
    )
    assert _content_type_ids() == types_before

    item = MenuItem.objects.get(pk=rows["item"])
    assert (item.hall, item.title, item.monthly_limit) == (cast.county, "送戏下乡", 1)
    waiting = Order.objects.select_related("item").get(pk=rows["waiting"])
    assert (waiting.code, waiting.status, waiting.item) == ("DWAIT234", "submitted", item)
    assert list(item.orders.all()) == [waiting]
    scheduled = Order.objects.select_related("activity").get(code="DSCHED78")
    assert scheduled.pk == rows["scheduled"]
    assert scheduled.activity.pk == rows["activity"]
    assert Activity.objects.get(pk=rows["activity"]).order == scheduled
    assert scheduled.requested_by == cast.village_manager
    assert [e.action for e in scheduled.events.all()] == ["submitted", "accepted"]
    assert OrderEvent.objects.filter(order=waiting).count() == 1
    assert OrderEvent.objects.get(action="accepted").by_user == cast.branch_staff
    # The names of the index and the check constraint are the ones the database had.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "orders_order")
    assert {"order_inbox", "order_rating_1_to_5"} <= set(constraints)
    # And the moved rows work with the services: the next step, and a new order beside them.
    services.order_accept(order=waiting, by_user=cast.county_director)
    assert Order.objects.get(pk=waiting.pk).status == Order.Status.ACCEPTED
    placed = services.order_create(
        point_id=cast.point2.pk, name="赵六", phone="13700000003", description="电影放映"
    )
    assert placed.pk > rows["scheduled"]
