"""Hot statements as PostgreSQL prepared statements: planned once per connection, not per call.

A booking runs five statements written out in SQL (the activity, the resident's token, the
phone's record, the seat and the booking in one statement, its message). PostgreSQL planned each
of them again on every call, and planning the booking statement took about as long as running it
(bench/booking_bench.py, docs/BENCHMARKS.md). ``execute`` prepares a statement the first time a
connection runs it and then sends ``EXECUTE name(...)`` with the same parameters.

Prepared statements live in the database session, so they need a session per connection: true
of Django's persistent connections (``CONN_MAX_AGE``) and of a pooler in session mode, not of
PgBouncer in transaction mode; ``DB_PREPARED_STATEMENTS=0`` turns them off (docs/DEPLOYMENT.md).
PREPARE is not transactional: a rollback does not undo it. On other databases (SQLite, the
embedded default) the statement simply runs.
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import connection

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s")
# What each psycopg2 connection has prepared; weak, so a closed connection takes its set along.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@functools.cache
def _statements(name: str, sql: str) -> tuple[str, str]:
    """PREPARE and EXECUTE for ``sql``: its placeholders (``%(name)s`` or ``%s``) numbered
    ``$1, $2, …`` in the one, passed on in that order in the other."""
    names: list[str] = []
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group(1) is None:
            count += 1
            return f"${count}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    # Run without parameters, PREPARE's text is not interpolated: an escaped %% is a plain %.
    numbered = _PLACEHOLDER.sub(number, sql).replace("%%", "%")
    if names and count:
        raise ValueError("a statement takes named or positional parameters, not both")
    arguments = [f"%({n})s" for n in names] or ["%s"] * count
    run = f"EXECUTE {name}({', '.join(arguments)})" if arguments else f"EXECUTE {name}"
    return f"PREPARE {name} AS {numbered}", run


def execute(cursor, name: str, sql: str, params: Mapping | Sequence) -> None:
    """``cursor.execute(sql, params)``, as the prepared statement ``name`` on PostgreSQL.

    ``name`` must stand for this one statement everywhere in the code."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    prepare, run = _statements(name, sql)
    raw = connection.connection
    with _lock:
        done = _prepared.setdefault(raw, set())
    if name not in done:
        # On the driver's own cursor: preparing is not one of the request's queries (tests pin
        # those), and it happens once per connection, not per request.
        with raw.cursor() as driver:
            driver.execute(prepare)
        done.add(name)
    cursor.execute(run, params)
