"""The admin's scope matrix: every registered ModelAdmin, tried as the wrong account.

Every model registered in ``admin.site`` is covered automatically. A new model needs an object to
place outside the tester's scope: add it to ``SCOPE_OBJECTS`` below or define
``admin_scope_object(model, halls)`` in ``tests/<app>/factories.py`` (``halls`` has ``main``,
``branch`` and ``point``, all outside the scope of the account under test). Without one the
matrix fails, naming the model.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.urls import reverse
from openpyxl import load_workbook

from network import services
from network.admin_scope import ScopedAdminMixin
from network.models import (
    AssignmentKind,
    Hall,
    HallKind,
    Membership,
    Role,
    subtree_q,
)
from portal.admin import SUPERUSER_ONLY_APPS

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def _membership(halls):
    return services.staff_member_add(
        username=f"someone{next(_serial)}", hall=halls.branch, role=Role.STAFF
    )


def _assignment(halls):
    return services.assignment_create(
        kind=AssignmentKind.INSTRUCTOR,
        from_hall=halls.main,
        to_hall=halls.branch,
        person_name=f"指导员{next(_serial)}",
        start_date=dt.date(2026, 1, 1),
    )


def _training(halls):
    training = services.training_create(
        hall=halls.main,
        title=f"分馆业务骨干培训{next(_serial)}",
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 3, 2),
        hours=Decimal("12"),
        teacher="王老师",
    )
    services.training_attendance_add(
        training=training, name="赵六", hall=halls.point, hours=Decimal("12")
    )
    return training


def _volunteer(halls):
    return services.volunteer_register(
        hall=halls.point, name=f"志愿者{next(_serial)}", phone=f"1390000{next(_serial):04d}"
    )


def _activity(halls):
    from tests.activities.factories import published_activity

    return published_activity(halls.branch, title=f"花灯戏专场{next(_serial)}")


def _booking(halls):
    from activities.services import booking_create

    return booking_create(
        activity_id=_activity(halls).pk, name="张三", phone="13800138000", seats=1
    )


def _notice(halls):
    from django.utils import timezone

    from activities.models import Notice

    return Notice.objects.create(
        hall=halls.branch,
        title=f"开放时间调整{next(_serial)}",
        body="周一闭馆",
        published_at=timezone.now(),
    )


SCOPE_OBJECTS = {
    "network.Hall": lambda halls: halls.branch,
    "network.Membership": _membership,
    "network.StaffAssignment": _assignment,
    "network.Training": _training,
    "network.Volunteer": _volunteer,
    # Models of other apps may instead define admin_scope_object() in tests/<app>/factories.py.
    "activities.Activity": _activity,
    "activities.Booking": _booking,
    "activities.Notice": _notice,
}


# Admins whose rule is not a hall's subtree, tried by their own tests: naming schemes are shared
# by whole city trees and only a centre hall's staff may touch them (tests/network/test_naming.py
# tries the wrong scope, officials and the other levels' staff).
# API tokens belong to an account, not a hall: each account sees its own
# (tests/network/test_tokens.py tries another account's).
OWN_RULES = {"network.NamingScheme", "network.ApiToken"}


def _factory(model):
    if model._meta.label in OWN_RULES:
        return None
    if model._meta.label in SCOPE_OBJECTS:
        return SCOPE_OBJECTS[model._meta.label]
    try:
        factories = importlib.import_module(f"tests.{model._meta.app_config.name}.factories")
    except ModuleNotFoundError:
        return None
    make = getattr(factories, "admin_scope_object", None)
    return (lambda halls: make(model, halls)) if make else None


def scope_object(model, halls):
    obj = _factory(model)(halls)
    assert obj is not None, f"admin_scope_object() made nothing for {model._meta.label}"
    return obj


def scoped_admins():
    """The registered admins the matrix can try; ``test_every_admin_model_has_an_object`` names
    the ones it cannot."""
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label not in SUPERUSER_ONLY_APPS and _factory(model) is not None
    ]


def test_every_admin_model_has_an_object_for_the_matrix():
    missing = [
        model._meta.label
        for model in admin.site._registry
        if model._meta.app_label not in SUPERUSER_ONLY_APPS
        and model._meta.label not in OWN_RULES
        and _factory(model) is None
    ]
    assert not missing, (
        f"No out-of-scope object for {missing}: add one to SCOPE_OBJECTS in {__name__} or "
        "admin_scope_object(model, halls) to tests/<app>/factories.py"
    )


def _guandu(cast):
    return SimpleNamespace(main=cast.county, branch=cast.branch, point=cast.point)


def _wuhua(cast):
    return SimpleNamespace(
        main=cast.other_county, branch=cast.other_county_branch, point=cast.other_county_point
    )


# Whose scope each set of halls lies outside of.
TESTERS = {
    "other_branch_staff": _guandu,
    "other_county_director": _guandu,
    "county_official": _wuhua,
}


def _other_city():
    """A second city tree: outside even the city-wide reading of a shared catalogue."""
    centre = services.hall_create(
        parent=None, name="玉溪市文化馆", locality="玉溪市", code="530400"
    )
    main = services.hall_create(
        parent=centre, name="红塔区文化馆", locality="红塔区", code="530402"
    )
    branch = services.hall_create(parent=main, name="玉兴街道综合文化站", locality="玉兴街道")
    point = services.hall_create(parent=branch, name="玉兴一社区服务中心", locality="玉兴一社区")
    return SimpleNamespace(main=main, branch=branch, point=point)


def _outside(model_admin, halls, cache: dict):
    """The halls outside what the tester reads. An admin with ``read_scope = "city"`` (the shared
    resource catalogue) shows its whole city to every account, so only another city is outside;
    ``test_a_city_wide_catalogue_is_read_but_not_changed_outside_the_scope`` covers the rest."""
    if getattr(model_admin, "read_scope", "scope") != "city":
        return halls
    if "city" not in cache:
        cache["city"] = _other_city()
    return cache["city"]


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_admin_is_scoped_or_for_superusers_only():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in SUPERUSER_ONLY_APPS:
            continue
        assert isinstance(model_admin, ScopedAdminMixin), (
            f"{model._meta.label}'s admin must use network.admin_scope.ScopedAdminMixin"
        )


@pytest.mark.parametrize("tester", TESTERS)
def test_objects_outside_the_scope_are_not_listed_and_answer_404(client, cast, tester):
    user = getattr(cast, tester)
    halls = TESTERS[tester](cast)
    client.force_login(user)
    far: dict = {}
    for model, model_admin in scoped_admins():
        obj = scope_object(model, _outside(model_admin, halls, far))
        label = f"{model._meta.label} as {tester}"

        response = client.get(_url(model, "changelist"))
        assert response.status_code == 200, label
        changelist = response.context["cl"]
        assert obj.pk not in {row.pk for row in changelist.result_list}, label
        assert not changelist.root_queryset.filter(pk=obj.pk).exists(), label
        # Searching the object's own words does not find it either.
        response = client.get(_url(model, "changelist"), {"q": str(obj)[:20]})
        assert obj.pk not in {row.pk for row in response.context["cl"].result_list}, label

        for view in ("change", "history", "delete"):
            assert client.get(_url(model, view, obj.pk)).status_code == 404, f"{label} {view}"
        assert client.post(_url(model, "change", obj.pk), {}).status_code == 404, label


@pytest.mark.parametrize("tester", TESTERS)
def test_actions_touch_only_the_scope(client, cast, tester):
    user = getattr(cast, tester)
    halls = TESTERS[tester](cast)
    client.force_login(user)
    far: dict = {}
    for model, model_admin in scoped_admins():
        obj = scope_object(model, _outside(model_admin, halls, far))
        before = model.objects.filter(pk=obj.pk).count()
        for action in ("delete_selected", "export_xlsx"):
            response = client.post(
                _url(model, "changelist"),
                {"action": action, "_selected_action": [obj.pk], "post": "yes"},
            )
            # 403 when the account may not run the action at all (nobody deletes a hall).
            assert response.status_code in (200, 302, 403), (model, action)
            if response.get("Content-Type", "").startswith("application/vnd.openxml"):
                sheet = load_workbook(io.BytesIO(response.content)).active
                assert sheet.max_row == 1, f"{model._meta.label}: exported out-of-scope rows"
        assert model.objects.filter(pk=obj.pk).count() == before, model


@pytest.mark.parametrize("tester", ["other_branch_staff", "other_county_director"])
def test_a_city_wide_catalogue_is_read_but_not_changed_outside_the_scope(client, cast, tester):
    """Deliberately wider reading: the resource catalogue is shared by the city's network so
    that halls can ask each other for things; only the owner's scope changes an entry."""
    client.force_login(getattr(cast, tester))
    city_wide = [
        (model, model_admin)
        for model, model_admin in scoped_admins()
        if getattr(model_admin, "read_scope", "scope") == "city"
    ]
    assert city_wide, "the resource catalogue is read city-wide"
    for model, _model_admin in city_wide:
        obj = scope_object(model, _guandu(cast))
        before = model_to_dict(model.objects.get(pk=obj.pk))
        label = f"{model._meta.label} as {tester}"
        listed = client.get(_url(model, "changelist")).context["cl"].result_list
        assert obj.pk in {row.pk for row in listed}, label
        page = client.get(_url(model, "change", obj.pk))
        assert page.status_code == 200 and not page.context["has_change_permission"], label
        assert client.post(_url(model, "change", obj.pk), {"name": "改掉"}).status_code == 403
        assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        client.post(
            _url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert model_to_dict(model.objects.get(pk=obj.pk)) == before, label


def test_officials_read_but_cannot_change_add_or_delete(client, cast):
    client.force_login(cast.county_official)
    halls = _guandu(cast)  # inside the official's county
    for model, model_admin in scoped_admins():
        obj = scope_object(model, halls)
        label = model._meta.label
        before = model_to_dict(model.objects.get(pk=obj.pk))

        assert client.get(_url(model, "changelist")).status_code == 200, label
        page = client.get(_url(model, "change", obj.pk))
        assert page.status_code == 200, label
        assert not page.context["has_change_permission"], label
        assert client.post(_url(model, "change", obj.pk), {"name": "改掉"}).status_code == 403
        assert client.get(_url(model, "add")).status_code == 403, label
        assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403

        actions = model_admin.get_actions(page.wsgi_request)
        assert "export_xlsx" in actions and "delete_selected" not in actions, label
        for func, name, _description in actions.values():
            assert set(getattr(func, "allowed_permissions", ())) <= {"view"}, (label, name)
        response = client.post(
            _url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert model_to_dict(model.objects.get(pk=obj.pk)) == before, label
        assert response.status_code == 403, label


def test_staff_open_the_add_and_change_pages_of_their_own_scope(client, cast):
    client.force_login(cast.county_director)
    for model, model_admin in scoped_admins():
        obj = scope_object(model, _guandu(cast))
        add = client.get(_url(model, "add"))
        may_add = model_admin.has_add_permission(add.wsgi_request)
        assert add.status_code == (200 if may_add else 403), model
        page = client.get(_url(model, "change", obj.pk))
        assert page.status_code == 200 and page.context["has_change_permission"], model


def test_an_official_exports_the_scope_only(client, cast):
    client.force_login(cast.county_official)
    everything = list(Hall.objects.values_list("pk", flat=True))
    response = client.post(
        _url(Hall, "changelist") + "?q=5301",  # every code: the whole scope, not one level
        {"action": "export_xlsx", "_selected_action": everything},
    )
    assert response.content.startswith(b"PK"), response.content[:200]
    rows = load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    header = next(rows)
    names = {row[header.index("名称")] for row in rows}
    county = Hall.objects.get(pk=cast.county.pk)
    assert names == {h.name for h in Hall.objects.filter(subtree_q(county))}


@pytest.mark.parametrize("tester", TESTERS)
def test_dropdowns_offer_only_halls_in_scope(client, cast, tester):
    user = getattr(cast, tester)
    outside = {h.pk for h in vars(TESTERS[tester](cast)).values()}
    client.force_login(user)
    for model, model_admin in scoped_admins():
        request = client.get(_url(model, "changelist")).wsgi_request
        form_class = model_admin.get_form(request, None)
        for name, field in form_class.base_fields.items():
            if getattr(field, "queryset", None) is None:
                continue
            if field.queryset.model is Hall:
                offered = set(field.queryset.values_list("pk", flat=True))
                assert not offered & outside, f"{model._meta.label}.{name} as {tester}"
                assert offered, f"{model._meta.label}.{name} offers nothing to {tester}"
            if field.queryset.model is get_user_model():
                offered = set(field.queryset.values_list("username", flat=True))
                assert "root" not in offered, f"{model._meta.label}.{name}"


@pytest.mark.parametrize("tester", TESTERS)
def test_the_hall_autocomplete_answers_only_the_scope(client, cast, tester):
    client.force_login(getattr(cast, tester))
    outside = {str(h.pk) for h in vars(TESTERS[tester](cast)).values()}
    for source, field in [
        ("hall", "parent"),
        ("membership", "hall"),
        ("volunteer", "hall"),
        ("training", "hall"),
        ("staffassignment", "to_hall"),
    ]:
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "network", "model_name": source, "field_name": field, "term": ""},
        )
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert ids and not ids & outside, (source, field, tester)


