"""Checks the API tests share."""

from __future__ import annotations


def assert_field_error(response, field: str) -> None:
    """A 400 whose body names ``field`` alone, with at least one message, each a non-empty
    string: the one error shape of ``common.api``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [field]
    assert body[field] and all(isinstance(m, str) and m for m in body[field])


def token_auth(user) -> dict[str, str]:
    """The header of a fresh API token of ``user`` (an account or a username), as another
    system sends it."""
    from django.contrib.auth import get_user_model

    from network.tokens import api_token_create

    if isinstance(user, str):
        user = get_user_model().objects.get(username=user)
    _token, key = api_token_create(user=user, name="测试系统")
    return {"HTTP_AUTHORIZATION": f"Token {key}"}
