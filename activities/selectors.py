"""Reads of activities for the public pages, the API and the staff pages."""

from __future__ import annotations

import functools
from datetime import date, datetime, time

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from common import prepared
from common.cache import ProcessMemory
from network.forms import COUNTY_CHOICES_MAX
from network.models import Hall
from network.selectors import hall_subtree

from .models import (
    Activity,
    Attendance,
    AttendanceChange,
    Booking,
    CourseSession,
    Notice,
    SessionAttendance,
)


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
    """Published activities, soonest first, each with ``session_count`` (a course's sessions,
    0 for an activity that is not one). ``within`` is a hall id: activities held anywhere in
    its subtree; ``hall`` the organiser or the venue (a mobile service shows on its point too)."""
    now = now or timezone.now()
    # One filter() with every condition: each call copies the whole query, and a list page no
    # cache has seen builds this for every request.
    conditions = [Q(status=Activity.Status.PUBLISHED)]
    if not include_past:
        conditions.append(Q(end__gt=now))
    if within is not None:
        conditions.append(Q(venue_hall__in=hall_subtree(within).values("pk")))
    if hall is not None:
        conditions.append(Q(hall_id=hall) | Q(venue_hall_id=hall))
    if category:
        conditions.append(Q(category=category))
    if date_from:
        conditions.append(Q(end__gte=_start_of(date_from)))
    if date_to:
        conditions.append(Q(start__lt=_end_of(date_to)))
    if seats_available:
        conditions.append(Q(capacity__isnull=True) | Q(seats_taken__lt=F("capacity")))
    return with_session_count(
        Activity.objects.filter(*conditions).select_related("hall", "venue_hall")
    ).order_by("start", "pk")


# What an activity card reads (activities/_activity_card.html and the digest it is kept
# under, activities.templatetags.activity_cards.card_key), with the venue hall's name. A list
# of cards selects these rather than every column of the activity and both its halls: on a
# list page no cache had seen, building and reading the rest was about a fifth of the page.
CARD_FIELDS = (
    "id",
    "category",
    "title",
    "start",
    "end",
    "venue",
    "venue_hall_id",
    "venue_hall__name",
    "status",
    "capacity",
    "seats_taken",
    "booking_opens",
    "booking_closes",
)