def test_the_parent_autocomplete_never_offers_a_point(client, cast):
    client.force_login(cast.county_director)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "network", "model_name": "hall", "field_name": "parent", "term": "社区"},
    )
    assert response.json()["results"] == []


def test_a_hall_outside_the_scope_cannot_be_picked_as_parent(client, cast):
    client.force_login(cast.other_branch_staff)
    before = Hall.objects.count()
    response = client.post(
        _url(Hall, "add"),
        {
            "parent": cast.branch.pk,
            "name": "偷建的服务点",
            "locality": "偷建",
            "status": "open",
            "operator": "government",
        },
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Hall.objects.count() == before


def test_an_account_without_membership_sees_nothing(client, cast):
    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("admin:index")).context["app_list"] == []
    for model, _model_admin in scoped_admins():
        assert client.get(_url(model, "changelist")).status_code == 403, model


@pytest.mark.parametrize("app_label", sorted(SUPERUSER_ONLY_APPS))
def test_accounts_lockouts_and_schedules_are_for_superusers_only(client, cast, app_label):
    models = [m for m in admin.site._registry if m._meta.app_label == app_label]
    assert models, f"nothing of {app_label} is registered"
    for model in models:
        client.force_login(cast.centre_director)
        assert client.get(_url(model, "changelist")).status_code == 403, model
        client.force_login(cast.superuser)
        assert client.get(_url(model, "changelist")).status_code == 200, model


