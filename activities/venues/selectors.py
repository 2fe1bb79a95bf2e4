"""Reads of venue booking: public venue lists and the slot grid.

The grid of a venue for a day or a week costs a fixed number of queries whatever its size: the
venue with its hall, its opening hours, its closures and the live reservations of the span, then
the grid is laid out in Python (holidays come from the calendar file, cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from common.workdays import is_public_holiday
from network.models import HallStatus, subtree_q

from .models import Closure, OpeningHours, Reservation, Venue


class SlotState:
    FREE = "free"
    TAKEN = "taken"
    CLOSED = "closed"


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    state: str

    @property
    def free(self) -> bool:
        return self.state == SlotState.FREE


@dataclass
class Day:
    day: date
    slots: list[Slot] = field(default_factory=list)
    # Why the whole day is closed (a holiday, a closure, not open that weekday), or "".
    closed_reason: str = ""

    @property
    def free_count(self) -> int:
        return sum(slot.free for slot in self.slots)


def venues_public(*, within: int | None = None, hall: int | None = None) -> QuerySet[Venue]:
    """Venues open for booking, in halls that are open; ``within`` a hall's subtree, or of one
    ``hall``."""
    qs = Venue.objects.filter(
        status=Venue.Status.OPEN, hall__status=HallStatus.OPEN
    ).select_related("hall")
    if within is not None:
        qs = qs.filter(subtree_q(within, through="hall"))
    if hall is not None:
        qs = qs.filter(hall_id=hall)
    return qs.order_by("hall__tree_id", "hall__lft", "name", "pk")


def venue_public(venue_id: int) -> Venue | None:
    """One bookable venue with its hall, its opening hours and its closures still to come."""
    today = timezone.localdate()
    return (
        venues_public()
        .prefetch_related(
            Prefetch("hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
            Prefetch(
                "closures",
                queryset=Closure.objects.filter(last_day__gte=today).order_by("first_day"),
                to_attr="coming_closures",
            ),
        )
        .filter(pk=venue_id)
        .first()
    )


def _closed_reason(day: date, closures: list[Closure], *, opens: bool) -> str:
    """Why the venue is closed all ``day``: a public holiday, a closure, or not open on that
    weekday (``opens`` false); "" when it opens."""
    if is_public_holiday(day):
        return _("法定节假日闭馆")
    for closure in closures:
        if closure.first_day <= day <= closure.last_day:
            return _("闭馆:%(reason)s") % {"reason": closure.reason}
    if not opens:
        return _("不开放")
    return ""


def venue_days(
    venue: Venue, first: date, days: int = 7, *, now: datetime | None = None
) -> list[Day]:
    """The slot grid of ``venue`` for ``days`` days from ``first``: each slot free, taken or
    closed (past, a holiday, a closure, the venue closed). ``venue`` should come from
    ``venue_public`` (hours and closures prefetched); two more queries otherwise. One query for
    the reservations."""
    now = now or timezone.now()
    last = first + timedelta(days=days - 1)
    hours = list(venue.hours.all())
    closures = getattr(venue, "coming_closures", None)
    if closures is None:
        closures = list(venue.closures.filter(last_day__gte=first, first_day__lte=last))
    span_start = timezone.make_aware(datetime.combine(first, time()))
    span_end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time()))
    taken = list(
        Reservation.objects.filter(
            venue=venue, status__in=Reservation.LIVE, start__lt=span_end, end__gt=span_start
        ).values_list("start", "end")
    )
    step = timedelta(minutes=venue.step_minutes)
    grid = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        ranges = [h for h in hours if h.weekday == day.weekday()]
        reason = _closed_reason(day, closures, opens=bool(ranges))
        if venue.status != Venue.Status.OPEN:
            reason = _("暂停预约")
        entry = Day(day=day, closed_reason=reason)
        for h in ranges:
            start = timezone.make_aware(datetime.combine(day, h.opens))
            closes = timezone.make_aware(datetime.combine(day, h.closes))
            while start + step <= closes:
                end = start + step
                if reason or start <= now:
                    state = SlotState.CLOSED
                elif any(s < end and e > start for s, e in taken):
                    state = SlotState.TAKEN
                else:
                    state = SlotState.FREE
                entry.slots.append(Slot(start=start, end=end, state=state))
                start = end
        grid.append(entry)
    return grid


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def shown_weeks(today: date) -> tuple[date, date]:
    """The Mondays of the first and the last week whose slots residents see: this week, and
    the last one in which they may reserve (``VENUE_BOOKING_WEEKS_AHEAD``). The venue's page
    and the API's slots show no day outside them."""
    return (
        week_start(today),
        week_start(today + timedelta(weeks=settings.VENUE_BOOKING_WEEKS_AHEAD)),
    )


