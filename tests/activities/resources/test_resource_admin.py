"""The resource catalogue and dispatch in the admin: every step as the right and the wrong user.

The scope matrix (``test_admin_scope.py``) covers listing, 404s, actions and officials for both
admins; here are the workflows, bad input and the query-count pins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from activities.resources import services
from activities.resources.models import Condition, Dispatch, Resource, ResourceKind
from network import services as network_services

pytestmark = pytest.mark.django_db

T0 = timezone.localtime(timezone.now()).replace(hour=9, minute=0, second=0, microsecond=0)
T0 += timedelta(days=10)


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:resources_{model}_{view}", args=args)


def _step(dispatch: Dispatch, step: str) -> str:
    return reverse("admin:resources_dispatch_step", args=[dispatch.pk, step])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def truck(cast, **kwargs) -> Resource:
    return services.resource_create(
        hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车", unit="辆", **kwargs
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


def _split(value) -> dict[str, str]:
    local = timezone.localtime(value)
    return {"0": local.strftime("%Y-%m-%d"), "1": local.strftime("%H:%M:%S")}


def _request_data(resource, hall, start, end, purpose="送戏下乡"):
    s, e = _split(start), _split(end)
    return {
        "resource": resource.pk,
        "requesting_hall": hall.pk,
        "start_0": s["0"],
        "start_1": s["1"],
        "end_0": e["0"],
        "end_1": e["1"],
        "purpose": purpose,
    }


RESOURCE_DATA = {
    "name": "移动音响",
    "description": "两只主音箱,一台调音台",
    "quantity": "2",
    "unit": "套",
    "condition": "good",
    "contact": "李老师 0871-1234567",
    "public": "on",
    "dispatchable": "on",
    "active": "on",
}


# --- Catalogue --------------------------------------------------------------------------------


def test_cataloguing_numbers_the_entry_and_shows_the_number(client, cast):
    client.force_login(cast.county_director)
    response = client.post(
        _url("resource", "add"), {**RESOURCE_DATA, "hall": cast.branch.pk, "kind": "equipment"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    resource = Resource.objects.get()
    assert resource.catalogue_no == "02-530111001-0001"
    assert any("02-530111001-0001" in m for m in _messages(response))
    page = client.get(_url("resource", "change", resource.pk)).content.decode()
    assert "02-530111001-0001" in page
    assert "申请调配" in page


def test_cataloguing_bad_input_is_a_form_error_and_saves_nothing(client, cast):
    client.force_login(cast.branch_staff)
    response = client.post(
        _url("resource", "add"),
        {**RESOURCE_DATA, "quantity": "0", "hall": cast.branch.pk, "kind": "equipment"},
    )
    assert "quantity" in response.context["adminform"].form.errors
    # A hall outside the scope cannot be picked as owner.
    response = client.post(
        _url("resource", "add"),
        {**RESOURCE_DATA, "hall": cast.other_branch.pk, "kind": "equipment"},
    )
    assert "hall" in response.context["adminform"].form.errors
    response = client.post(
        _url("resource", "add"), {**RESOURCE_DATA, "hall": cast.branch.pk, "kind": "castle"}
    )
    assert "kind" in response.context["adminform"].form.errors
    assert not Resource.objects.exists()


def test_the_owner_changes_an_entry_but_not_its_number_hall_or_kind(client, cast):
    resource = truck(cast)
    client.force_login(cast.county_director)
    page = client.get(_url("resource", "change", resource.pk))
    assert {"hall", "kind"}.isdisjoint(page.context["adminform"].form.fields)
    response = client.post(
        _url("resource", "change", resource.pk),
        {**RESOURCE_DATA, "name": "一号舞台车", "quantity": "1", "condition": "fair"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    resource.refresh_from_db()
    assert (resource.name, resource.condition, resource.catalogue_no) == (
        "一号舞台车",
        "fair",
        "03-530111-0001",
    )


def test_the_catalogue_lists_the_city_with_filters_and_search(client, cast):
    truck(cast)
    services.resource_create(hall=cast.other_county_branch, kind=ResourceKind.TEAM, name="花灯队")
    services.resource_create(
        hall=cast.branch, kind=ResourceKind.EQUIPMENT, name="旧音响", condition=Condition.DAMAGED
    )
    client.force_login(cast.branch_staff)
    url = _url("resource", "changelist")

    def names(**params):
        return {r.name for r in client.get(url, params).context["cl"].result_list}

    assert names() == {"流动舞台车", "花灯队", "旧音响"}  # the whole city network
    assert names(kind__exact="team") == {"花灯队"}
    assert names(condition__exact="damaged") == {"旧音响"}
    assert names(hall=cast.county.pk) == {"流动舞台车"}
    assert names(mine="1") == {"旧音响"}
    assert names(mine="0") == {"流动舞台车", "花灯队"}
    assert names(q="花灯") == {"花灯队"}
    assert names(q="03-530111") == {"流动舞台车"}
    assert client.get(url, {"hall": "x"}).status_code in (200, 302)  # Django's ?e=1 redirect
    page = client.get(url).content.decode()
    assert page.count("申请调配") >= 3


def test_the_catalogue_list_costs_the_same_for_3_and_30_entries(
    client, cast, django_assert_num_queries
):
    client.force_login(cast.branch_staff)
    url = _url("resource", "changelist")
    for i in range(3):
        services.resource_create(hall=cast.branch, kind=ResourceKind.TEAM, name=f"队{i}")
    client.get(url)  # warm the session
    # session, user, scope, hall-filter choices, count, rows
    with django_assert_num_queries(6):
        assert len(client.get(url).context["cl"].result_list) == 3
    for i in range(27):
        services.resource_create(hall=cast.county, kind=ResourceKind.EQUIPMENT, name=f"设备{i}")
    with django_assert_num_queries(6):
        assert len(client.get(url).context["cl"].result_list) == 30


def test_the_resource_page_lists_its_busy_periods(client, cast):
    resource = truck(cast)
    approved = request(cast, resource)
    services.dispatch_approve(dispatch=approved, by=cast.county_director)
    request(
        cast, resource, hall=cast.other_branch, by=cast.other_branch_staff, start=T0 + timedelta(days=5)
    )  # fmt: skip
    past = request(cast, resource, start=T0 - timedelta(days=30))
    services.dispatch_reject(dispatch=past, by=cast.county_director, note="车辆检修")
    client.force_login(cast.other_county_director)  # another county reads it too
    page = client.get(_url("resource", "change", resource.pk))
    periods = page.context["busy_periods"]
    assert [(d.requesting_hall.name, d.status) for d in periods] == [
        ("关上街道综合文化站", "approved"),
        ("太和街道综合文化站", "requested"),
    ]
    html = page.content.decode()
    assert timezone.localtime(T0).strftime("%Y-%m-%d %H:%M") in html
    assert not page.context["has_change_permission"]


# --- Requests ---------------------------------------------------------------------------------


def test_a_hall_requests_a_resource_from_its_page(client, cast):
    resource = truck(cast)
    client.force_login(cast.branch_staff)
    add = client.get(_url("dispatch", "add"), {"resource": resource.pk})
    form = add.context["adminform"].form
    assert form.initial["resource"] == str(resource.pk)
    assert form.initial["requesting_hall"] == cast.branch.pk  # the account's one hall
    response = client.post(
        _url("dispatch", "add"),
        _request_data(resource, cast.branch, T0, T0 + timedelta(days=2)),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    dispatch = Dispatch.objects.get()
    assert (dispatch.status, dispatch.approver_hall, dispatch.requested_by) == (
        "requested",
        cast.county,
        cast.branch_staff,
    )


def test_a_request_ending_before_it_starts_is_refused(client, cast):
    resource = truck(cast)
    client.force_login(cast.branch_staff)
    response = client.post(
        _url("dispatch", "add"),
        _request_data(resource, cast.branch, T0, T0 - timedelta(hours=1)),
    )
    assert response.status_code == 200
    assert "结束时间必须晚于开始时间" in str(response.context["adminform"].form.errors["end"])
    assert not Dispatch.objects.exists()


def test_a_resource_already_out_is_refused_naming_the_dates_and_hall(client, cast):
    resource = truck(cast)
    first = request(cast, resource, hall=cast.other_branch, by=cast.other_branch_staff)
    services.dispatch_approve(dispatch=first, by=cast.county_director)
    client.force_login(cast.branch_staff)
    response = client.post(
        _url("dispatch", "add"),
        _request_data(resource, cast.branch, T0 + timedelta(hours=12), T0 + timedelta(days=3)),
    )
    assert response.status_code == 200
    message = str(response.context["adminform"].form.errors)
    assert "太和街道综合文化站" in message
    assert timezone.localtime(T0).strftime("%Y-%m-%d %H:%M") in message
    assert Dispatch.objects.count() == 1


def test_a_request_in_the_name_of_another_hall_is_refused(client, cast):
    resource = truck(cast)
    client.force_login(cast.branch_staff)
    response = client.post(
        _url("dispatch", "add"),
        _request_data(resource, cast.other_branch, T0, T0 + timedelta(days=1)),
    )
    assert "requesting_hall" in response.context["adminform"].form.errors
    assert not Dispatch.objects.exists()


def test_the_resource_autocomplete_offers_the_city_catalogue_that_can_be_asked_for(client, cast):
    truck(cast)
    services.resource_create(hall=cast.other_county, kind=ResourceKind.TEAM, name="五华花灯队")
    services.resource_create(
        hall=cast.county, kind=ResourceKind.EQUIPMENT, name="报废音响", dispatchable=False
    )
    other_city = network_services.hall_create(parent=None, name="玉溪市文化馆", locality="玉溪市")
    services.resource_create(hall=other_city, kind=ResourceKind.TEAM, name="玉溪花灯队")
    client.force_login(cast.branch_staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "resources", "model_name": "dispatch", "field_name": "resource", "term": ""},
    )
    texts = {row["text"].split(" ", 1)[1] for row in response.json()["results"]}
    assert texts == {"流动舞台车", "五华花灯队"}


# --- Steps --------------------------------------------------------------------------------------


def test_approval_by_the_wrong_user_is_a_message_and_changes_nothing(client, cast):
    dispatch = request(cast, truck(cast))
    for user in (cast.branch_staff, cast.county_official):
        client.force_login(user)
        response = client.post(_step(dispatch, "approve"), {"note": ""}, follow=True)
        assert response.status_code == 200
        assert any("审批" in m for m in _messages(response)), user
        assert Dispatch.objects.get(pk=dispatch.pk).status == "requested"
    # Out of the scope altogether: 404.
    client.force_login(cast.other_county_director)
    assert client.post(_step(dispatch, "approve"), {}).status_code == 404
    assert client.get(_step(dispatch, "nonsense")).status_code == 404


def test_the_change_page_offers_only_the_steps_the_user_may_take(client, cast):
    dispatch = request(cast, truck(cast))

    def steps(user):
        client.force_login(user)
        page = client.get(_url("dispatch", "change", dispatch.pk))
        assert page.status_code == 200
        return [str(label) for label, _url_ in page.context["steps"]]

    assert steps(cast.county_director) == ["批准", "不批准", "撤回"]
    assert steps(cast.branch_staff) == ["撤回"]
    assert steps(cast.county_official) == []


def test_the_whole_workflow_through_the_admin(client, cast):
    resource = truck(cast)
    dispatch = request(cast, resource, hours=72)

    client.force_login(cast.county_director)
    response = client.post(_step(dispatch, "approve"), {"note": "同意"})
    assert response.status_code == 302
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.decision_note, dispatch.decided_by) == (
        "approved",
        "同意",
        cast.county_director,
    )

    # Handing over needs a condition; the form says so.
    response = client.post(_step(dispatch, "hand_over"), {"condition": ""})
    assert response.status_code == 200 and "condition" in response.context["form"].errors
    # The requesting branch may not hand over the owner's truck.
    client.force_login(cast.branch_staff)
    response = client.post(_step(dispatch, "hand_over"), {"condition": "good"}, follow=True)
    assert any("交接" in m for m in _messages(response))
    client.force_login(cast.county_director)
    client.post(_step(dispatch, "hand_over"), {"condition": "good", "note": "油满"})
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.handover_condition, dispatch.handover_note) == (
        "handed_over",
        "good",
        "油满",
    )

    # The requesting branch tours its villages.
    client.force_login(cast.branch_staff)
    start = timezone.localtime(T0 + timedelta(hours=3))
    form = client.get(_step(dispatch, "add_stop")).context["form"]
    assert set(form.fields["point"].queryset) == {cast.point, cast.point2}
    data = {
        "point": cast.point.pk,
        "title": "舞台车进社区",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(_step(dispatch, "add_stop"), data)
    assert response.status_code == 302
    late = {**data, "start": (start + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")}
    late["end"] = (start + timedelta(days=5, hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(_step(dispatch, "add_stop"), late)
    assert response.status_code == 200
    assert "调配期间" in str(response.context["form"].errors)
    page = client.get(_url("dispatch", "change", dispatch.pk)).content.decode()
    assert "舞台车进社区" in page and "关上一社区服务中心" in page

    client.force_login(cast.county_director)
    response = client.post(_step(dispatch, "return"), {"condition": "damaged", "note": "灯架损坏"})
    assert response.status_code == 302
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.return_condition) == ("returned", "damaged")
    assert Resource.objects.get(pk=resource.pk).condition == "damaged"
    # Nothing more can happen to a returned dispatch: the service says so.
    response = client.post(_step(dispatch, "approve"), {})
    assert "不能进行这一步" in str(response.context["form"].errors)


def test_reject_needs_a_reason_and_cancel_is_the_requesters(client, cast):
    resource = truck(cast)
    dispatch = request(cast, resource)
    client.force_login(cast.county_director)
    response = client.post(_step(dispatch, "reject"), {"note": "  "})
    assert "note" in response.context["form"].errors
    client.post(_step(dispatch, "reject"), {"note": "车辆年检"})
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.decision_note) == ("rejected", "车辆年检")

    other = request(cast, resource, start=T0 + timedelta(days=7))
    client.force_login(cast.other_branch_staff)
    assert client.post(_step(other, "cancel"), {}).status_code == 404  # not its business
    client.force_login(cast.branch_staff)
    assert client.post(_step(other, "cancel"), {}).status_code == 302
    assert Dispatch.objects.get(pk=other.pk).status == "cancelled"


def test_overlapping_approval_is_refused_with_the_dates_and_hall(client, cast):
    resource = truck(cast)
    first = request(cast, resource)
    second = request(
        cast, resource, hall=cast.other_branch, by=cast.other_branch_staff,
        start=T0 + timedelta(hours=6),
    )  # fmt: skip
    client.force_login(cast.county_director)
    client.post(_step(first, "approve"), {})
    response = client.post(_step(second, "approve"), {})
    assert response.status_code == 200
    assert "关上街道综合文化站" in str(response.context["form"].errors)
    assert Dispatch.objects.get(pk=second.pk).status == "requested"


def test_a_cross_county_request_is_approved_by_the_city_centre(client, cast):
    resource = truck(cast)
    dispatch = request(cast, resource, hall=cast.other_county_branch, by=cast.other_county_director)
    client.force_login(cast.county_director)
    response = client.post(_step(dispatch, "approve"), {}, follow=True)
    assert any("审批" in m for m in _messages(response))
    client.force_login(cast.centre_director)
    client.post(_step(dispatch, "approve"), {})
    assert Dispatch.objects.get(pk=dispatch.pk).status == "approved"


# --- The dispatch list --------------------------------------------------------------------------


def test_the_dispatch_list_shows_status_period_and_approver(client, cast):
    dispatch = request(cast, truck(cast))
    client.force_login(cast.branch_staff)
    page = client.get(_url("dispatch", "changelist"))
    assert [d.pk for d in page.context["cl"].result_list] == [dispatch.pk]
    html = page.content.decode()
    assert "申请中" in html and "官渡区文化馆" in html
    assert timezone.localtime(T0).strftime("%Y-%m-%d %H:%M") in html
    mine = client.get(_url("dispatch", "changelist"), {"mine": "approve"})
    assert list(mine.context["cl"].result_list) == []
    client.force_login(cast.county_director)
    mine = client.get(_url("dispatch", "changelist"), {"mine": "approve"})
    assert [d.pk for d in mine.context["cl"].result_list] == [dispatch.pk]


def test_the_dispatch_list_costs_the_same_for_3_and_30_rows(
    client, cast, django_assert_num_queries
):
    resources = [truck(cast) for _ in range(3)]

    def add(n, offset):
        for i in range(n):
            request(cast, resources[i % 3], start=T0 + timedelta(days=offset + i))

    add(3, 0)
    client.force_login(cast.county_director)
    url = _url("dispatch", "changelist")
    client.get(url)
    # session, user, scope, count, rows, date hierarchy (first/last, then the periods)
    with django_assert_num_queries(7):
        assert len(client.get(url).context["cl"].result_list) == 3
    add(27, 10)
    with django_assert_num_queries(7):
        assert len(client.get(url).context["cl"].result_list) == 30


# --- Forms validate, services write --------------------------------------------------------------


def test_validating_the_admin_forms_writes_nothing(rf, cast):
    resource = truck(cast)
    request_ = rf.post("/")
    request_.user = cast.branch_staff

    ResourceForm = admin.site.get_model_admin(Resource).get_form(request_)
    form = ResourceForm({**RESOURCE_DATA, "hall": cast.branch.pk, "kind": "equipment"})
    assert form.is_valid(), form.errors
    assert Resource.objects.count() == 1

    DispatchForm = admin.site.get_model_admin(Dispatch).get_form(request_)
    form = DispatchForm(_request_data(resource, cast.branch, T0, T0 + timedelta(days=1)))
    assert form.is_valid(), form.errors
    assert not Dispatch.objects.exists()


def test_a_refused_request_keeps_what_was_typed(client, cast):
    resource = truck(cast)
    first = request(cast, resource, hall=cast.other_branch, by=cast.other_branch_staff)
    services.dispatch_approve(dispatch=first, by=cast.county_director)
    client.force_login(cast.branch_staff)
    response = client.post(
        _url("dispatch", "add"),
        _request_data(
            resource, cast.branch, T0 + timedelta(hours=12), T0 + timedelta(days=3), "社区晚会"
        ),
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "太和街道综合文化站" in str(form.errors["start"])
    assert form["purpose"].value() == "社区晚会"
    assert Dispatch.objects.count() == 1
