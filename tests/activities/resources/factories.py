"""Objects for the admin scope matrix (tests/network/test_admin_scope.py)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from activities.resources import services
from activities.resources.models import Dispatch, Resource, ResourceKind

_serial = itertools.count(1)


def _resource(halls):
    return services.resource_create(
        hall=halls.branch, kind=ResourceKind.EQUIPMENT, name=f"移动音响{next(_serial)}"
    )


def _dispatch(halls):
    truck = services.resource_create(
        hall=halls.main, kind=ResourceKind.STAGE_TRUCK, name=f"流动舞台车{next(_serial)}"
    )
    start = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)
    return services.dispatch_request(
        resource=truck,
        requesting_hall=halls.branch,
        start=start,
        end=start + dt.timedelta(days=2),
        purpose="送戏下乡",
        by=get_user_model().objects.get(username="root"),
    )


def admin_scope_object(model, halls):
    return {Resource: _resource, Dispatch: _dispatch}[model](halls)