# --- The hall tree in the admin ---------------------------------------------------------------


def test_the_hall_list_browses_one_level_with_breadcrumbs(client, cast):
    client.force_login(cast.county_director)
    url = _url(Hall, "changelist")
    roots = client.get(url).context["cl"].result_list
    assert [h.pk for h in roots] == [cast.county.pk]
    assert roots[0].child_count == 2

    page = client.get(url, {"parent": cast.county.pk})
    assert [h.name for h in page.context["cl"].result_list] == [
        "关上街道综合文化站",
        "太和街道综合文化站",
    ]
    assert "下级 (2)" in page.content.decode()
    trail = [(h.name, linked) for h, linked in page.context["browse_trail"]]
    assert trail == [("昆明市文化馆", False), ("官渡区文化馆", True)]

    # Search looks through the subtree of the hall being browsed, within the scope.
    found = client.get(url, {"parent": cast.county.pk, "q": "社区"}).context["cl"].result_list
    assert {h.name for h in found} == {
        "关上一社区服务中心",
        "关上二社区服务中心",
        "太和一社区服务中心",
    }
    by_kind = client.get(url, {"kind__exact": HallKind.BRANCH}).context["cl"].result_list
    assert {h.pk for h in by_kind} == {cast.branch.pk, cast.other_branch.pk}

    assert client.get(url, {"parent": cast.other_county.pk}).status_code == 404
    assert client.get(url, {"parent": "x"}).status_code == 404


