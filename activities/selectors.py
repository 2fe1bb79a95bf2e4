"""Reads of activities for the public pages, the API and the staff pages."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Hall, Membership
from network.selectors import Scope, hall_subtree

from .models import Activity, Booking, DemandOrder, MenuItem, Notice, OrderEvent


def activities_public(
    *,
    within: int | None = None,
    hall: int | None = None,
    category: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    seats_available: bool = False,
    include_past: bool = False,
    now: datetime | None = None,
) -> QuerySet[Activity]:
    """Published activities, soonest first. ``within`` is a hall id: activities held anywhere in
    its subtree; ``hall`` the organiser or the venue (a mobile service shows on its point too)."""
    now = now or timezone.now()
    qs = Activity.objects.filter(status=Activity.Status.PUBLISHED).select_related(
        "hall", "venue_hall"
    )
    if not include_past:
        qs = qs.filter(end__gt=now)
    if within is not None:
        qs = qs.filter(venue_hall__in=hall_subtree(within).values("pk"))
    if hall is not None:
        qs = qs.filter(Q(hall_id=hall) | Q(venue_hall_id=hall))
    if category:
        qs = qs.filter(category=category)
    if date_from:
        qs = qs.filter(end__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(start__lt=_end_of(date_to))
    if seats_available:
        qs = qs.filter(Q(capacity__isnull=True) | Q(seats_taken__lt=F("capacity")))
    return qs.order_by("start", "pk")


def _start_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min))


def _end_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.max))


def activities_featured(*, limit: int = 6) -> QuerySet[Activity]:
    return activities_public().filter(featured=True)[:limit]


def activity_public(activity_id: int) -> Activity | None:
    return (
        Activity.objects.select_related("hall", "venue_hall")
        .filter(pk=activity_id)
        .exclude(status=Activity.Status.DRAFT)
        .first()
    )


def activity_bookable(activity_id: int) -> Activity | None:
    """What a booking needs of its activity, in one read of one row: a draft is not there.

    Written out, because every booking starts with it, and building this SELECT in the ORM took
    a booking more time than PostgreSQL took to answer it."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in Activity._meta.concrete_fields)
    found = Activity.objects.raw(
        f"SELECT {columns} FROM {quote(Activity._meta.db_table)} WHERE id = %s AND status <> %s",
        [activity_id, Activity.Status.DRAFT.value],
    )
    return next(iter(found), None)


# Confirmed parties first, then the waiting list in its order, then the cancelled ones.
BOOKING_ORDER = (
    Case(
        When(status=Booking.Status.CONFIRMED, then=Value(0)),
        When(status=Booking.Status.WAITLISTED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ),
    "created_at",
    "pk",
)


def activity_bookings(activity: Activity) -> QuerySet[Booking]:
    return activity.bookings.order_by(*BOOKING_ORDER)


def waitlist(activity: Activity) -> QuerySet[Booking]:
    return activity.bookings.filter(status=Booking.Status.WAITLISTED).order_by("created_at", "pk")


def notices_recent(*, within: Hall | None = None, limit: int = 5) -> QuerySet[Notice]:
    qs = Notice.objects.select_related("hall").filter(published_at__lte=timezone.now())
    if within is not None:
        qs = qs.filter(hall__in=hall_subtree(within.pk).values("pk"))
    return qs.order_by("-pinned", "-published_at")[:limit]


# --- Public pages -------------------------------------------------------------------------------


def area_counties(*, limit: int) -> list[Hall]:
    """County main halls with their city, in tree order, for the area filter (one query)."""
    return list(
        Hall.objects.filter(level=1)
        .select_related("parent")
        .only("pk", "locality", "tree_id", "lft", "parent__locality")
        .order_by("tree_id", "lft")[:limit]
    )


def area_townships(county_id: int) -> list[Hall]:
    return list(
        Hall.objects.filter(parent_id=county_id, level=2).only("pk", "locality").order_by("lft")
    )


def area_hall(hall_id: int) -> Hall | None:
    return Hall.objects.filter(pk=hall_id).only("pk", "name", "plaque_name", "locality").first()


def booking_public(code: str) -> Booking | None:
    """A booking by its code with the activity and both halls, for the resident's page."""
    return (
        Booking.objects.select_related("activity", "activity__hall", "activity__venue_hall")
        .filter(code=code)
        .first()
    )


def waitlist_position(booking: Booking) -> int:
    """1 for the first waiting party. Freed seats go to the first party that fits, so a big
    party may be passed by a smaller one behind it."""
    ahead = (
        Booking.objects.filter(activity_id=booking.activity_id, status=Booking.Status.WAITLISTED)
        .filter(
            Q(created_at__lt=booking.created_at)
            | Q(created_at=booking.created_at, pk__lt=booking.pk)
        )
        .count()
    )
    return ahead + 1


def notices_public(*, within: int | None = None) -> QuerySet[Notice]:
    qs = Notice.objects.select_related("hall").filter(published_at__lte=timezone.now())
    if within is not None:
        qs = qs.filter(hall__in=hall_subtree(within).values("pk"))
    return qs.order_by("-pinned", "-published_at", "-pk")


def notice_public(notice_id: int) -> Notice | None:
    return (
        Notice.objects.select_related("hall")
        .filter(pk=notice_id, published_at__lte=timezone.now())
        .first()
    )


# --- Order-style service (点单) -------------------------------------------------------------------


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


def menu_items_public(*, point: Hall | None = None, hall_id: int | None = None):
    qs = (
        menu_items_for_point(point)
        if point is not None
        else MenuItem.objects.filter(active=True).select_related("hall")
    )
    if hall_id is not None:
        qs = qs.filter(hall_id=hall_id)
    return qs.order_by("hall__tree_id", "-hall__level", "hall_id", "category", "title", "pk")


def order_public(code: str) -> DemandOrder | None:
    """An order with everything its status page shows, by code."""
    return (
        DemandOrder.objects.select_related("point", "handler", "item", "item__hall", "activity")
        .filter(code=code)
        .first()
    )


@dataclass(frozen=True)
class OrderStep:
    event: OrderEvent
    who: str  # "关上街道综合文化站 工作人员", "点单人", "系统自动": never a username


def order_history(order: DemandOrder) -> list[OrderStep]:
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


def orders_inbox(scope: Scope, *, statuses: list[str] | None = None) -> QuerySet[DemandOrder]:
    """The orders a staff account must answer: those whose handler hall is in its scope, oldest
    first."""
    qs = DemandOrder.objects.filter(scope.q("handler__")).select_related(
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
    done = Q(status__in=[DemandOrder.Status.DONE, DemandOrder.Status.RATED])
    qs = DemandOrder.objects.filter(created_at__year=year)
    if hall_ids is not None:
        qs = qs.filter(handler_id__in=hall_ids)
    if within is not None:
        qs = qs.filter(handler__in=hall_subtree(within).values("pk"))
    rows = (
        qs.values("handler_id", "handler__name", "handler__tree_id", "handler__lft")
        .annotate(
            received=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            fulfilled=Count("pk", filter=done),
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
