"""Hot statements prepared once per PostgreSQL connection (common/prepared.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from common import prepared
from tests.activities.factories import published_activity
from tests.conftest import consenting_client, need_postgres, verify_phone

pytestmark = pytest.mark.django_db


def _prepared_here() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _run(name: str, sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        prepared.execute(cursor, name, sql, params)
        return cursor.fetchall()


def test_a_statement_answers_as_it_would_unprepared_and_is_prepared_once():
    need_postgres()
    sql = "SELECT %(a)s::int + %(b)s::int, %(a)s::int * 2, '100%%'"
    assert _run("test_sum", sql, {"a": 2, "b": 3}) == [(5, 4, "100%")]
    assert _run("test_sum", sql, {"a": 10, "b": 1}) == [(11, 20, "100%")]
    statement = _prepared_here()["test_sum"]
    assert "$1::int + $2::int, $1::int * 2, '100%'" in statement

    positional = "SELECT %s::text || %s::text"
    assert _run("test_join", positional, ["关上", "社区"]) == [("关上社区",)]
    assert "$1::text || $2::text" in _prepared_here()["test_join"]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    need_postgres()
    sql = "SELECT %s::int + 1"
    assert _run("test_again", sql, [1]) == [(2,)]
    connection.close()  # as CONN_MAX_AGE does; pytest-django's transaction is gone with it
    assert "test_again" not in _prepared_here()
    assert _run("test_again", sql, [41]) == [(42,)]
    assert "test_again" in _prepared_here()


def test_turned_off_it_runs_the_statement_as_it_is(settings):
    need_postgres()
    settings.DB_PREPARED_STATEMENTS = False
    assert _run("test_off", "SELECT %s::int", [7]) == [(7,)]
    assert "test_off" not in _prepared_here()


def test_named_and_positional_parameters_do_not_mix():
    need_postgres()
    with pytest.raises(ValueError):
        _run("test_mixed", "SELECT %(a)s, %s", {"a": 1})


def test_it_answers_on_either_database():
    # SQLite (the embedded default) simply runs the statement.
    assert _run("test_either", "SELECT %s + 1", [1]) == [(2,)]


def test_a_booking_uses_its_prepared_statements(cast):
    need_postgres()
    activity = published_activity(cast.branch, capacity=5)
    response = consenting_client().post(
        f"/api/v1/activities/{activity.pk}/bookings/",
        {"name": "张三", "seats": 1},
        content_type="application/json",
        HTTP_X_RESIDENT_TOKEN=verify_phone("13800000001"),
    )
    assert response.status_code == 201, response.content
    names = set(_prepared_here())
    # The phone's record and the message are parts of the booking's statement.
    assert {"activity_bookable", "phone_for_token", "booking_insert"} <= names