def test_a_superuser_starts_from_the_city_centres(client, cast):
    client.force_login(cast.superuser)
    roots = client.get(_url(Hall, "changelist")).context["cl"].result_list
    assert [(h.name, h.child_count) for h in roots] == [("昆明市文化馆", 2)]


def _more_halls(cast, n):
    for i in range(n):
        services.hall_create(parent=cast.branch, name=f"新增服务点{i}", locality=f"新增{i}")


@pytest.mark.parametrize("params", [{}, {"parent": "county"}, {"q": "社区"}])
def test_hall_list_queries_do_not_grow_with_the_tree(
    client, cast, django_assert_num_queries, params
):
    client.force_login(cast.county_director)
    params = {k: (getattr(cast, v).pk if k == "parent" else v) for k, v in params.items()}
    url = _url(Hall, "changelist")
    client.get(url, params)  # warm the session row
    # Session, user, scope, the level filter's names, count, rows, the rows' tree schemes.
    expected = 7 + (2 if "parent" in params else 0)
    with django_assert_num_queries(expected):
        assert client.get(url, params).status_code == 200
    _more_halls(cast, 50)
    with django_assert_num_queries(expected):
        assert client.get(url, params).status_code == 200
    with django_assert_num_queries(expected):
        page = client.get(url, {**params, "p": 2} if "q" in params else params)
        assert page.status_code == 200


