"""The move of the resource tables from ``network`` to ``resources`` keeps every row.

A database that was in service before the move is rebuilt here: the migrations are taken back
to network 0006 (the tables named ``network_*``), rows are written with the historical models of
that state, and migrating forward must leave the same rows, ids and fields readable through the
new models, with the admin's log entries following their content type.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from activities.resources import services
from activities.resources.models import Dispatch, DispatchStop, Resource, ResourceKind
from tests.activities.factories import published_activity
from tests.conftest import build_cast

BEFORE_THE_MOVE = ("network", "0006_leaner_hall_indexes")
T0 = timezone.now().replace(microsecond=0) + timedelta(days=10)


def _executor() -> MigrationExecutor:
    # A fresh executor reads the applied migrations from the database again.
    return MigrationExecutor(connection)


def _to_latest() -> None:
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def _old_rows(apps, cast, activity) -> dict:
    """A resource, a dispatch and a tour stop written as the code before the move wrote them."""
    OldResource = apps.get_model("network", "Resource")
    OldDispatch = apps.get_model("network", "Dispatch")
    OldStop = apps.get_model("network", "DispatchStop")
    ContentTypeThen = apps.get_model("contenttypes", "ContentType")
    LogEntryThen = apps.get_model("admin", "LogEntry")
    assert OldResource._meta.db_table == "network_resource"

    resource = OldResource.objects.create(
        hall_id=cast.county.pk,
        kind="stage_truck",
        catalogue_no="03-530111-0001",
        name="流动舞台车",
        quantity=1,
        unit="辆",
        condition="fair",
        contact="0871-61100000",
    )
    dispatch = OldDispatch.objects.create(
        resource_id=resource.pk,
        requesting_hall_id=cast.branch.pk,
        approver_hall_id=cast.county.pk,
        purpose="送戏下乡",
        start=T0,
        end=T0 + timedelta(days=2),
        status="handed_over",
        requested_by_id=cast.branch_staff.pk,
        decided_by_id=cast.county_director.pk,
        decided_at=T0 - timedelta(days=1),
        decision_note="同意",
        handover_condition="good",
    )
    stop = OldStop.objects.create(
        dispatch_id=dispatch.pk, point_id=cast.point.pk, activity_id=activity.pk, order=1
    )
    # Before the move the content type was network's (the backwards step put it back there).
    content_type = ContentTypeThen.objects.get(app_label="network", model="resource")
    entry = LogEntryThen.objects.create(
        action_time=timezone.now(),
        user_id=cast.county_director.pk,
        content_type_id=content_type.pk,
        object_id=str(resource.pk),
        object_repr="03-530111-0001 流动舞台车",
        action_flag=2,
        change_message="[]",
    )
    return {"resource": resource.pk, "dispatch": dispatch.pk, "stop": stop.pk, "entry": entry.pk}


@pytest.mark.django_db(transaction=True)
def test_the_move_to_the_resources_app_keeps_every_row():
    cast = build_cast()
    activity = published_activity(cast.point, title="舞台车进社区", capacity=None)
    try:
        executor = _executor()
        executor.migrate([BEFORE_THE_MOVE])
        executor = _executor()
        state = executor.loader.project_state(list(executor.loader.applied_migrations))
        ids = _old_rows(state.apps, cast, activity)

        _to_latest()

        resource = Resource.objects.get(pk=ids["resource"])
        assert Resource._meta.db_table == "resources_resource"
        assert (resource.hall_id, resource.kind, resource.catalogue_no, resource.name) == (
            cast.county.pk,
            ResourceKind.STAGE_TRUCK,
            "03-530111-0001",
            "流动舞台车",
        )
        assert (resource.unit, resource.condition, resource.contact) == (
            "辆",
            "fair",
            "0871-61100000",
        )
        dispatch = Dispatch.objects.get(pk=ids["dispatch"])
        assert dispatch.resource_id == resource.pk
        assert (dispatch.requesting_hall_id, dispatch.approver_hall_id) == (
            cast.branch.pk,
            cast.county.pk,
        )
        assert (dispatch.status, dispatch.start, dispatch.end) == (
            Dispatch.Status.HANDED_OVER,
            T0,
            T0 + timedelta(days=2),
        )
        assert (dispatch.requested_by_id, dispatch.decided_by_id, dispatch.decision_note) == (
            cast.branch_staff.pk,
            cast.county_director.pk,
            "同意",
        )
        assert dispatch.handover_condition == "good"
        stop = DispatchStop.objects.select_related("activity").get(pk=ids["stop"])
        assert (stop.dispatch_id, stop.point_id, stop.order) == (dispatch.pk, cast.point.pk, 1)
        assert stop.activity.title == "舞台车进社区"
        assert activity.dispatch_stop == stop

        # The admin's history of the entry follows it to the new app.
        entry = LogEntry.objects.get(pk=ids["entry"])
        assert entry.content_type.app_label == "resources"
        assert entry.get_edited_object() == resource
        assert not ContentType.objects.filter(app_label="network", model="resource").exists()

        # The moved tables keep numbering where they were, and the workflow goes on.
        new = services.resource_create(
            hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="二号车"
        )
        assert new.pk > resource.pk and new.catalogue_no == "03-530111-0002"
        services.dispatch_return(dispatch=dispatch, by=cast.county_director, condition="good")
        assert Resource.objects.get(pk=resource.pk).condition == "good"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conrelid::regclass::text FROM pg_constraint "
                    "WHERE conname = 'dispatch_no_overlap'"
                )
                assert cursor.fetchall() == [("resources_dispatch",)]
    finally:
        _to_latest()
