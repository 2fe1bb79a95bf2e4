"""Reads of orders and menus for the order pages, the API, the admin and the evaluation."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Hall, Membership, subtree_q
from network.selectors import Scope

from .models import MenuItem, Order, OrderEvent


def area_points(township_id: int) -> list[Hall]:
    """The village points of a township, for the order page's third select."""
    return list(
        Hall.objects.filter(parent_id=township_id, level=3).only("pk", "locality").order_by("lft")
    )


def point_search(query: str, *, limit: int = 30) -> list[Hall]:
    """Village points whose name or locality contains ``query``, with township and county
    joined in (one query)."""
    query = query.strip()
    return list(
        Hall.objects.filter(level=3)
        .filter(Q(name__icontains=query) | Q(locality__icontains=query))
        .select_related("parent__parent")
        .order_by("tree_id", "lft")[:limit]
    )


def order_point(point_id: int) -> Hall | None:
    """A village point with its township, county and city joined in, or None."""
    return (
        Hall.objects.filter(pk=point_id, level=3).select_related("parent__parent__parent").first()
    )


def menu_items_for_point(point: Hall) -> QuerySet[MenuItem]:
    """Open menu items of the halls above a village (its branch, county and city) and of the
    village itself, nearest hall first: one query, by the tree range of the point."""
    return (
        MenuItem.objects.filter(
            active=True,
            hall__tree_id=point.tree_id,
            hall__lft__lte=point.lft,
            hall__rght__gte=point.rght,
        )
        .select_related("hall")
        .order_by("-hall__level", "category", "title", "pk")
    )


def menu_usage(point: Hall, *, today: date, item_ids: list[int] | None = None) -> dict[int, int]:
    """How many times the village ordered each menu item this month (rejected orders apart):
    what its monthly limit (每月限量) counts. One query."""
    month_start = timezone.make_aware(datetime.combine(today.replace(day=1), time.min))
    qs = Order.objects.filter(point=point, item__isnull=False, created_at__gte=month_start).exclude(
        status=Order.Status.REJECTED
    )
    if item_ids is not None:
        qs = qs.filter(item_id__in=item_ids)
    return dict(qs.values("item_id").annotate(n=Count("pk")).values_list("item_id", "n"))


def menu_items_public(*, point: Hall | None = None, hall_id: int | None = None):
    qs = (
        menu_items_for_point(point)
        if point is not None
        else MenuItem.objects.filter(active=True).select_related("hall")
    )
    if hall_id is not None:
        qs = qs.filter(hall_id=hall_id)
    return qs.order_by("hall__tree_id", "-hall__level", "hall_id", "category", "title", "pk")


def order_public(code: str) -> Order | None:
    """An order with everything its status page shows, by code."""
    return (
        Order.objects.select_related("point", "handler", "item", "item__hall", "activity")
        .filter(code=code)
        .first()
    )


def order_for_phone(code: str, *, phone: str) -> Order | None:
    """The order (its code only) when ``code`` and the phone it was placed with both match."""
    return Order.objects.filter(code=code, phone=phone).only("code").first()


@dataclass(frozen=True)
class OrderStep:
    event: OrderEvent
    who: str  # "关上街道综合文化站 工作人员", "点单人", "系统自动": never a username


def order_history(order: Order) -> list[OrderStep]:
    """Every step of an order, oldest first, each with who took it as their hall and role.

    Two queries whatever the number of steps: the events, and the memberships of their staff."""
    events = list(order.events.select_related("hall").order_by("at", "pk"))
    user_ids = {e.by_user_id for e in events if e.by_user_id}
    memberships: dict[int, list[Membership]] = {}
    if user_ids:
        for m in (
            Membership.objects.filter(user_id__in=user_ids)
            .select_related("hall")
            .order_by("hall__level", "pk")
        ):
            memberships.setdefault(m.user_id, []).append(m)
    steps = []
    for event in events:
        if event.by_user_id:
            mine = memberships.get(event.by_user_id, [])
            # The membership at the hall that acted, else the account's highest hall.
            chosen = next((m for m in mine if m.hall_id == event.hall_id), None) or (
                mine[0] if mine else None
            )
            if chosen is not None:
                who = f"{chosen.hall.name} {chosen.get_role_display()}"
            else:
                who = _("平台管理员")
        elif event.by_phone:
            who = _("点单人")
        else:
            who = _("系统自动")
        steps.append(OrderStep(event=event, who=who))
    return steps