# The hall's change form carries two inlines (weekly hours, closure dates), empty here.
NO_HALL_INLINES = {
    f"{prefix}-{name}": 0
    for prefix in ("weekly_hours", "closures")
    for name in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def test_the_hall_add_and_change_forms_save_through_the_services(client, cast):
    client.force_login(cast.county_director)
    data = {
        **NO_HALL_INLINES,
        "name": "关上三社区服务中心",
        "locality": "关上三社区",
        "status": "open",
        "operator": "government",
        "code": "530111001003",
    }
    response = client.post(_url(Hall, "add"), {**data, "parent": cast.branch.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    hall = Hall.objects.get(code="530111001003")
    assert hall.kind == HallKind.POINT
    assert hall.plaque_name == "官渡区文化馆关上街道分馆关上三社区基层服务点"

    # A point under a point: the service refuses, the form says so, nothing is saved.
    response = client.post(
        _url(Hall, "add"), {**data, "code": "530111001004", "parent": cast.point.pk}
    )
    assert response.status_code == 200
    assert "最末一级" in str(response.context["adminform"].form.errors["parent"])
    assert not Hall.objects.filter(code="530111001004").exists()

    # A duplicate code is a form error too.
    response = client.post(_url(Hall, "add"), {**data, "parent": cast.branch.pk})
    assert "code" in response.context["adminform"].form.errors

    # Moving the point to the other branch renames its plaque.
    response = client.post(
        _url(Hall, "change", hall.pk),
        {**data, "parent": cast.other_branch.pk, "locality": "太和三社区"},
    )
    assert response.status_code == 302
    hall.refresh_from_db()
    assert hall.parent_id == cast.other_branch.pk
    assert hall.plaque_name == "官渡区文化馆太和街道分馆太和三社区基层服务点"

    # Moving a branch under another branch is refused with the service's words.
    response = client.post(
        _url(Hall, "change", cast.other_branch.pk),
        {
            **NO_HALL_INLINES,
            "name": "太和街道综合文化站",
            "locality": "太和街道",
            "status": "open",
            "operator": "government",
            "code": "530111002",
            "parent": cast.branch.pk,
        },
    )
    assert response.status_code == 200
    assert "只能放在" in str(response.context["adminform"].form.errors["parent"])


def test_a_staff_member_cannot_found_a_city_or_delete_a_hall(client, cast):
    client.force_login(cast.centre_director)
    response = client.post(
        _url(Hall, "add"),
        {"name": "新城市文化馆", "locality": "新城", "status": "open", "operator": "government"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert client.post(_url(Hall, "delete", cast.point.pk), {"post": "yes"}).status_code == 403
    assert Hall.objects.filter(pk=cast.point.pk).exists()


def test_a_branch_staff_edits_their_own_hall_but_cannot_re_hang_it(client, cast):
    client.force_login(cast.branch_staff)
    page = client.get(_url(Hall, "change", cast.branch.pk))
    assert "parent" not in page.context["adminform"].form.fields
    response = client.post(
        _url(Hall, "change", cast.branch.pk),
        {
            **NO_HALL_INLINES,
            "name": "关上街道综合文化站",
            "locality": "关上街道",
            "status": "open",
            "operator": "government",
            "code": "530111001",
            "phone": "0871-1234567",
            "opening_hours": "周二至周日 9:00-17:00",
        },
    )
    assert response.status_code == 302
    cast.branch.refresh_from_db()
    assert cast.branch.phone == "0871-1234567"
    assert cast.branch.parent_id == cast.county.pk


def test_membership_admin_adds_staff_in_scope_only(client, cast):
    client.force_login(cast.county_director)
    url = _url(Membership, "add")
    response = client.post(
        url,
        {
            "username": "new_clerk",
            "full_name": "钱七",
            "password": "Clerk@2026x",
            "hall": cast.branch.pk,
            "role": Role.STAFF,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    clerk = get_user_model().objects.get(username="new_clerk")
    assert clerk.is_staff and clerk.check_password("Clerk@2026x")
    # A new account's password must pass the password rules.
    response = client.post(
        url,
        {"username": "weak_clerk", "password": "123", "hall": cast.branch.pk, "role": Role.STAFF},
    )
    assert "password" in response.context["adminform"].form.errors
    assert not get_user_model().objects.filter(username="weak_clerk").exists()
    # An account of another county cannot be pulled in.
    response = client.post(
        url, {"username": "other_county_director", "hall": cast.branch.pk, "role": Role.STAFF}
    )
    assert "username" in response.context["adminform"].form.errors
    # The same account twice at one hall is refused with the service's words.
    response = client.post(
        url, {"username": "new_clerk", "hall": cast.branch.pk, "role": Role.STAFF}
    )
    assert "已有岗位" in str(response.context["adminform"].form.errors)
    assert Membership.objects.filter(user=clerk).count() == 1
