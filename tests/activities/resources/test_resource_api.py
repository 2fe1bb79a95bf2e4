"""The resources and dispatches API: the public and the staff catalogue, and every dispatch step
as the right and the wrong user, with bad input and query-count pins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.resources import services
from activities.resources.models import Dispatch, Resource, ResourceKind
from network import services as network_services

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) + timedelta(days=10)
RESOURCES = "/api/v1/resources/"
DISPATCHES = "/api/v1/dispatches/"


def _post(client, url, data=None, **extra):
    return client.post(url, data or {}, content_type="application/json", **extra)


def _step(dispatch, step: str) -> str:
    return f"{DISPATCHES}{dispatch.pk}/{step}/"


def truck(cast) -> Resource:
    return services.resource_create(
        hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车", unit="辆"
    )


def request(cast, resource, *, hall=None, by=None, start=T0, hours=48) -> Dispatch:
    return services.dispatch_request(
        resource=resource,
        requesting_hall=hall or cast.branch,
        start=start,
        end=start + timedelta(hours=hours),
        purpose="送戏下乡",
        by=by or cast.branch_staff,
    )


def _body(resource, hall, start=T0, hours=48, purpose="送戏下乡") -> dict:
    return {
        "resource": resource.pk,
        "requesting_hall": hall.pk,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "purpose": purpose,
    }


@pytest.fixture
def catalogue(cast):
    make = services.resource_create
    other_city = network_services.hall_create(parent=None, name="玉溪市文化馆", locality="玉溪市")
    return {
        "truck": truck(cast),
        "lantern": make(hall=cast.point, kind=ResourceKind.TEAM, name="花灯队"),
        "square": make(hall=cast.branch, kind=ResourceKind.VENUE, name="文化广场"),
        "hidden": make(hall=cast.branch, kind=ResourceKind.TEAM, name="内部队", public=False),
        "wuhua": make(hall=cast.other_county, kind=ResourceKind.VENUE, name="五华剧场"),
        "yuxi": make(hall=other_city, kind=ResourceKind.TEAM, name="玉溪花灯团"),
    }


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


# --- Resources --------------------------------------------------------------------------------


def test_the_public_see_public_teams_and_venues_only(client, cast, catalogue):
    assert names(client.get(RESOURCES)) == {"花灯队", "文化广场", "五华剧场", "玉溪花灯团"}
    assert names(client.get(RESOURCES, {"kind": "stage_truck"})) == set()
    assert names(client.get(RESOURCES, {"within": cast.branch.pk})) == {"花灯队", "文化广场"}
    assert names(client.get(RESOURCES, {"hall": cast.branch.pk})) == {"文化广场"}
    hidden = catalogue["hidden"]
    assert client.get(f"{RESOURCES}{hidden.pk}/").status_code == 404
    row = client.get(f"{RESOURCES}{catalogue['lantern'].pk}/").json()
    assert row["catalogue_no"] == "04-530111001001-0001"
    assert row["hall_name"] == "关上一社区服务中心"


def test_staff_see_the_catalogue_of_their_city(client, cast, catalogue):
    client.force_login(cast.other_branch_staff)
    assert names(client.get(RESOURCES)) == {
        "流动舞台车",
        "花灯队",
        "文化广场",
        "内部队",
        "五华剧场",
    }
    assert names(client.get(RESOURCES, {"q": "03-530111"})) == {"流动舞台车"}
    assert names(client.get(RESOURCES, {"q": "剧场", "kind": "venue"})) == {"五华剧场"}
    assert client.get(f"{RESOURCES}{catalogue['yuxi'].pk}/").status_code == 404


def test_bad_resource_filters_are_400(client, catalogue):
    for params in ({"within": "999999"}, {"hall": "x"}, {"kind": "castle"}, {"page_size": "0"}):
        response = client.get(RESOURCES, params)
        assert response.status_code == 400, params
        assert set(response.json()) == set(params), response.json()


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_the_resource_list_costs_the_same_for_3_and_30_entries(
    client, cast, django_assert_num_queries, who
):
    if who == "staff":
        client.force_login(cast.branch_staff)
        client.get(RESOURCES)  # warm the session
    expected = 2 if who == "anonymous" else 5  # [session, user, scope,] count, rows
    for i in range(3):
        services.resource_create(hall=cast.point, kind=ResourceKind.TEAM, name=f"队{i}")
    with django_assert_num_queries(expected):
        assert client.get(RESOURCES).json()["count"] == 3
    for i in range(27):
        services.resource_create(hall=cast.branch, kind=ResourceKind.VENUE, name=f"场地{i}")
    with django_assert_num_queries(expected):
        assert len(client.get(RESOURCES).json()["results"]) == 30
    with django_assert_num_queries(expected + 1):  # the "within" hall
        assert client.get(RESOURCES, {"within": cast.branch.pk}).json()["count"] == 30


# --- Dispatches: reading ------------------------------------------------------------------------


def test_dispatches_are_for_signed_in_staff_of_the_three_halls(client, cast):
    dispatch = request(cast, truck(cast))
    assert client.get(DISPATCHES).status_code == 401
    for user, seen in [
        (cast.branch_staff, True),  # requesting hall
        (cast.county_director, True),  # owner and approver
        (cast.county_official, True),
        (cast.other_branch_staff, False),
        (cast.other_county_director, False),
    ]:
        client.force_login(user)
        ids = [row["id"] for row in client.get(DISPATCHES).json()["results"]]
        assert ids == ([dispatch.pk] if seen else []), user
        detail = client.get(f"{DISPATCHES}{dispatch.pk}/")
        assert detail.status_code == (200 if seen else 404), user
    client.force_login(cast.branch_staff)
    row = client.get(f"{DISPATCHES}{dispatch.pk}/").json()
    assert (row["status"], row["approver_hall"], row["requested_by"]) == (
        "requested",
        cast.county.pk,
        "branch_staff",
    )
    assert client.get(DISPATCHES, {"status": "approved"}).json()["count"] == 0
    assert client.get(DISPATCHES, {"status": "nonsense"}).status_code == 400
    assert client.get(f"{DISPATCHES}abc/").status_code == 404


def test_the_dispatch_list_costs_the_same_for_3_and_30_rows(
    client, cast, django_assert_num_queries
):
    resources = [truck(cast) for _ in range(3)]
    client.force_login(cast.county_director)
    client.get(DISPATCHES)

    def add(n, offset):
        for i in range(n):
            request(cast, resources[i % 3], start=T0 + timedelta(days=offset + i))

    add(3, 0)
    # session, user, scope, count, rows, stops
    with django_assert_num_queries(6):
        assert client.get(DISPATCHES).json()["count"] == 3
    add(27, 10)
    approved = Dispatch.objects.first()
    services.dispatch_approve(dispatch=approved, by=cast.county_director)
    services.dispatch_add_stop(
        dispatch=approved, point=cast.point, title="第一站", start=approved.start,
        end=approved.start + timedelta(hours=2), by=cast.branch_staff,
    )  # fmt: skip
    with django_assert_num_queries(6):
        rows = client.get(DISPATCHES).json()["results"]
    assert len(rows) == 30
    assert [s["title"] for r in rows for s in r["stops"]] == ["第一站"]


# --- Dispatches: requesting ---------------------------------------------------------------------


def test_a_hall_requests_a_resource(client, cast):
    resource = truck(cast)
    client.force_login(cast.branch_staff)
    response = _post(client, DISPATCHES, _body(resource, cast.branch))
    assert response.status_code == 201, response.json()
    row = response.json()
    assert (row["status"], row["catalogue_no"], row["requesting_hall_name"]) == (
        "requested",
        "03-530111-0001",
        "关上街道综合文化站",
    )


def test_bad_requests_get_field_errors(client, cast):
    resource = truck(cast)
    other_city = network_services.hall_create(parent=None, name="玉溪市文化馆", locality="玉溪市")
    far = services.resource_create(hall=other_city, kind=ResourceKind.TEAM, name="玉溪花灯团")
    client.force_login(cast.branch_staff)
    response = _post(client, DISPATCHES, _body(resource, cast.branch, hours=-2))
    assert response.status_code == 400
    assert "结束时间必须晚于开始时间" in response.json()["end"][0]
    response = _post(client, DISPATCHES, {"resource": resource.pk})
    assert response.status_code == 400
    assert {"requesting_hall", "start", "end", "purpose"} <= set(response.json())
    response = _post(client, DISPATCHES, _body(far, cast.branch))
    assert set(response.json()) == {"resource"}
    response = _post(client, DISPATCHES, {**_body(resource, cast.branch), "start": "明天"})
    assert set(response.json()) == {"start"}
    assert not Dispatch.objects.exists()


def test_a_resource_already_out_is_a_400_naming_the_dates_and_hall(client, cast):
    resource = truck(cast)
    first = request(cast, resource, hall=cast.other_branch, by=cast.other_branch_staff)
    services.dispatch_approve(dispatch=first, by=cast.county_director)
    client.force_login(cast.branch_staff)
    response = _post(
        client, DISPATCHES, _body(resource, cast.branch, start=T0 + timedelta(hours=5))
    )
    assert response.status_code == 400
    message = response.json()["start"][0]
    assert "太和街道综合文化站" in message
    assert timezone.localtime(T0).strftime("%Y-%m-%d %H:%M") in message


def test_wrong_requesters_are_403_and_wrong_bodies_415(client, cast):
    resource = truck(cast)
    client.force_login(cast.branch_staff)
    response = _post(client, DISPATCHES, _body(resource, cast.other_branch))
    assert response.status_code == 403, response.json()
    client.force_login(cast.county_official)
    response = _post(client, DISPATCHES, _body(resource, cast.county))
    assert response.status_code == 403
    client.force_login(cast.branch_staff)
    response = client.post(DISPATCHES, _body(resource, cast.branch))  # multipart form
    assert response.status_code == 415
    response = client.post(DISPATCHES, "{", content_type="application/json")
    assert response.status_code == 400
    assert not Dispatch.objects.exists()


# --- Dispatches: steps --------------------------------------------------------------------------


def test_the_whole_workflow_through_the_api(client, cast):
    resource = truck(cast)
    dispatch = request(cast, resource, hours=72)

    client.force_login(cast.branch_staff)
    assert _post(client, _step(dispatch, "approve")).status_code == 403
    client.force_login(cast.other_county_director)
    assert _post(client, _step(dispatch, "approve")).status_code == 404
    client.force_login(cast.county_official)
    assert _post(client, _step(dispatch, "approve")).status_code == 403
    client.force_login(cast.county_director)
    response = _post(client, _step(dispatch, "approve"), {"note": "同意"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert _post(client, _step(dispatch, "approve")).status_code == 400  # not twice

    assert set(_post(client, _step(dispatch, "hand-over")).json()) == {"condition"}
    response = _post(client, _step(dispatch, "hand-over"), {"condition": "shiny"})
    assert response.status_code == 400
    client.force_login(cast.branch_staff)
    assert _post(client, _step(dispatch, "hand-over"), {"condition": "good"}).status_code == 403
    client.force_login(cast.county_director)
    response = _post(client, _step(dispatch, "hand-over"), {"condition": "good", "note": "油满"})
    assert response.json()["handover_condition"] == "good"

    client.force_login(cast.branch_staff)
    start = T0 + timedelta(hours=3)
    stop = {
        "point": cast.point.pk,
        "title": "舞台车进社区",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
    }
    response = _post(client, _step(dispatch, "stops"), stop)
    assert response.status_code == 200, response.json()
    assert [s["title"] for s in response.json()["stops"]] == ["舞台车进社区"]
    far = {**stop, "point": cast.other_county_point.pk}
    assert set(_post(client, _step(dispatch, "stops"), far).json()) == {"point"}
    late = {**stop, "start": (T0 + timedelta(days=9)).isoformat()}
    late["end"] = (T0 + timedelta(days=9, hours=1)).isoformat()
    assert "调配期间" in str(_post(client, _step(dispatch, "stops"), late).json())

    client.force_login(cast.county_director)
    response = _post(client, _step(dispatch, "return"), {"condition": "damaged"})
    assert (response.json()["status"], response.json()["return_condition"]) == (
        "returned",
        "damaged",
    )
    assert Resource.objects.get(pk=resource.pk).condition == "damaged"


def test_reject_needs_a_reason_and_cancel_is_the_requesters(client, cast):
    resource = truck(cast)
    dispatch = request(cast, resource)
    client.force_login(cast.county_director)
    assert set(_post(client, _step(dispatch, "reject"), {"note": ""}).json()) == {"note"}
    response = _post(client, _step(dispatch, "reject"), {"note": "车辆年检"})
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "车辆年检")

    wuhua = services.resource_create(hall=cast.other_county, kind=ResourceKind.VENUE, name="剧场")
    other = request(cast, wuhua, start=T0 + timedelta(days=5))
    client.force_login(cast.other_county_director)  # the owner sees it but cannot withdraw it
    assert _post(client, _step(other, "cancel")).status_code == 403
    client.force_login(cast.branch_staff)
    response = client.post(_step(other, "cancel"), "x=1", content_type="text/plain")
    assert response.status_code == 415
    response = client.generic("POST", _step(other, "cancel"))  # no body at all is fine
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_second_approval_of_an_overlapping_period_is_refused(client, cast):
    resource = truck(cast)
    first = request(cast, resource)
    second = request(
        cast, resource, hall=cast.other_branch, by=cast.other_branch_staff,
        start=T0 + timedelta(hours=6),
    )  # fmt: skip
    client.force_login(cast.county_director)
    assert _post(client, _step(first, "approve")).status_code == 200
    response = _post(client, _step(second, "approve"))
    assert response.status_code == 400
    assert "关上街道综合文化站" in response.json()["start"][0]
