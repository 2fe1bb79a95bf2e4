"""The halls API: public reads with filters and pagination, staff edits within their scope."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework import serializers

from network import services
from network.api import HallSerializer, halls_for_api
from network.models import Hall
from tests.api import assert_field_error, token_auth

LIST = "/api/v1/halls/"

HALL_KEYS = {
    "id",
    "code",
    "name",
    "kind",
    "status",
    "parent",
    "level",
    "plaque_name",
    "locality",
    "operator",
    "operator_name",
    "address",
    "latitude",
    "longitude",
    "phone",
    "opening_hours",
    "services",
    "main_hall",
    "branch_hall",
    "children_count",
}


def detail(hall: Hall) -> str:
    return f"{LIST}{hall.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def tree_order(*halls: Hall) -> list[int]:
    return [h.pk for h in sorted(halls, key=lambda h: (h.tree_id, h.lft))]


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


# --- Reads ---------------------------------------------------------------------------------------


def test_list_is_public_paginated_and_in_tree_order(client, cast):
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_capped", "next", "previous", "results"}
    assert body["count"] == 10 and body["count_capped"] is False
    assert body["next"] is None and body["previous"] is None
    all_halls = Hall.objects.all()
    assert [row["id"] for row in body["results"]] == tree_order(*all_halls)


def test_detail_carries_the_hall_fields(client, cast):
    services.hall_update(
        hall=cast.branch,
        latitude="25.017000",
        longitude="102.741000",
        phone="0871-63123456",
        opening_hours="周二至周日 9:00-17:00",
        services="图书借阅、文艺培训",
        operator="school",
        operator_name="昆明市第一中学",
    )
    response = client.get(detail(cast.branch))
    assert response.status_code == 200
    row = response.json()
    assert set(row) == HALL_KEYS
    assert row["id"] == cast.branch.pk
    assert row["code"] == "530111001"
    assert row["kind"] == "branch"
    assert row["status"] == "open"
    assert row["parent"] == cast.county.pk
    assert row["level"] == 2
    assert row["plaque_name"] == "官渡区文化馆关上街道分馆"
    assert row["locality"] == "关上街道"
    assert row["main_hall"] == cast.county.pk
    assert row["branch_hall"] == cast.branch.pk
    assert row["children_count"] == 2
    assert row["latitude"] == pytest.approx(25.017)
    assert row["longitude"] == pytest.approx(102.741)
    assert isinstance(row["latitude"], float)
    assert row["operator"] == "school"
    assert row["operator_name"] == "昆明市第一中学"
    assert row["phone"] == "0871-63123456"


def test_detail_of_the_other_kinds(client, cast):
    centre = client.get(detail(cast.centre)).json()
    assert (centre["kind"], centre["parent"], centre["children_count"]) == ("centre", None, 2)
    point = client.get(detail(cast.point)).json()
    assert (point["kind"], point["parent"], point["children_count"]) == (
        "point",
        cast.branch.pk,
        0,
    )
    assert point["plaque_name"] == "官渡区文化馆关上街道分馆关上一社区基层服务点"


def test_halls_read_as_drfs_own_walk_over_the_fields_reads_them(cast):
    # HallSerializer takes the loaded values instead of DRF's per-field walk; the output must be
    # the same, the coordinates (quantized Decimals) and the empty and missing values included.
    services.hall_update(hall=cast.branch, latitude="25.017", longitude="-102.7", phone="")
    halls = list(halls_for_api().order_by("pk"))
    serializer = HallSerializer()
    generic = [serializers.ModelSerializer.to_representation(serializer, h) for h in halls]
    assert [serializer.to_representation(h) for h in halls] == generic
    branch = generic[[h.pk for h in halls].index(cast.branch.pk)]
    assert (branch["latitude"], branch["longitude"]) == (Decimal("25.017000"), Decimal("-102.7"))
    assert {row["parent"] for row in generic} >= {None, cast.county.pk}


def test_detail_of_a_missing_hall_is_404(client, cast):
    assert client.get(f"{LIST}999999/").status_code == 404
    assert client.get(f"{LIST}abc/").status_code == 404


def test_filter_kind(client, cast):
    assert ids(client.get(LIST, {"kind": "main"})) == tree_order(cast.county, cast.other_county)
    assert ids(client.get(LIST, {"kind": "centre"})) == [cast.centre.pk]


def test_filter_status(client, cast):
    services.hall_update(hall=cast.other_branch, status="planned")
    services.hall_update(hall=cast.point2, status="closed")
    assert ids(client.get(LIST, {"status": "planned"})) == [cast.other_branch.pk]
    assert ids(client.get(LIST, {"status": "closed"})) == [cast.point2.pk]
    assert len(ids(client.get(LIST, {"status": "open"}))) == 8


def test_filter_parent_lists_direct_children_only(client, cast):
    assert ids(client.get(LIST, {"parent": cast.county.pk})) == tree_order(
        cast.branch, cast.other_branch
    )
    assert ids(client.get(LIST, {"parent": cast.point.pk})) == []


def test_filter_within_is_the_whole_subtree_including_itself(client, cast):
    expected = tree_order(
        cast.county,
        cast.branch,
        cast.point,
        cast.point2,
        cast.other_branch,
        cast.other_branch_point,
    )
    assert ids(client.get(LIST, {"within": cast.county.pk})) == expected
    assert ids(client.get(LIST, {"within": cast.point.pk})) == [cast.point.pk]


def test_filter_within_stays_in_its_own_tree(client, cast):
    other_city = services.hall_create(parent=None, name="曲靖市文化馆", locality="曲靖市")
    services.hall_create(parent=other_city, name="麒麟区文化馆", locality="麒麟区")
    # The other tree reuses the same lft/rght numbers; only tree_id keeps them apart.
    assert ids(client.get(LIST, {"within": cast.centre.pk})) == tree_order(
        *Hall.objects.filter(tree_id=cast.centre.tree_id)
    )
    assert len(ids(client.get(LIST, {"within": other_city.pk}))) == 2


def test_filters_combine(client, cast):
    assert ids(client.get(LIST, {"within": cast.county.pk, "kind": "point"})) == tree_order(
        cast.point, cast.point2, cast.other_branch_point
    )


@pytest.mark.parametrize(
    "q, expected",
    [
        ("太和街道综合", ["other_branch"]),  # name
        ("官渡区文化馆关上街道分馆关上二", ["point2"]),  # plaque name
        ("华山一社区", ["other_county_point"]),  # locality
        ("530102001", ["other_county_branch", "other_county_point"]),  # code
        ("  五华区文化馆  ", ["other_county", "other_county_branch", "other_county_point"]),
    ],
)
def test_filter_q(client, cast, q, expected):
    assert ids(client.get(LIST, {"q": q})) == tree_order(*(getattr(cast, n) for n in expected))


def test_pagination_walks_every_hall_once(client, cast):
    seen = []
    page = client.get(LIST, {"page_size": 3}).json()
    assert page["count"] == 10 and len(page["results"]) == 3
    assert page["previous"] is None
    seen += [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == tree_order(*Hall.objects.all())
    assert page["previous"] is not None


def test_page_size_defaults_to_50_and_goes_up_to_200(client, db):
    centre = services.hall_create(parent=None, name="大市文化馆", locality="大市")
    for i in range(205):
        services.hall_create(parent=centre, name=f"第{i}区文化馆", locality=f"第{i}区")
    assert len(client.get(LIST).json()["results"]) == 50
    assert len(client.get(LIST, {"page_size": 200}).json()["results"]) == 200
    last = client.get(LIST, {"page_size": 200, "page": "last"}).json()
    assert len(last["results"]) == 6


def test_a_page_past_the_end_is_404(client, cast):
    response = client.get(LIST, {"page": 2})
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"kind": "castle"}, "kind"),
        ({"status": "demolished"}, "status"),
        ({"within": "abc"}, "within"),
        ({"within": "0"}, "within"),
        ({"within": "999999"}, "within"),
        ({"parent": "x"}, "parent"),
        ({"parent": "999999"}, "parent"),
        ({"parent": "1.5"}, "parent"),
        ({"within": "9" * 25}, "within"),  # past bigint: still a 400, not a database error
        ({"q": "关上\x00"}, "q"),
        ({"q": "长" * 101}, "q"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(client, cast, params, field):
    assert_field_error(client.get(LIST, params), field)


def test_errors_are_in_chinese_by_default_and_english_on_request(client, cast):
    zh = client.get(LIST, {"kind": "castle"}).json()["kind"][0]
    assert "选择一个有效的选项" in zh
    en = client.get(LIST, {"kind": "castle"}, HTTP_ACCEPT_LANGUAGE="en").json()["kind"][0]
    assert en.startswith("Select a valid choice")
    zh_cn = client.get(LIST, {"kind": "castle"}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert "选择一个有效的选项" in zh_cn["kind"][0]
    assert client.get(LIST, {"page": "0"}, HTTP_ACCEPT_LANGUAGE="en").json()["page"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert client.get(f"{LIST}999999/").json()["detail"] == "未找到。"


def test_the_missing_hall_message_names_the_id(client, cast):
    assert client.get(LIST, {"within": "999999"}).json() == {
        "within": ["没有 id 为 999999 的文化馆。"]
    }


# --- Query counts ----------------------------------------------------------------------------------


def _network(points: int) -> Hall:
    """A centre, one county, one branch and ``points`` points: ``points + 3`` halls."""
    centre = services.hall_create(parent=None, name="测试市文化馆", locality="测试市")
    county = services.hall_create(parent=centre, name="测试区文化馆", locality="测试区")
    branch = services.hall_create(parent=county, name="测试街道文化站", locality="测试街道")
    for i in range(points):
        services.hall_create(parent=branch, name=f"第{i}社区服务中心", locality=f"第{i}社区")
    return county


@pytest.mark.parametrize("points", [2, 57])
def test_list_query_count_does_not_grow_with_halls(client, db, django_assert_num_queries, points):
    county = _network(points)
    # One count, one page (children counted in the same query).
    with django_assert_num_queries(2):
        body = client.get(LIST).json()
    assert len(body["results"]) == min(points + 3, 50)
    assert body["results"][1]["children_count"] == 1
    # ``within`` loads the hall's tree numbers once.
    with django_assert_num_queries(3):
        body = client.get(LIST, {"within": county.pk, "page_size": 200}).json()
    assert body["count"] == points + 2


def test_detail_is_one_query(client, cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get(detail(cast.branch)).json()["children_count"] == 2


# --- Writes ---------------------------------------------------------------------------------------


def patch(client: Client, hall: Hall, data: dict, **extra):
    return client.patch(detail(hall), data, content_type="application/json", **extra)


def as_user(cast, username: str) -> dict[str, str]:
    return token_auth(username)


@pytest.mark.parametrize(
    "username, status",
    [
        ("other_branch_staff", 404),
        ("other_county_director", 404),
        ("village_manager", 404),  # a point's manager does not reach up to its branch
        ("county_official", 403),
    ],
)
def test_patch_outside_scope_or_read_only_changes_nothing(client, cast, username, status):
    response = patch(
        client, cast.branch, {"name": "改名", "locality": "改名街道"}, **as_user(cast, username)
    )
    assert response.status_code == status, response.content
    assert "detail" in response.json()
    cast.branch.refresh_from_db()
    assert (cast.branch.name, cast.branch.locality) == ("关上街道综合文化站", "关上街道")


def test_patch_anonymous_is_401(client, cast):
    response = patch(client, cast.branch, {"name": "改名"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")
    cast.branch.refresh_from_db()
    assert cast.branch.name == "关上街道综合文化站"


def test_patch_with_a_wrong_password_is_401(client, cast):
    response = patch(client, cast.branch, {"name": "改名"}, **basic("branch_staff", "wrong"))
    assert response.status_code == 401


def test_basic_credentials_are_refused_and_lock_nobody_out(client, cast, settings):
    from axes.models import AccessAttempt

    # Right or wrong, a password sent by HTTP Basic is a 401 that names the token instead; it
    # is never checked, so it neither signs in nor counts towards a lockout.
    for password in ["wrong"] * (settings.AXES_FAILURE_LIMIT + 1) + [cast.password]:
        response = patch(client, cast.branch, {"name": "改名"}, **basic("branch_staff", password))
        assert response.status_code == 401
        assert "Token" in response.json()["detail"]
    assert client.get("/api/v1/halls/", **basic("branch_staff", cast.password)).status_code == 401
    assert not AccessAttempt.objects.exists()
    cast.branch.refresh_from_db()
    assert cast.branch.name == "关上街道综合文化站"
    # The account is not locked: its token writes, and it signs in to the admin.
    response = patch(client, cast.branch, {"name": "改名"}, **as_user(cast, "branch_staff"))
    assert response.status_code == 200, response.content
    login = client.post("/admin/login/", {"username": "branch_staff", "password": cast.password})
    assert login.status_code == 302


def test_a_non_staff_account_may_not_write(client, cast):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("resident", password=cast.password)
    response = patch(client, cast.branch, {"name": "改名"}, **as_user(cast, "resident"))
    assert response.status_code == 403


@pytest.mark.parametrize("username", ["branch_staff", "county_director", "centre_director", "root"])
def test_patch_in_scope_changes_the_hall_and_renames_plaques_below(client, cast, username):
    response = patch(
        client,
        cast.branch,
        {"locality": "关上新街道", "phone": "0871-1234567", "latitude": 25.5},
        **as_user(cast, username),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == HALL_KEYS
    assert body["plaque_name"] == "官渡区文化馆关上新街道分馆"
    assert body["phone"] == "0871-1234567"
    assert body["latitude"] == pytest.approx(25.5)
    assert body["children_count"] == 2
    cast.point.refresh_from_db()
    assert cast.point.plaque_name == "官渡区文化馆关上新街道分馆关上一社区基层服务点"
    cast.other_branch_point.refresh_from_db()
    assert cast.other_branch_point.plaque_name.startswith("官渡区文化馆太和街道分馆")


def test_village_manager_may_edit_its_own_point(client, cast):
    response = patch(
        client, cast.point, {"opening_hours": "每天 8:00-21:00"}, **as_user(cast, "village_manager")
    )
    assert response.status_code == 200
    cast.point.refresh_from_db()
    assert cast.point.opening_hours == "每天 8:00-21:00"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": ""}, "name"),
        ({"locality": "长" * 61}, "locality"),
        ({"status": "demolished"}, "status"),
        ({"operator": "army"}, "operator"),
        ({"latitude": 91}, "latitude"),
        ({"longitude": "east"}, "longitude"),
        ({"phone": "call me"}, "phone"),
        ({"code": "53 01"}, "code"),
        ({"parent": 1}, "parent"),
        ({"kind": "main"}, "kind"),
        ({"plaque_name": "某某馆"}, "plaque_name"),
    ],
)
def test_patch_bad_input_is_400_naming_the_field(client, cast, data, field):
    response = patch(client, cast.branch, data, **as_user(cast, "branch_staff"))
    assert response.status_code == 400, response.content
    assert field in response.json()
    cast.branch.refresh_from_db()
    assert cast.branch.name == "关上街道综合文化站"
    assert cast.branch.parent_id == cast.county.pk


def test_patch_body_that_is_not_an_object_is_400(client, cast):
    auth = as_user(cast, "branch_staff")
    response = client.patch(detail(cast.branch), "[1, 2]", content_type="application/json", **auth)
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    response = client.patch(detail(cast.branch), "{name", content_type="application/json", **auth)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_duplicate_code_from_the_service_is_a_400(client, cast):
    # The serializer leaves uniqueness to hall_update; its Django ValidationError is mapped.
    response = patch(
        client, cast.branch, {"code": cast.other_branch.code}, **as_user(cast, "branch_staff")
    )
    assert response.status_code == 400
    assert list(response.json()) == ["code"]
    assert "已存在" in response.json()["code"][0]
    english = patch(
        client,
        cast.branch,
        {"code": cast.other_branch.code},
        HTTP_ACCEPT_LANGUAGE="en",
        **as_user(cast, "branch_staff"),
    )
    assert "already exists" in english.json()["code"][0]


def test_an_empty_code_clears_it(client, cast):
    response = patch(client, cast.point, {"code": ""}, **as_user(cast, "branch_staff"))
    assert response.status_code == 200
    assert response.json()["code"] is None


def test_a_session_write_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.branch_staff)
    assert patch(client, cast.branch, {"name": "新名"}).status_code == 403
    token = "a" * 32
    client.cookies["csrftoken"] = token
    response = patch(client, cast.branch, {"name": "新名"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "新名"


@pytest.mark.parametrize("username", [None, "branch_staff", "root"])
def test_post_put_and_delete_are_not_allowed(client, cast, username):
    auth = as_user(cast, username) if username else {}
    assert (
        client.post(LIST, {"name": "新馆"}, content_type="application/json", **auth).status_code
        == 405
    )
    assert client.delete(detail(cast.branch), **auth).status_code == 405
    assert (
        client.put(
            detail(cast.branch), {"name": "新馆"}, content_type="application/json", **auth
        ).status_code
        == 405
    )
    assert Hall.objects.filter(pk=cast.branch.pk).exists()
    assert Hall.objects.count() == 10