def as_cards(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """``activities`` (from ``activities_public``) with only what their cards show."""
    return activities.select_related(None).select_related("venue_hall").only(*CARD_FIELDS)


# --- The public list's cards, in SQL written once per filter shape ---------------------------
#
# A list page that no cache has seen builds ``as_cards(activities_public(...))`` for one
# request only: building that query and compiling it to SQL cost the web process more than
# reading the rows and rendering them (about a third of such a page). The statement depends
# only on which filters are given (their shape, 32 in all), so it is written once per shape
# and run with the values as parameters (on PostgreSQL a prepared statement, planned once per
# connection). tests/activities/test_list_sql.py holds it to the ORM's answer.

# The filters of ``activities_public`` a list may give, in the order the statement puts them.
CARD_FILTERS = ("within", "category", "date_from", "date_to", "seats_available")


def activity_cards_public(
    *,
    within: int | None = None,
    category: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    seats_available: bool = False,
    now: datetime | None = None,
) -> PublicCards:
    """The cards of ``as_cards(activities_public(...))`` with these filters: the same
    activities in the same order, each with ``session_count`` and its venue hall (its name
    only), as ``PublicCards``, which a paginator slices and counts."""
    adapt = connection.ops.adapt_datetimefield_value
    given = {
        "within": within,
        "category": category or None,
        "date_from": adapt(_start_of(date_from)) if date_from else None,
        "date_to": adapt(_end_of(date_to)) if date_to else None,
    }
    shape = tuple(
        bool(seats_available) if name == "seats_available" else given[name] is not None
        for name in CARD_FILTERS
    )
    params = [Activity.Status.PUBLISHED.value, adapt(now or timezone.now())]
    params += [given[name] for name in CARD_FILTERS if given.get(name) is not None]
    return PublicCards(shape, params)


class PublicCards:
    """What ``activity_cards_public`` found: ``cards[a:b]`` reads those rows (one query),
    ``count()`` counts them all (one query). Enough of a sequence for ``Paginator``."""

    def __init__(self, shape: tuple[bool, ...], params: list) -> None:
        self.shape, self.params = shape, params

    def count(self) -> int:
        name = "activity_cards_count_" + _shape_name(self.shape)
        sql = _card_statements(connection.vendor, self.shape)[1]
        with connection.cursor() as cursor:
            prepared.execute(cursor, name, sql, self.params)
            return cursor.fetchone()[0]

    def __getitem__(self, rows: slice) -> list[Activity]:
        if not isinstance(rows, slice) or rows.step is not None or rows.stop is None:
            raise TypeError("PublicCards takes a slice [start:stop]")
        offset = rows.start or 0
        limit = max(rows.stop - offset, 0)
        name = "activity_cards_" + _shape_name(self.shape)
        sql = _card_statements(connection.vendor, self.shape)[0]
        with connection.cursor() as cursor:
            prepared.execute(cursor, name, sql, [*self.params, limit, offset])
            found = cursor.fetchall()
        return [_card(row) for row in found]


def _shape_name(shape: tuple[bool, ...]) -> str:
    return "".join("1" if on else "0" for on in shape)


def _card(row) -> Activity:
    """An activity as ``as_cards`` loads it from a row of ``_card_statements``."""
    names, hall_names, converters = _card_columns(connection.vendor)
    if converters:  # SQLite's text dates; PostgreSQL needs none
        row = list(row)
        for position, (functions, expression) in converters.items():
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
    width = len(names)
    activity = Activity.from_db(connection.alias, names, row[:width])
    venue_hall = Hall.from_db(connection.alias, hall_names, row[width : width + 2])
    _VENUE_HALL.set_cached_value(activity, venue_hall)
    activity.session_count = row[width + 2]
    return activity


_VENUE_HALL = Activity._meta.get_field("venue_hall")


def _card_fields() -> tuple[list, list]:
    """The activity's columns ``as_cards`` selects and the venue hall's, in the models' order
    (``Model.from_db`` takes a partial row in that order)."""
    activity = [f for f in Activity._meta.concrete_fields if f.attname in CARD_FIELDS]
    hall = [f for f in Hall._meta.concrete_fields if f.attname in ("id", "name")]
    return activity, hall


@functools.cache
def _card_columns(vendor: str) -> tuple[list[str], list[str], dict]:
    """The attribute names of a card's row and the database's value converters, worked out
    once per process (as the ORM does for every query)."""
    activity, hall = _card_fields()
    columns = [f.get_col(Activity._meta.db_table) for f in activity]
    columns += [f.get_col(Hall._meta.db_table) for f in hall]
    compiler = connection.ops.compiler("SQLCompiler")(
        Activity.objects.none().query, connection, connection.alias
    )
    return (
        [f.attname for f in activity],
        [f.attname for f in hall],
        compiler.get_converters(columns),
    )


@functools.cache
def _card_statements(vendor: str, shape: tuple[bool, ...]) -> tuple[str, str]:
    """The SELECT of a page of cards and the COUNT of them all, for the filters ``shape``
    names. Parameters: the published status and now, then each filter given in
    ``CARD_FILTERS`` order (seats take none), then, for the page, LIMIT and OFFSET."""
    quote = connection.ops.quote_name
    activity, hall = _card_fields()
    activities, halls = quote(Activity._meta.db_table), quote(Hall._meta.db_table)
    sessions = quote(CourseSession._meta.db_table)
    conditions = {
        # As network.models.subtree_q with a hall's id: its tree numbers read in the statement.
        "within": f"a.venue_hall_id IN (SELECT h.id FROM {halls} h INNER JOIN {halls} t"
        " ON h.tree_id = t.tree_id AND h.lft >= t.lft AND h.rght <= t.rght WHERE t.id = %s)",
        "category": "a.category = %s",
        "date_from": 'a."end" >= %s',
        "date_to": "a.start < %s",
        "seats_available": "(a.capacity IS NULL OR a.seats_taken < a.capacity)",
    }
    where = " AND ".join(
        ["a.status = %s", 'a."end" > %s']
        + [conditions[name] for name, on in zip(CARD_FILTERS, shape, strict=True) if on]
    )
    columns = ", ".join(
        [f"a.{quote(f.column)}" for f in activity] + [f"v.{quote(f.column)}" for f in hall]
    )
    select = (
        f"SELECT {columns},"
        f" (SELECT COUNT(*) FROM {sessions} s WHERE s.activity_id = a.id)"
        f" FROM {activities} a INNER JOIN {halls} v ON v.id = a.venue_hall_id"
        f" WHERE {where} ORDER BY a.start, a.id LIMIT %s OFFSET %s"
    )
    count = f"SELECT COUNT(*) FROM {activities} a WHERE {where}"
    return select, count


def _start_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min))