def reservations_of_phone(phone: str) -> QuerySet[Reservation]:
    return Reservation.objects.filter(phone=phone).select_related("venue", "venue__hall")


def closure_conflicts(closure: Closure) -> QuerySet[Reservation]:
    """Live reservations on the days of a closure: for staff to cancel with a message."""
    start = timezone.make_aware(datetime.combine(closure.first_day, time()))
    end = timezone.make_aware(datetime.combine(closure.last_day + timedelta(days=1), time()))
    return Reservation.objects.filter(
        venue_id=closure.venue_id, status__in=Reservation.LIVE, start__lt=end, end__gt=start
    ).order_by("start")


# A reservation that counts as use (使用场次, 服务人次): the party checked in.
USED = Reservation.Status.CHECKED_IN


def hall_venues_with_use(hall_id: int, *, year: int) -> list[Venue]:
    """A hall's own bookable venues for its public page, each with ``uses`` and ``people`` of
    ``year`` by the rule of ``venue_usage``: one query."""
    tz = timezone.get_current_timezone()
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    used = Q(
        reservations__status=USED,
        reservations__start__gte=start,
        reservations__start__lt=end,
    )
    return list(
        Venue.objects.filter(hall_id=hall_id, status=Venue.Status.OPEN)
        .annotate(
            uses=Count("reservations", filter=used),
            people=Coalesce(Sum("reservations__party_size", filter=used), 0),
        )
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class VenueUsage:
    """What a subtree's venues gave in a period, for the annual figures and a hall's page:
    开放时长 (hours open for booking: the weekly hours less holidays and closures), 使用场次
    (reservations the party checked in to) and 服务人次 (their party sizes)."""

    open_hours: float
    sessions: int
    people: int


def venue_usage(*, within: int, first: date, last: date, own_only: bool = False) -> VenueUsage:
    """The venues of ``within``'s subtree from ``first`` to ``last`` (both included), in four
    queries whatever the number of venues or days. ``own_only``: the venues of that hall alone
    (a hall's yearly return, which the roll-up then sums over the subtree)."""
    where = Q(hall_id=within) if own_only else subtree_q(within, through="hall")
    venues = list(
        Venue.objects.filter(where)
        .exclude(status=Venue.Status.CLOSED)
        .prefetch_related(
            "hours",
            Prefetch(
                "closures",
                queryset=Closure.objects.filter(last_day__gte=first, first_day__lte=last),
            ),
        )
    )
    open_minutes = 0
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for venue in venues:
        closures = list(venue.closures.all())
        by_weekday: dict[int, int] = {}
        for h in venue.hours.all():
            span = datetime.combine(first, h.closes) - datetime.combine(first, h.opens)
            by_weekday[h.weekday] = by_weekday.get(h.weekday, 0) + span.seconds // 60
        for day in days:
            minutes = by_weekday.get(day.weekday())
            if minutes and not _closed_reason(day, closures, opens=True):
                open_minutes += minutes
    start = timezone.make_aware(datetime.combine(first, time()))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time()))
    used = Reservation.objects.filter(
        Q(venue__hall_id=within) if own_only else subtree_q(within, through="venue__hall"),
        status=USED,
        start__gte=start,
        start__lt=end,
    ).aggregate(sessions=Count("pk"), people=Sum("party_size"))
    return VenueUsage(
        open_hours=open_minutes / 60,
        sessions=used["sessions"],
        people=used["people"] or 0,
    )
