from __future__ import annotations

from activities.models import Category
from activities.orders import services
from activities.orders.models import MenuItem, Order

_scope_serial = iter(range(1, 10_000))


def admin_scope_object(model, halls):
    """An object of the order models placed at ``halls`` for the admin scope matrix
    (``tests/network/test_admin_scope.py``)."""
    n = next(_scope_serial)
    if model is MenuItem:
        return services.menu_item_create(
            hall=halls.branch, category=Category.TRAINING, title=f"广场舞辅导{n}"
        )
    if model is Order:
        return services.order_create(
            point_id=halls.point.pk,
            name="王村长",
            phone=f"1370000{n:04d}",
            description="村里想办一期广场舞培训",
        )
    return None
