from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from activities import services
from activities.models import Activity, Category


def published_activity(hall, *, capacity=10, start_in=timedelta(days=3), **fields) -> Activity:
    start = timezone.now() + start_in
    defaults = {
        "category": Category.PERFORMANCE,
        "title": "花灯戏专场演出",
        "start": start,
        "end": start + timedelta(hours=2),
        "capacity": capacity,
        "max_seats_per_booking": min(4, capacity) if capacity else 4,
    }
    defaults.update(fields)
    activity = services.activity_create(hall=hall, **defaults)
    return services.activity_publish(activity=activity)


_scope_serial = iter(range(1, 10_000))


def admin_scope_object(model, halls):
    """An object of the order models placed at ``halls`` for the admin scope matrix
    (``tests/network/test_admin_scope.py``)."""
    from activities.models import DemandOrder, MenuItem

    n = next(_scope_serial)
    if model is MenuItem:
        return MenuItem.objects.create(
            hall=halls.branch, category=Category.TRAINING, title=f"广场舞辅导{n}"
        )
    if model is DemandOrder:
        return services.order_create(
            point_id=halls.point.pk,
            name="王村长",
            phone=f"1370000{n:04d}",
            description="村里想办一期广场舞培训",
        )
    return None
