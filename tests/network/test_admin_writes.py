"""Forms validate, services write: validating an admin form never touches the database, and a
rule only the service knows comes back on the same form, with the input kept."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

from network.models import Hall, Membership, Role


def _form_class(model, user, obj=None):
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[model].get_form(request, obj, change=obj is not None)


def test_validating_the_hall_form_writes_nothing(cast):
    form = _form_class(Hall, cast.county_director)(
        data={
            "parent": cast.branch.pk,
            "name": "关上三社区服务中心",
            "locality": "关上三社区",
            "status": "open",
            "operator": "government",
            "code": "530111001003",
        }
    )
    before = Hall.objects.count()
    assert form.is_valid(), form.errors
    assert Hall.objects.count() == before


def test_validating_the_membership_form_writes_nothing(cast):
    form_class = _form_class(Membership, cast.county_director)
    form = form_class(
        data={"username": "new_staff", "hall": cast.branch.pk, "role": Role.STAFF, "password": ""}
    )
    before = Membership.objects.count()
    assert form.is_valid(), form.errors
    assert Membership.objects.count() == before
    assert not Membership.objects.filter(user__username="new_staff").exists()


def test_a_refusal_keeps_what_was_typed(client, cast):
    client.force_login(cast.county_director)
    data = {
        # The hall's two inlines (weekly hours, closure dates), empty.
        **{
            f"{p}-{n}": 0
            for p in ("weekly_hours", "closures")
            for n in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
        "parent": cast.point.pk,  # a point under a point: only the service knows
        "name": "关上三社区服务中心",
        "locality": "关上三社区",
        "status": "open",
        "operator": "government",
        "code": "530111001004",
    }
    response = client.post("/admin/network/hall/add/", data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "最末一级" in str(form.errors["parent"])
    assert form["name"].value() == "关上三社区服务中心"
    assert form["code"].value() == "530111001004"
    assert not Hall.objects.filter(code="530111001004").exists()


def test_a_link_typed_wrong_is_a_form_error_not_a_server_error(client, cast):
    """Django's autocomplete widget, shown again after a refused POST, looked the submitted
    value up as it stood: a hall of ``abc``, ``0.5`` or an id past the integer range was a 500
    on every admin form that links to a hall."""
    client.force_login(cast.county_director)
    for junk in ("abc", "0.5", str(2**70), "-1"):
        response = client.post(
            "/admin/activities/notice/add/", {"hall": junk, "title": "通知", "body": "正文"}
        )
        assert response.status_code == 200, junk
        assert "hall" in response.context["adminform"].form.errors, junk
    response = client.post(
        "/admin/activities/notice/add/",
        {"hall": cast.branch.pk, "title": "", "body": "正文"},
    )
    # A hall that is fine is shown again, selected, beside the other field's error.
    assert response.status_code == 200
    assert f'value="{cast.branch.pk}" selected' in response.content.decode()
