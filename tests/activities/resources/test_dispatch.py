from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from activities.models import Category
from activities.resources import services
from activities.resources.models import Condition, Dispatch, Resource, ResourceKind
from activities.selectors import activities_public
from network import services as network_services
from tests.conftest import build_cast, need_postgres

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) + timedelta(days=10)


def truck(cast) -> Resource:
    return services.resource_create(
        hall=cast.county,
        kind=ResourceKind.STAGE_TRUCK,
        name="流动舞台车",
        unit="辆",
        by=cast.county_director,
    )


def request(cast, resource, *, hall=None, by=None, start=T0, hours=48):
    return services.dispatch_request(
        resource=resource,
        requesting_hall=hall or cast.branch,
        start=start,
        end=start + timedelta(hours=hours),
        purpose="送戏下乡",
        by=by or cast.branch_staff,
    )


def test_the_steps_each_status_allows_are_declared_once_on_the_model():
    S, Step = Dispatch.Status, Dispatch.Step
    expected = {
        S.REQUESTED: [Step.APPROVE, Step.REJECT, Step.CANCEL],
        S.APPROVED: [Step.CANCEL, Step.HAND_OVER, Step.ADD_STOP],
        S.HANDED_OVER: [Step.RETURN, Step.ADD_STOP],
        S.REJECTED: [],
        S.RETURNED: [],
        S.CANCELLED: [],
    }
    for status, steps in expected.items():
        dispatch = Dispatch(status=status)
        assert dispatch.next_steps() == steps, status
        assert [step for step in Step if dispatch.can(step)] == steps, status
    assert Dispatch(status=S.APPROVED).status_after(Step.ADD_STOP) == S.APPROVED
    assert Dispatch.statuses_allowing(Step.APPROVE) == [S.REQUESTED]
    assert set(Dispatch.STEP_HALL) == set(Step)


def test_a_step_the_status_does_not_allow_is_refused_and_changes_nothing(cast):
    dispatch = request(cast, truck(cast))
    services.dispatch_cancel(dispatch=dispatch, by=cast.branch_staff)
    with pytest.raises(ValidationError) as exc:
        services.dispatch_approve(dispatch=dispatch, by=cast.county_director)
    assert "不能进行这一步" in exc.value.message_dict["status"][0]
    assert Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.CANCELLED


def test_catalogue_numbers_follow_the_scheme(cast):
    a = truck(cast)
    b = services.resource_create(hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="二号车")
    team = services.resource_create(hall=cast.other_branch, kind=ResourceKind.TEAM, name="花灯队")
    assert (a.catalogue_no, b.catalogue_no) == ("03-530111-0001", "03-530111-0002")
    assert team.catalogue_no == "04-530111002-0001"


def test_only_the_owner_scope_changes_an_entry(cast):
    resource = truck(cast)
    with pytest.raises(PermissionDenied):
        services.resource_update(resource=resource, by=cast.other_county_director, name="x")
    with pytest.raises(PermissionDenied):
        services.resource_update(resource=resource, by=cast.county_official, name="x")
    services.resource_update(resource=resource, by=cast.centre_director, name="一号舞台车")
    assert Resource.objects.get(pk=resource.pk).name == "一号舞台车"


def test_within_a_county_the_owner_approves_across_counties_the_common_ancestor(cast):
    resource = truck(cast)
    inside = request(cast, resource)
    assert inside.approver_hall == cast.county
    outside = request(
        cast, resource, hall=cast.other_county_branch, by=cast.other_county_director,
        start=T0 + timedelta(days=5),
    )  # fmt: skip
    assert outside.approver_hall == cast.centre
    with pytest.raises(PermissionDenied):
        services.dispatch_approve(dispatch=outside, by=cast.county_director)
    services.dispatch_approve(dispatch=outside, by=cast.centre_director)


def test_a_resource_already_out_is_refused_with_its_dates(cast):
    resource = truck(cast)
    first = request(cast, resource)
    services.dispatch_approve(dispatch=first, by=cast.county_director)
    with pytest.raises(ValidationError) as exc:
        request(
            cast,
            resource,
            hall=cast.other_branch,
            by=cast.other_branch_staff,
            start=T0 + timedelta(hours=24),
        )
    assert "太" not in exc.value.message_dict["start"][0]
    assert "关上街道综合文化站" in exc.value.message_dict["start"][0]
    # Back to back is fine: periods are half-open.
    request(
        cast,
        resource,
        hall=cast.other_branch,
        by=cast.other_branch_staff,
        start=T0 + timedelta(hours=48),
    )