def _end_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.max))


# A subscribed calendar polls the feed; a hall's next few months fit well within this.
CALENDAR_FEED_LIMIT = 200


def activities_calendar(hall_id: int, *, now: datetime | None = None) -> QuerySet[Activity]:
    """A hall's feed: its activities that have not ended, organised or held there, published or
    cancelled (a subscribed calendar then marks a cancelled one as such), soonest first; one
    query."""
    now = now or timezone.now()
    return (
        with_session_count(
            Activity.objects.filter(
                Q(hall_id=hall_id) | Q(venue_hall_id=hall_id),
                status__in=[Activity.Status.PUBLISHED, Activity.Status.CANCELLED],
                end__gt=now,
            )
        )
        .select_related("hall", "venue_hall")
        .order_by("start", "pk")[:CALENDAR_FEED_LIMIT]
    )


def activities_featured(*, limit: int = 6) -> QuerySet[Activity]:
    return activities_public().filter(featured=True)[:limit]


def activity_public(activity_id: int) -> Activity | None:
    """A published or cancelled activity with its halls and ``session_count``: one query."""
    return (
        with_session_count(Activity.objects.select_related("hall", "venue_hall"))
        .filter(pk=activity_id)
        .exclude(status=Activity.Status.DRAFT)
        .first()
    )


def activity_bookable(activity_id: int) -> Activity | None:
    """What a booking needs of its activity, in one read of one row: a draft is not there.

    Written out, because every booking starts with it: building this SELECT in the ORM took
    a booking more time than PostgreSQL took to answer it, and a raw queryset's setup still
    three times what the row itself costs."""
    lowest, highest = connection.ops.integer_field_range("BigAutoField")
    if not (max(lowest, 1) <= activity_id <= highest):
        return None  # no such id (the ORM's lookups say so too; the driver would refuse it)
    names, sql, converters = _bookable_read(connection.vendor)
    with connection.cursor() as cursor:
        prepared.execute(cursor, "activity_bookable", sql, [activity_id, Activity.Status.DRAFT])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:  # SQLite's text dates and integer booleans; PostgreSQL needs none
        compiler = connection.ops.compiler("SQLCompiler")
        query = Activity.objects.none().query
        (row,) = compiler(query, connection, connection.alias).apply_converters([row], converters)
    return Activity.from_db(connection.alias, names, row)


@functools.cache
def _bookable_read(vendor: str) -> tuple[list[str], str, dict]:
    """The columns, the statement and the database's value converters of ``activity_bookable``,
    worked out once per process (as ``QuerySet.raw`` does for every query)."""
    fields = Activity._meta.concrete_fields
    quote = connection.ops.quote_name
    table = Activity._meta.db_table
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {quote(table)} WHERE id = %s AND status <> %s"
    compiler = connection.ops.compiler("SQLCompiler")(
        Activity.objects.none().query, connection, connection.alias
    )
    converters = compiler.get_converters([f.get_col(table) for f in fields])
    return [f.attname for f in fields], sql, converters


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


def bookings_by_phone(activity: Activity, digits: str, *, limit: int) -> list[Booking]:
    """The activity's bookings whose phone is ``digits`` (11 digits) or ends with them (the last
    four, as staff at the door ask), confirmed first: one query."""
    lookup = {"phone": digits} if len(digits) == 11 else {"phone__endswith": digits}
    return list(activity.bookings.filter(**lookup).order_by(*BOOKING_ORDER)[:limit])


