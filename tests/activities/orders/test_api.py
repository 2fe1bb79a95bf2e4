"""The orders API: menus, a resident's order and its lookup, and the staff inbox and answers;
shapes, scope, bad input, content types, rate limits and query counts."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from activities.models import Activity, Category
from activities.orders import services
from activities.orders.models import MenuItem, Order
from tests.api import token_auth
from tests.conftest import consenting_client, verify_phone

pytestmark = pytest.mark.django_db

DEMANDS = "/api/v1/demands/"
MENU = "/api/v1/menu-items/"
INBOX = "/api/v1/staff/demands/"

DEMAND_KEYS = {
    "code",
    "status",
    "point",
    "point_name",
    "item",
    "item_title",
    "handler",
    "handler_name",
    "description",
    "preferred_date",
    "respond_by",
    "escalations",
    "reject_reason",
    "activity",
    "activity_title",
    "activity_start",
    "rating",
    "rating_comment",
    "created_at",
    "answered_at",
    "done_at",
    "history",
}
STAFF_KEYS = (DEMAND_KEYS - {"history"}) | {"name", "phone", "ordered_by_point"}
MENU_KEYS = {
    "id",
    "hall",
    "hall_name",
    "category",
    "title",
    "description",
    "orderers",
    "lead_days",
    "monthly_limit",
}


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def as_(cast, who: str) -> dict[str, str]:
    return token_auth(who)


def menu_item(hall, **fields) -> MenuItem:
    defaults = {"category": Category.TRAINING, "title": "广场舞辅导", "lead_days": 7}
    return MenuItem.objects.create(hall=hall, **{**defaults, **fields})


def order_body(cast, **fields) -> dict:
    body = {
        "point": cast.point.pk,
        "name": "王村长",
        "phone": "13700000001",
        "description": "村里想办一期广场舞培训",
    }
    body.update(fields)
    return body


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def place(cast, **fields) -> Order:
    body = order_body(cast, **fields)
    return services.order_create(point_id=body.pop("point"), item_id=body.pop("item", None), **body)


# --- Menus ---------------------------------------------------------------------------------------


def test_menu_items_for_a_village_are_those_of_the_halls_above_it(client, cast):
    near = menu_item(cast.branch, title="分馆的")
    far = menu_item(cast.centre, title="中心馆的", category=Category.EXHIBITION)
    menu_item(cast.other_county, title="五华区的")
    menu_item(cast.branch, title="停了的", active=False)
    response = client.get(MENU, {"point": cast.point.pk})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [near.pk, far.pk]
    assert set(body["results"][0]) == MENU_KEYS
    assert body["results"][0]["hall_name"] == "关上街道综合文化站"
    # Without a village: every open item; by hall: that hall's.
    assert client.get(MENU).json()["count"] == 3
    assert [r["title"] for r in client.get(MENU, {"hall": cast.centre.pk}).json()["results"]] == [
        "中心馆的"
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"point": "abc"},
        {"point": "0"},
        {"point": "999999"},
        {"point": "99999999999999999999999"},
        {"point": "branch"},
        {"hall": "x"},
    ],
)
def test_menu_items_with_a_bad_village_are_400(client, cast, params):
    params = {k: (getattr(cast, v).pk if hasattr(cast, v) else v) for k, v in params.items()}
    response = client.get(MENU, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_menu_items_cost_the_same_whatever_their_number(client, cast, django_assert_num_queries):
    menu_item(cast.branch)
    with django_assert_num_queries(3):  # the point, count, page
        client.get(MENU, {"point": cast.point.pk})
    for i in range(30):
        menu_item(cast.county, title=f"服务{i}")
    with django_assert_num_queries(3):
        assert client.get(MENU, {"point": cast.point.pk}).json()["count"] == 31


# --- A resident's order ----------------------------------------------------------------------------


def test_a_resident_orders_a_menu_item(client, cast):
    item = menu_item(cast.county, lead_days=7)
    when = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = post(client, DEMANDS, order_body(cast, item=item.pk, preferred_date=when))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == DEMAND_KEYS
    assert body["status"] == "submitted" and body["code"].startswith("D")
    assert body["handler"] == cast.county.pk and body["handler_name"] == "官渡区文化馆"
    assert body["item_title"] == "广场舞辅导" and body["preferred_date"] == when
    assert body["history"][0]["action"] == "submitted"
    assert body["history"][0]["by"] == "点单人"
    order = Order.objects.get(code=body["code"])
    assert order.handler == cast.county and order.requested_by is None


def test_a_free_request_goes_to_the_branch(client, cast):
    response = post(client, DEMANDS, order_body(cast, item=None))
    assert response.status_code == 201
    assert response.json()["handler"] == cast.branch.pk
    assert response.json()["item"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"point": 999999}, "point"),
        ({"point": "abc"}, "point"),
        ({"point": None}, "point"),
        ({"point": 99999999999999999999}, "point"),
        ({"point": "branch"}, "point"),
        ({"phone": "123"}, "phone"),
        ({"phone": None}, "phone"),
        ({"name": ""}, "name"),
        ({"name": "长" * 41}, "name"),
        ({"description": " "}, "description"),
        ({"description": "长" * 1001}, "description"),
        ({"item": 999999}, "item"),
        ({"item": "x"}, "item"),
        ({"item": "other_county_item"}, "item"),
        ({"preferred_date": "2026-02-30"}, "preferred_date"),
        ({"preferred_date": "2000-01-01"}, "preferred_date"),
        ({"name": "\x00"}, "name"),
    ],
)
def test_bad_orders_are_400_with_the_field_and_save_nothing(client, cast, fields, field):
    other = menu_item(cast.other_county)
    fields = {
        k: (cast.branch.pk if v == "branch" else other.pk if v == "other_county_item" else v)
        for k, v in fields.items()
    }
    response = post(client, DEMANDS, order_body(cast, **fields))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Order.objects.exists()


def test_a_missing_body_or_a_non_object_is_400(client, cast):
    assert post(client, DEMANDS, {}).status_code == 400
    # With verification required the phone is the token's, so the body need not name one.
    assert set(post(client, DEMANDS, {}).json()) >= {"point", "name", "description"}
    assert post(client, DEMANDS, [1, 2]).status_code == 400
    assert client.post(DEMANDS, "{oops", content_type="application/json").status_code == 400


def test_ordering_needs_json(client, cast):
    response = client.post(DEMANDS, order_body(cast))  # multipart form
    assert response.status_code == 415
    assert not Order.objects.exists()


def test_ordering_needs_no_account_and_no_csrf(cast):
    client = consenting_client(enforce_csrf_checks=True)
    client.force_login(cast.branch_staff)
    body = order_body(cast)
    token = verify_phone(body["phone"])
    assert post(client, DEMANDS, body, HTTP_X_RESIDENT_TOKEN=token).status_code == 201
    # An account does not make it a point's order: that is the pages' and the admin's job.
    assert Order.objects.get().requested_by is None


@override_settings(BOOKING_RATE_LIMIT_IP=3, BOOKING_RATE_LIMIT_PHONE=2)
def test_ordering_is_rate_limited(client, cast):
    assert post(client, DEMANDS, order_body(cast)).status_code == 201
    assert post(client, DEMANDS, order_body(cast)).status_code == 201
    response = post(client, DEMANDS, order_body(cast))
    assert response.status_code == 429 and response["Retry-After"]
    assert "操作太频繁" in response.json()["detail"]
    response = post(client, DEMANDS, order_body(cast, phone="13700000002"))
    assert response.status_code == 429  # the address's limit
    assert Order.objects.count() == 2


# --- Looking an order up -------------------------------------------------------------------------


def test_without_the_phone_only_code_and_status_are_told(client, cast):
    order = place(cast)
    response = client.get(f"{DEMANDS}{order.code}/")
    assert response.status_code == 200
    assert response.json() == {"code": order.code, "status": "submitted"}


def test_with_the_phone_the_whole_progress_is_told(client, cast):
    order = place(cast)
    services.order_accept(order=order, by_user=cast.branch_staff)
    response = client.get(f"{DEMANDS}{order.code.lower()}/", {"phone": order.phone})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DEMAND_KEYS and body["status"] == "accepted"
    assert [s["action"] for s in body["history"]] == ["submitted", "accepted"]
    assert body["history"][1]["by"] == "关上街道综合文化站 工作人员"
    assert "branch_staff" not in response.content.decode()
    assert "phone" not in body and "name" not in body


def test_an_unknown_code_or_a_wrong_phone_is_the_same_404(client, cast):
    order = place(cast)
    wrong = client.get(f"{DEMANDS}{order.code}/", {"phone": "13999999999"})
    unknown = client.get(f"{DEMANDS}DNOPE234/", {"phone": order.phone})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert client.get(f"{DEMANDS}DNOPE234/").status_code == 404
    assert client.get(f"{DEMANDS}{order.code}/", {"phone": "12"}).status_code == 400


@override_settings(BOOKING_RATE_LIMIT_IP=2)
def test_lookups_are_rate_limited_per_address(client, cast):
    order = place(cast)
    for _i in range(2):
        client.get(f"{DEMANDS}{order.code}/")
    assert client.get(f"{DEMANDS}{order.code}/").status_code == 429


# --- Staff -----------------------------------------------------------------------------------------


def test_the_inbox_needs_an_account(client, cast):
    response = client.get(INBOX)
    assert response.status_code == 401
    assert "Token" in response["WWW-Authenticate"]
    assert client.get(INBOX, **basic("branch_staff", "wrong")).status_code == 401


def test_the_inbox_lists_the_orders_of_the_handlers_in_scope_oldest_first(client, cast):
    first = place(cast)
    second = place(cast, phone="13700000002", point=cast.point2.pk)
    county_item = menu_item(cast.county)
    to_county = place(cast, phone="13700000003", item=county_item.pk)
    elsewhere = place(cast, phone="13700000004", point=cast.other_county_point.pk)

    def codes(who, **params):
        response = client.get(INBOX, params, **as_(cast, who))
        assert response.status_code == 200, response.content
        return [row["code"] for row in response.json()["results"]]

    assert codes("branch_staff") == [first.code, second.code]
    assert codes("county_director") == [first.code, second.code, to_county.code]
    assert codes("county_official") == [first.code, second.code, to_county.code]
    assert codes("other_branch_staff") == []
    assert codes("other_county_director") == [elsewhere.code]
    assert codes("village_manager") == []  # a point answers nothing; it follows on the pages

    services.order_accept(order=first, by_user=cast.branch_staff)
    assert codes("branch_staff", status="submitted") == [second.code]
    assert codes("branch_staff", status=["submitted", "accepted"]) == [first.code, second.code]
    body = client.get(INBOX, **as_(cast, "branch_staff")).json()["results"][0]
    assert set(body) == STAFF_KEYS
    assert body["phone"] == "137****0001" and body["name"] == "王村长"  # masked for staff


def test_a_bad_status_filter_is_400(client, cast):
    response = client.get(INBOX, {"status": "lost"}, **as_(cast, "branch_staff"))
    assert response.status_code == 400 and "status" in response.json()


def test_the_inbox_costs_the_same_whatever_its_size(client, cast, django_assert_num_queries):
    for i in range(3):
        place(cast, phone=f"1370000{i:04d}")
    auth = as_(cast, "branch_staff")
    client.get(INBOX, **auth)
    # token (with its user), scope, count, page
    with django_assert_num_queries(4):
        assert client.get(INBOX, **auth).json()["count"] == 3
    for i in range(3, 30):
        place(cast, phone=f"1370000{i:04d}", point=cast.point2.pk if i % 2 else cast.point.pk)
    with django_assert_num_queries(4):
        assert client.get(INBOX, **auth).json()["count"] == 30


def _act(client, cast, who, order, action, body=None):
    return post(client, f"{INBOX}{order.code}/{action}/", body or {}, **as_(cast, who))


def test_staff_accept_schedule_and_complete_an_order(client, cast):
    order = place(cast)
    response = _act(client, cast, "branch_staff", order, "accept", {"note": "下周联系"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    start = timezone.now() + timedelta(days=7)
    response = _act(
        client,
        cast,
        "branch_staff",
        order,
        "schedule",
        {
            "title": "广场舞培训(点单)",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "capacity": 40,
            "venue": "村文化广场",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "scheduled" and body["activity_title"] == "广场舞培训(点单)"
    activity = Activity.objects.get(pk=body["activity"])
    assert activity.venue_hall == cast.point and activity.capacity == 40
    response = _act(client, cast, "branch_staff", order, "complete")
    assert response.status_code == 400
    assert "结束后才能标记完成" in str(response.json())
    Activity.objects.filter(pk=activity.pk).update(
        start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=1)
    )
    response = _act(client, cast, "branch_staff", order, "complete")
    assert response.status_code == 200
    assert [s["action"] for s in response.json()["history"]] == [
        "submitted",
        "accepted",
        "scheduled",
        "done",
    ]
    detail = client.get(f"{INBOX}{order.code}/", **as_(cast, "branch_staff"))
    assert detail.json()["status"] == "done"


def test_staff_reject_with_a_reason(client, cast):
    order = place(cast)
    response = _act(client, cast, "branch_staff", order, "reject", {})
    assert response.status_code == 400 and "reason" in response.json()
    response = _act(client, cast, "branch_staff", order, "reject", {"reason": "场地维修"})
    assert response.status_code == 200
    assert response.json()["reject_reason"] == "场地维修"
    response = _act(client, cast, "branch_staff", order, "accept")
    assert response.status_code == 400 and "status" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "soon", "end": "later", "title": "x"}, "start"),
        ({"title": "", "start": "start", "end": "end"}, "title"),
        ({"title": "x", "start": "end", "end": "start"}, "end"),
        ({"title": "x", "start": "start", "end": "end", "capacity": 0}, "capacity"),
        ({"title": "x", "start": "start", "end": "end", "capacity": "many"}, "capacity"),
        ({"title": "x", "start": "start", "end": "end", "venue": "长" * 121}, "venue"),
    ],
)
def test_bad_schedules_are_400_and_change_nothing(client, cast, body, field):
    order = place(cast)
    services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=7)
    times = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    body = {k: times.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = _act(client, cast, "branch_staff", order, "schedule", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED and order.activity is None
    assert not Activity.objects.exists()


def test_out_of_scope_is_404_and_officials_are_403(client, cast):
    order = place(cast)
    for who in ("other_branch_staff", "other_county_director", "village_manager"):
        assert _act(client, cast, who, order, "accept").status_code == 404, who
        assert client.get(f"{INBOX}{order.code}/", **as_(cast, who)).status_code == 404
    assert _act(client, cast, "county_official", order, "accept").status_code == 403
    assert client.get(f"{INBOX}{order.code}/", **as_(cast, "county_official")).status_code == 200
    assert _act(client, cast, "branch_staff", order, "nonsense").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


def test_staff_answers_need_json_and_the_csrf_token_on_a_session(client, cast):
    order = place(cast)
    response = client.post(
        f"{INBOX}{order.code}/accept/", {"note": "x"}, **as_(cast, "branch_staff")
    )
    assert response.status_code == 415
    session = consenting_client(enforce_csrf_checks=True)
    session.force_login(cast.branch_staff)
    assert post(session, f"{INBOX}{order.code}/accept/", {}).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


def test_an_escalated_order_moves_to_the_parent_halls_inbox(client, cast):
    order = place(cast)
    Order.objects.filter(pk=order.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    services.orders_escalate_overdue()
    assert _act(client, cast, "branch_staff", order, "accept").status_code == 404
    response = _act(client, cast, "county_director", order, "accept")
    assert response.status_code == 200
    assert response.json()["escalations"] == 1


def test_the_schema_documents_the_order_endpoints(client):
    paths = client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert set(paths["/api/v1/demands/"]) == {"post"}
    assert "get" in paths["/api/v1/demands/{code}/"]
    assert "get" in paths["/api/v1/menu-items/"]
    assert "get" in paths["/api/v1/staff/demands/"]
    for action in ("accept", "reject", "schedule", "complete"):
        responses = paths[f"/api/v1/staff/demands/{{code}}/{action}/"]["post"]["responses"]
        assert {"200", "400", "401", "403", "404", "415"} <= set(responses), action
    create = paths["/api/v1/demands/"]["post"]["responses"]
    assert {"201", "400", "415", "429"} <= set(create)
