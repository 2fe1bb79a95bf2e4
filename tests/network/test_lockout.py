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


def test_no_one_adds_an_access_attempt_by_hand(client, cast):
    """django-axes records attempts itself and lets no one add one; the superuser-only wrapper
    granted it, and the page's POST was a 500 (the row needs fields the form lacks)."""
    client.force_login(cast.superuser)
    assert client.get("/admin/axes/accessattempt/add/").status_code == 403
    assert client.get("/admin/axes/accessattempt/").status_code == 200


def test_a_schedule_celery_cannot_read_is_refused_on_the_form(client, cast):
    from django_celery_beat.models import CrontabSchedule

    client.force_login(cast.superuser)
    fields = {"hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
    for minute in ("-1", "*/0", "99", ","):
        response = client.post(
            "/admin/django_celery_beat/crontabschedule/add/",
            {"minute": minute, **fields, "timezone": "Asia/Shanghai"},
        )
        assert response.status_code == 200, minute
        assert "minute" in response.context["adminform"].form.errors, minute
    assert not CrontabSchedule.objects.filter(minute__in=["-1", "*/0", "99", ","]).exists()