def waitlist(activity: Activity) -> QuerySet[Booking]:
    return activity.bookings.filter(status=Booking.Status.WAITLISTED).order_by("created_at", "pk")


def notices_recent(*, within: Hall | None = None, limit: int = 5) -> QuerySet[Notice]:
    qs = Notice.objects.select_related("hall").filter(published_at__lte=timezone.now())
    if within is not None:
        qs = qs.filter(hall__in=hall_subtree(within.pk).values("pk"))
    return qs.order_by("-pinned", "-published_at")[:limit]


# --- Public pages -------------------------------------------------------------------------------


# The counties of the area filter are the same on every list page and change a few times a
# year: each web process keeps them this long in its own memory, so a list with filters no
# cache has seen reads them neither from the database nor from Redis (a round trip and 28
# halls unpickled a request, a tenth of such a page). A county added, renamed or closed shows
# in the filter once each process's copy expires: this much later at most.
AREA_COUNTIES_SECONDS = 60
_area_counties = ProcessMemory(seconds=AREA_COUNTIES_SECONDS, entries=8)


def area_counties(*, limit: int) -> list[Hall]:
    """County main halls with their city, in tree order, for the area filter (one query, or
    none while this process keeps them, ``AREA_COUNTIES_SECONDS``)."""
    counties = _area_counties.get(limit)
    if counties is None:
        counties = list(
            Hall.objects.filter(level=1)
            .select_related("parent")
            .only("pk", "locality", "tree_id", "lft", "parent__locality")
            .order_by("tree_id", "lft")[:limit]
        )
        _area_counties.set(limit, counties)
    return counties


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


