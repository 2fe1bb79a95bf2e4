"""The SQL a booking runs, written out: the phone's record and, on PostgreSQL, the booking as one
statement (``activities.services.booking_create`` runs them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from activities.residents.models import Message
from activities.residents.services import MESSAGE_COLUMNS
from common import privacy

from .models import Activity, Booking

# The phone's live bookings of the activity (0 or 1) and its no-shows in the window, as
# ``activities.services._no_shows`` defines them. Plain SQL, because every booking asks this:
# building the ORM's filtered aggregate cost several times what PostgreSQL took to answer it. On
# PostgreSQL it is part of the booking's statement; elsewhere it runs before the booking's
# transaction.
PHONE_RECORD = f"""
SELECT
    COALESCE(SUM(CASE WHEN b.activity_id = %(activity_id)s THEN 1 ELSE 0 END), 0) AS booked,
    COALESCE(SUM(CASE WHEN b.status = %(confirmed)s AND b.checked_in_at IS NULL
        AND a.status = %(published)s AND a."end" < %(now)s AND a."end" >= %(window)s
        THEN 1 ELSE 0 END), 0) AS no_shows
FROM {Booking._meta.db_table} b JOIN {Activity._meta.db_table} a ON a.id = b.activity_id
WHERE b.phone IN (%(phone)s, %(phone_hash)s) AND b.status <> %(cancelled)s
"""


def phone_record_params(phone: str, activity_id: int, now: datetime) -> dict:
    ops = connection.ops
    own, hashed = privacy.phone_forms(phone)
    return {
        "activity_id": activity_id,
        "phone": own,
        "phone_hash": hashed,
        "now": ops.adapt_datetimefield_value(now),
        "window": ops.adapt_datetimefield_value(now - timedelta(days=settings.NO_SHOW_WINDOW_DAYS)),
        "confirmed": Booking.Status.CONFIRMED.value,
        "waitlisted": Booking.Status.WAITLISTED.value,
        "cancelled": Booking.Status.CANCELLED.value,
        "published": Activity.Status.PUBLISHED.value,
    }


def phone_record(phone: str, activity_id: int, now: datetime) -> tuple[int, int]:
    """The phone's live bookings of this activity (0 or 1) and its no-shows in the window, in
    one read before the transaction: nothing here needs the seat lock, and the constraint still
    decides a race between two requests of one phone."""
    with connection.cursor() as cursor:
        cursor.execute(PHONE_RECORD, phone_record_params(phone, activity_id, now))
        booked, no_shows = cursor.fetchone()
    return int(booked), int(no_shows)


# The message's columns are the model's (``MESSAGE_COLUMNS``), each given as ``message_row``
# made it for the confirmed message (``%(message_<column>)s``), except these three, which
# depend on whether the party waits and at which place.
_TOLD = {
    "template": """CASE WHEN place.position IS NULL THEN %(confirmed_template)s
        ELSE %(waitlisted_template)s END""",
    "params": """CASE WHEN place.position IS NULL THEN %(confirmed_params)s::jsonb
        ELSE jsonb_set(%(waitlisted_params)s::jsonb, '{position}',
            to_jsonb(place.position::text)) END""",
    "text": """CASE WHEN place.position IS NULL THEN %(confirmed_text)s::text
        ELSE %(waitlisted_text)s::text || place.position || %(waitlisted_text_after)s::text
        END""",
}

# On PostgreSQL a booking is one statement: its own transaction, one round trip, and the
# activity's row is locked (while seats are left) only for as long as the statement runs.
# - ``record``: the phone's record (PHONE_RECORD); ``clear`` says whether it lets the phone
#   book (no live booking of the activity; fewer no-shows than a ban needs, unless the caller
#   has found that they ban nothing). When it does not, nothing below writes a row.
# - ``seat``: the conditional UPDATE that takes the seats if they all fit.
# - ``saved``: the booking, confirmed or waiting.
# - ``place``: a waiting party's place in the queue; the count reads the statement's snapshot,
#   so the booking it inserts is not among those ahead of it.
# - ``told``: the message that tells the resident, confirmed or waiting (with its place), saved
#   with the booking: a booking never commits without its message.
BOOKING_INSERT = f"""
WITH record AS ({PHONE_RECORD}), clear AS (
    SELECT booked = 0 AND (no_shows < %(no_show_limit)s OR %(no_shows_checked)s) AS ok
    FROM record
), seat AS (
    UPDATE {Activity._meta.db_table} SET seats_taken = seats_taken + %(seats)s
    WHERE id = %(activity_id)s AND status = %(published)s AND seats_taken <= capacity - %(seats)s
        AND (SELECT ok FROM clear)
    RETURNING id
), saved AS (
    INSERT INTO {Booking._meta.db_table}
        (activity_id, code, name, phone, seats, status, created_at, confirmed_at, cancel_reason,
         group_kind, group_name, consent_version, consented_at)
    SELECT %(activity_id)s, %(code)s, %(name)s, %(phone)s, %(seats)s,
        CASE WHEN taken THEN %(confirmed)s ELSE %(waitlisted)s END,
        %(created_at)s, CASE WHEN taken THEN %(now)s::timestamptz END, '',
        %(group_kind)s, %(group_name)s, %(consent_version)s, %(consented_at)s
    FROM (SELECT EXISTS (SELECT FROM seat) AS taken) AS outcome
    WHERE (SELECT ok FROM clear)
    RETURNING {", ".join(f.column for f in Booking._meta.concrete_fields)}
), place AS (
    SELECT saved.id, CASE WHEN saved.status = %(waitlisted)s THEN 1 + (
        SELECT COUNT(*) FROM {Booking._meta.db_table} ahead
        WHERE ahead.activity_id = %(activity_id)s AND ahead.status = %(waitlisted)s
            AND (ahead.created_at, ahead.id) < (%(created_at)s, saved.id)
    ) END AS position
    FROM saved
), told AS (
    INSERT INTO {Message._meta.db_table} ({", ".join(f'"{c}"' for c in MESSAGE_COLUMNS)})
    SELECT {", ".join(_TOLD.get(c, f"%(message_{c})s") for c in MESSAGE_COLUMNS)}
    FROM place
    RETURNING id
)
SELECT record.booked, record.no_shows, place.position, told.id, saved.*
FROM record LEFT JOIN saved ON TRUE LEFT JOIN place ON TRUE LEFT JOIN told ON TRUE
"""