def test_two_overlapping_requests_cannot_both_be_approved(cast):
    resource = truck(cast)
    a = request(cast, resource)
    b = request(
        cast,
        resource,
        hall=cast.other_branch,
        by=cast.other_branch_staff,
        start=T0 + timedelta(hours=1),
    )
    services.dispatch_approve(dispatch=a, by=cast.county_director)
    with pytest.raises(ValidationError):
        services.dispatch_approve(dispatch=b, by=cast.county_director)
    assert Dispatch.objects.get(pk=b.pk).status == Dispatch.Status.REQUESTED


def test_bad_requests_are_refused(cast):
    resource = truck(cast)
    with pytest.raises(ValidationError) as exc:
        request(cast, resource, hours=-1)
    assert "end" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        request(cast, resource, hall=cast.other_county_branch)  # not the requester's hall
    other_city = network_services.hall_create(parent=None, name="玉溪市文化馆", locality="玉溪市")
    far = network_services.hall_create(parent=other_city, name="红塔区文化馆", locality="红塔区")
    with pytest.raises(ValidationError) as exc:
        services.dispatch_request(
            resource=resource, requesting_hall=far, start=T0, end=T0 + timedelta(hours=1),
            purpose="x", by=cast.superuser,
        )  # fmt: skip
    assert "resource" in exc.value.message_dict


def test_handover_and_return_record_the_condition(cast):
    resource = truck(cast)
    d = request(cast, resource)
    with pytest.raises(ValidationError):
        services.dispatch_hand_over(dispatch=d, by=cast.county_director, condition=Condition.GOOD)
    services.dispatch_approve(dispatch=d, by=cast.county_director)
    with pytest.raises(PermissionDenied):
        services.dispatch_hand_over(dispatch=d, by=cast.branch_staff, condition=Condition.GOOD)
    services.dispatch_hand_over(dispatch=d, by=cast.county_director, condition=Condition.GOOD)
    with pytest.raises(ValidationError):
        services.dispatch_return(dispatch=d, by=cast.county_director, condition="broken")
    done = services.dispatch_return(
        dispatch=d, by=cast.county_director, condition=Condition.DAMAGED, note="音箱损坏"
    )
    assert (done.handover_condition, done.return_condition) == ("good", "damaged")
    assert Resource.objects.get(pk=resource.pk).condition == Condition.DAMAGED


def test_a_truck_tour_puts_each_stop_on_the_point_page(cast):
    resource = truck(cast)
    tour = request(cast, resource, hall=cast.county, by=cast.county_director, hours=72)
    services.dispatch_approve(dispatch=tour, by=cast.county_director)
    for i, point in enumerate([cast.point, cast.other_branch_point]):
        start = T0 + timedelta(hours=2 + 24 * i)
        services.dispatch_add_stop(
            dispatch=tour, point=point, title=f"舞台车第{i + 1}站", start=start,
            end=start + timedelta(hours=2), by=cast.county_director,
        )  # fmt: skip
    stops = list(tour.stops.select_related("activity"))
    assert [s.order for s in stops] == [1, 2]
    assert all(s.activity.category == Category.MOBILE for s in stops)
    on_point = activities_public(hall=cast.point.pk)
    assert [a.title for a in on_point] == ["舞台车第1站"]
    with pytest.raises(ValidationError):
        services.dispatch_add_stop(
            dispatch=tour, point=cast.point, title="超期", start=T0 + timedelta(days=5),
            end=T0 + timedelta(days=5, hours=1), by=cast.county_director,
        )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_overlapping_live_dispatches():
    need_postgres()
    cast = build_cast()
    resource = truck(cast)
    a = request(cast, resource)
    b = request(
        cast,
        resource,
        hall=cast.other_branch,
        by=cast.other_branch_staff,
        start=T0 + timedelta(hours=5),
    )
    Dispatch.objects.filter(pk=a.pk).update(status=Dispatch.Status.APPROVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispatch.objects.filter(pk=b.pk).update(status=Dispatch.Status.HANDED_OVER)


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_give_a_resource_out_once():
    need_postgres()
    cast = build_cast()
    resource = truck(cast)
    requests = [
        request(cast, resource, start=T0 + timedelta(minutes=10 * i), hours=3) for i in range(12)
    ]
    barrier = threading.Barrier(len(requests))
    outcomes: list = []
    lock = threading.Lock()

    def approve(d):
        try:
            barrier.wait()
            services.dispatch_approve(dispatch=d, by=cast.county_director)
            result = "approved"
        except ValidationError:
            result = "refused"
        except BaseException as exc:  # noqa: BLE001 - reported below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(d,)) for d in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()
    assert sorted(map(str, outcomes)) == ["approved"] + ["refused"] * 11
    assert Dispatch.objects.filter(status=Dispatch.Status.APPROVED).count() == 1
