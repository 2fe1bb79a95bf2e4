"""The PostgreSQL backend's health check (common/postgresql): the socket, not a round trip."""

from __future__ import annotations

import os
import time

import psycopg2
import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from tests.conftest import need_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def _terminated_by_the_server() -> None:
    """Another session ends this connection's, as a restart or an administrator would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def _within(seconds: float, condition) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_settings_use_the_backend_and_keep_health_checks_on():
    need_postgres()
    wrapper = connections["default"]
    assert isinstance(wrapper, DjangoWrapper)
    assert type(wrapper).__module__ == "common.postgresql.base"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_live_idle_connection_is_usable_and_asking_sends_nothing():
    need_postgres()
    # A connection of its own: an earlier test's teardown may have ended the one it had (and
    # the check is right to find that one unusable).
    connection.close()
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    before = _statements_seen(pid)
    assert all(connection.is_usable() for _i in range(50))
    # Django's own check would have sent 50 × SELECT 1.
    assert _statements_seen(pid) == before


def test_a_connection_numbered_past_1023_is_checked_as_any_other():
    # A long-running process with many files open gets such descriptors; select() cannot
    # watch them, and every request would have started a new connection.
    need_postgres()
    held = []
    try:
        while not held or held[-1] < 1100:
            held.append(os.open(os.devnull, os.O_RDONLY))
        connection.close()
        connection.ensure_connection()
        assert connection.connection.fileno() > 1023
        assert connection.is_usable()
        _terminated_by_the_server()
        assert _within(5, lambda: not connection.is_usable())
    finally:
        connection.close()
        for fd in held:
            os.close(fd)


def _statements_seen(pid: int) -> str:
    """The last statement the session ``pid`` ran, as another session sees it."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone()[0]
    finally:
        other.close()


def test_a_connection_the_server_closed_is_replaced_before_the_next_request_uses_it():
    need_postgres()
    connection.close()
    connection.ensure_connection()
    first = connection.connection
    _terminated_by_the_server()
    assert _within(5, lambda: not connection.is_usable())
    # What Django does before a request's first query: the check fails, the connection goes.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection is not first
    close_old_connections()