def bookings_of_phone(phone: str) -> QuerySet[Booking]:
    """Every booking a phone has made, newest activity first, with its activity and venue,
    ``ahead``: the waiting parties ahead of it by the rule of ``waitlist_position``, and for a
    course ``session_count`` with ``with_completion``'s attendance and completion (one query
    whatever the number of bookings)."""
    ahead = (
        Booking.objects.filter(
            activity_id=OuterRef("activity_id"), status=Booking.Status.WAITLISTED
        )
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sessions = (
        CourseSession.objects.filter(activity_id=OuterRef("activity_id"))
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        with_completion(Booking.objects.filter(phone=phone))
        .select_related("activity", "activity__venue_hall")
        .annotate(
            ahead=Coalesce(Subquery(ahead), 0),
            session_count=Coalesce(Subquery(sessions, output_field=IntegerField()), 0),
        )
        .order_by("-activity__start", "-pk")
    )


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


def area_filter(request, form_class, *, unknown: str):
    """The area filter of a public list (county, township, or a hall's ``within``), bound to
    ``request.GET``: the form (its errors are shown, its valid filters still apply) and the
    hall whose subtree the list keeps, or None for everywhere. ``unknown`` is the message for a
    ``within`` that names no hall. Two queries at most (the counties, a county's townships),
    three with ``within``."""
    counties = area_counties(limit=COUNTY_CHOICES_MAX)
    try:
        county_id = int(request.GET.get("county", ""))
    except ValueError:
        county_id = None
    townships = area_townships(county_id) if county_id in {h.pk for h in counties} else []
    form = form_class(request.GET, counties=counties, townships=townships)
    form.is_valid()
    area = form.selected_township or form.selected_county
    if area is None and form.cleaned_data.get("within"):
        area = area_hall(form.cleaned_data["within"])
        if area is None:
            form.add_error("within", unknown)
    return form, area


# --- Participants (参与人次) ----------------------------------------------------------------------


def checked_in_seats_of(outer: str = "pk") -> Coalesce:
    """The checked-in seats of the activity ``outer`` names, as a subquery (0 when none)."""
    seats = (
        Booking.objects.filter(Booking.checked_in_q(), activity_id=OuterRef(outer))
        .values("activity_id")
        .annotate(n=Sum("seats"))
        .values("n")
    )
    return Coalesce(Subquery(seats, output_field=IntegerField()), 0)


def session_present_seats_of(outer: str = "pk") -> Subquery:
    """A course's people present, summed over its sessions (the seats of each booking marked
    present at each session), as a subquery: NULL while no roll was taken, so an activity
    that is not a course (or a course before its first roll-call) falls through."""
    seats = (
        SessionAttendance.objects.filter(session__activity_id=OuterRef(outer))
        .values("session__activity_id")
        .annotate(n=Sum(Case(When(present=True, then=F("booking__seats")), default=Value(0))))
        .values("n")
    )
    return Subquery(seats, output_field=IntegerField())


def participants_of() -> Coalesce:
    """An activity's participants, the one rule every figure uses: for a course whose roll was
    taken, the people present summed over its sessions (``SessionAttendance``); else the head
    count staff recorded (``Attendance``); else its checked-in seats. An expression over an
    activity queryset, so a sum or a monthly series of it is one query whatever the number of
    activities."""
    return Coalesce(
        session_present_seats_of(),
        F("attendance__head_count"),
        checked_in_seats_of(),
        output_field=IntegerField(),
    )


def with_participants(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Each activity with ``participants``, ``checked_in_seats``, ``attendance_method``
    (``None`` where no attendance was recorded) and ``roll_call_seats`` (a course's people
    present over its sessions, ``None`` before its first roll-call), in the same one query."""
    return activities.annotate(
        checked_in_seats=checked_in_seats_of(),
        attendance_method=F("attendance__method"),
        roll_call_seats=session_present_seats_of(),
        participants=participants_of(),
    )


def participants_total(activities: QuerySet[Activity]) -> int:
    """The participants of all these activities together: one query."""
    return activities.aggregate(n=Sum(participants_of()))["n"] or 0


def checked_in_seats(activity: Activity) -> int:
    return activity.bookings.filter(Booking.checked_in_q()).aggregate(n=Sum("seats"))["n"] or 0


def attendance_of(activity: Activity) -> Attendance | None:
    return Attendance.objects.select_related("recorded_by").filter(activity=activity).first()


def attendance_changes(activity: Activity) -> QuerySet[AttendanceChange]:
    return (
        AttendanceChange.objects.filter(attendance__activity=activity)
        .select_related("changed_by")
        .order_by("-changed_at", "-pk")
    )


def activities_today(scope_q: Q, *, now: datetime) -> dict[str, int]:
    """The published activities of the scope (``scope_q`` over activities, e.g.
    ``scope.q("hall__")``) that start today in local time, with their confirmed seats and the
    seats checked in so far: one query."""
    today = timezone.localtime(now).date()
    booked = Q(bookings__status=Booking.Status.CONFIRMED)
    return Activity.objects.filter(
        scope_q,
        status=Activity.Status.PUBLISHED,
        start__gte=_start_of(today),
        start__lte=_end_of(today),
    ).aggregate(
        activities=Count("pk", distinct=True),
        booked=Coalesce(Sum("bookings__seats", filter=booked), 0),
        checked_in=Coalesce(Sum("bookings__seats", filter=Booking.checked_in_q("bookings__")), 0),
    )


# --- Courses (培训班) -----------------------------------------------------------------------------


def course_sessions(activity: Activity) -> list[CourseSession]:
    """A course's sessions in order; no query when the activity carries ``session_count`` 0
    (``activities_public``, ``activity_public``)."""
    if getattr(activity, "session_count", None) == 0:
        return []
    return list(CourseSession.objects.filter(activity=activity).order_by("start", "pk"))


def attach_sessions(activities: list[Activity]) -> list[Activity]:
    """Set ``session_list`` on each activity (``session_count`` from ``activities_public``):
    one query for all the courses among them, none when there are none."""
    courses = [a.pk for a in activities if getattr(a, "session_count", 1)]
    by_activity: dict[int, list[CourseSession]] = {}
    if courses:
        for session in CourseSession.objects.filter(activity_id__in=courses).order_by(
            "start", "pk"
        ):
            by_activity.setdefault(session.activity_id, []).append(session)
    for activity in activities:
        activity.session_list = by_activity.get(activity.pk, [])
    return activities


def with_session_count(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Each activity with ``session_count`` (0: not a course), in the list's own query."""
    return activities.annotate(session_count=_session_count())


@functools.cache
def _session_count() -> Coalesce:
    # Built once: annotate() resolves a copy of it for each query, never the expression itself.
    sessions = (
        CourseSession.objects.filter(activity_id=OuterRef("pk"))
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sessions, output_field=IntegerField()), 0)


def with_next_session(activities: QuerySet[Activity], *, now: datetime) -> QuerySet[Activity]:
    """Each activity with ``next_start`` and ``next_end``, in the list's own query: for a
    course, the start and end of its first session not over at ``now`` (its own start is its
    first session's, weeks back); for any other activity, its start and end."""
    sessions = CourseSession.objects.filter(activity_id=OuterRef("pk"), end__gte=now).order_by(
        "start", "pk"
    )
    return activities.annotate(
        next_start=Coalesce(Subquery(sessions.values("start")[:1]), F("start")),
        next_end=Coalesce(Subquery(sessions.values("end")[:1]), F("end")),
    )


def held_between_q(start: datetime, end: datetime) -> Q:
    """Activities that start in [start, end), or are courses with a session starting in it."""
    sessions = CourseSession.objects.filter(
        activity_id=OuterRef("pk"), start__gte=start, start__lt=end
    )
    return Q(start__gte=start, start__lt=end) | Q(Exists(sessions))


def _held_sessions_of(outer: str, now: datetime) -> Coalesce:
    held = (
        CourseSession.objects.filter(activity_id=OuterRef(outer), start__lte=now)
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(held, output_field=IntegerField()), 0)


def completed_q() -> Q:
    """A booking that completed its course: present at ``completion_share`` percent or more of
    the sessions held (and at least one held). Needs ``with_completion``'s annotations."""
    # present ≥ ⌈held × share / 100⌉, in whole numbers on every database.
    return Q(held__gt=0, present_times__gte=(F("held") * F("share") + 99) / 100)


def with_completion(bookings: QuerySet[Booking], *, now: datetime | None = None):
    """Each booking with ``present_times`` (sessions it was present at), ``held`` (its course's
    sessions started by ``now``), ``share`` (the course's completion share, in percent) and
    ``completed``: the one rule of completion (结业), in the same one query."""
    now = now or timezone.now()
    present = (
        SessionAttendance.objects.filter(booking_id=OuterRef("pk"), present=True)
        .order_by()
        .values("booking_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return bookings.annotate(
        present_times=Coalesce(Subquery(present, output_field=IntegerField()), 0),
        held=_held_sessions_of("activity_id", now),
        share=F("activity__completion_share"),
    ).annotate(
        completed=Case(
            When(completed_q(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def course_roll(activity: Activity, *, now: datetime | None = None) -> list[Booking]:
    """The confirmed bookings of a course with their attendance and completion: one query."""
    return list(
        with_completion(
            activity.bookings.filter(status=Booking.Status.CONFIRMED), now=now
        ).order_by("created_at", "pk")
    )


def session_roll(session: CourseSession) -> list[Booking]:
    """The confirmed bookings of the session's course, each with ``present`` (True, False, or
    None while not yet taken) and ``with_completion``'s attendance so far: one query."""
    present = SessionAttendance.objects.filter(
        session_id=session.pk, booking_id=OuterRef("pk")
    ).values("present")
    return list(
        with_completion(
            Booking.objects.filter(activity_id=session.activity_id, status=Booking.Status.CONFIRMED)
        )
        .annotate(present=Subquery(present))
        .order_by("created_at", "pk")
    )


def trainees_total(activities: QuerySet[Activity], *, now: datetime | None = None) -> int:
    """培训人次: the seats of the bookings that completed these activities' courses (one
    query)."""
    done = with_completion(
        Booking.objects.filter(
            activity__in=activities.values("pk"), status=Booking.Status.CONFIRMED
        ),
        now=now,
    ).filter(completed_q())
    return done.aggregate(n=Sum("seats"))["n"] or 0
