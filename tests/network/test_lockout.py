"""Five wrong passwords lock an account (django-axes, per user name) for half an hour."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def _login(client, username, password):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, follow=False
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, cast, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _attempt in range(4):
        response = _login(client, "branch_staff", "wrong-password")
        assert response.status_code == 200 and not _logged_in(client)
    response = _login(client, "branch_staff", "wrong-password")
    assert response.status_code == 429

    response = _login(client, "branch_staff", cast.password)
    assert response.status_code == 429
    assert not _logged_in(client)
    page = response.content.decode()
    assert "账号已暂时锁定" in page
    assert "branch_staff" in page and "0:30:00" in page
    assert "管理员" in page  # it says whom to ask
    assert client.get(reverse("admin:index")).status_code == 302  # still at the login page


def test_the_lock_is_per_account_not_per_address(client, cast):
    for _attempt in range(5):
        _login(client, "branch_staff", "wrong-password")
    response = _login(client, "county_director", cast.password)
    assert response.status_code == 302 and _logged_in(client)


def test_a_right_password_before_the_limit_clears_the_failures(client, cast):
    for _attempt in range(4):
        _login(client, "branch_staff", "wrong-password")
    assert _login(client, "branch_staff", cast.password).status_code == 302
    client.logout()
    for _attempt in range(4):
        _login(client, "branch_staff", "wrong-password")
    assert _login(client, "branch_staff", cast.password).status_code == 302