def orders_inbox(scope: Scope, *, statuses: list[str] | None = None) -> QuerySet[Order]:
    """The orders a staff account must answer: those whose handler hall is in its scope, oldest
    first."""
    qs = Order.objects.filter(scope.q("handler__")).select_related(
        "point", "handler", "item", "activity"
    )
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("created_at", "pk")


class Median(Aggregate):
    """The median of an expression: ``percentile_cont(0.5)`` on PostgreSQL; on SQLite an
    aggregate registered on the connection, as Django does for its own statistics."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        _register_sqlite_median(connection)
        return self.as_sql(
            compiler, connection, function="PORTAL_MEDIAN", template="%(function)s(%(expressions)s)"
        )


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self):
        if not self.values:
            return None
        return statistics.median(self.values)


def _register_sqlite_median(connection) -> None:
    # Registering again replaces the function; cheap, and safe for every new connection.
    connection.ensure_connection()
    connection.connection.create_aggregate("PORTAL_MEDIAN", 1, _SqliteMedian)


@dataclass(frozen=True)
class OrderPerformance:
    """One handler hall's orders of a year, for the evaluation."""

    hall_id: int
    hall_name: str
    received: int
    answered: int
    fulfilled: int  # done or rated
    rated: int
    median_response_hours: float | None  # answered_at − created_at, over the answered orders
    avg_response_hours: float | None
    mean_rating: float | None

    @property
    def fulfilment_rate(self) -> float | None:
        """Fulfilled ÷ received: the share of the orders a hall got that it delivered."""
        return self.fulfilled / self.received if self.received else None

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.received if self.received else None


def _hours(value) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def order_performance(
    *, year: int, hall_ids: list[int] | None = None, within: int | None = None
) -> list[OrderPerformance]:
    """Per handler hall, the orders it holds that were placed in ``year``: received, answered,
    median and mean response hours, fulfilled, fulfilment rate and mean rating.

    One aggregate query grouped by the handler. An escalated order counts for the hall that holds
    it now (the one that had to answer in the end). ``hall_ids`` limits to those handlers,
    ``within`` to the handlers in a hall's subtree."""
    response = ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
    qs = Order.objects.filter(created_at__year=year)
    if hall_ids is not None:
        qs = qs.filter(handler_id__in=hall_ids)
    if within is not None:
        qs = qs.filter(subtree_q(within, through="handler"))
    rows = (
        qs.values("handler_id", "handler__name", "handler__tree_id", "handler__lft")
        .annotate(
            received=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            fulfilled=Count("pk", filter=Order.fulfilled_q()),
            rated=Count("rating"),
            median_response=Median(response, output_field=DurationField()),
            avg_response=Avg(response, output_field=DurationField()),
            mean_rating=Avg("rating"),
        )
        .order_by("handler__tree_id", "handler__lft")
    )
    return [
        OrderPerformance(
            hall_id=row["handler_id"],
            hall_name=row["handler__name"],
            received=row["received"],
            answered=row["answered"],
            fulfilled=row["fulfilled"],
            rated=row["rated"],
            median_response_hours=_hours(row["median_response"]),
            avg_response_hours=_hours(row["avg_response"]),
            mean_rating=None if row["mean_rating"] is None else round(row["mean_rating"], 2),
        )
        for row in rows
    ]


# An unanswered order is near its deadline from a day before it.
DUE_SOON = timedelta(days=1)


def orders_todo(scope: Scope, *, now: datetime) -> dict[str, int]:
    """What the scope's handler halls must do about orders, in one query: the submitted orders
    past their answer deadline and those due within a day, and the accepted ones waiting to be
    scheduled or completed."""
    return Order.objects.filter(
        scope.q("handler__"), status__in=[Order.Status.SUBMITTED, Order.Status.ACCEPTED]
    ).aggregate(
        overdue=Count("pk", filter=Q(status=Order.Status.SUBMITTED, respond_by__lt=now)),
        due_soon=Count(
            "pk",
            filter=Q(
                status=Order.Status.SUBMITTED, respond_by__gte=now, respond_by__lt=now + DUE_SOON
            ),
        ),
        accepted=Count("pk", filter=Q(status=Order.Status.ACCEPTED)),
    )
