"""Checks the API tests share."""

from __future__ import annotations


def assert_field_error(response, field: str) -> None:
    """A 400 whose body names ``field`` alone, with at least one message, each a non-empty
    string: the one error shape of ``common.api``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [field]
    assert body[field] and all(isinstance(m, str) and m for m in body[field])
