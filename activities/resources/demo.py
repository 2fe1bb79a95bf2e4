"""Demo data of the resource catalogue: a small catalogue for 官渡 and 五华, and the 官渡 stage
truck on a two-stop tour. Deterministic apart from the dates, which follow today; a second run
finds the catalogue and adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from network.models import Hall

from . import services
from .models import Condition, Resource, ResourceKind


@transaction.atomic
def seed_resources(centre: Hall) -> int:
    """A small catalogue for 官渡 and 五华, and the 官渡 stage truck on a two-stop tour."""
    if Resource.objects.filter(hall__tree_id=centre.tree_id).exists():
        return Resource.objects.filter(hall__tree_id=centre.tree_id).count()
    User = get_user_model()
    guandu = Hall.objects.get(tree_id=centre.tree_id, name="官渡区文化馆")
    wuhua = Hall.objects.get(tree_id=centre.tree_id, name="五华区文化馆")
    guanshang = Hall.objects.get(tree_id=centre.tree_id, name="关上街道综合文化站")
    director = User.objects.get(username="guandu_director")
    truck = services.resource_create(
        hall=guandu, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车", unit="辆",
        description="12 米展开式舞台,含音响灯光", value=85, contact="0871-61100000",
    )  # fmt: skip
    catalogue = [
        (guandu, ResourceKind.VENUE, "小剧场(300 座)", "个"),
        (guandu, ResourceKind.EQUIPMENT, "便携音响套装", "套"),
        (guandu, ResourceKind.TEAM, "官渡花灯艺术团", "支"),
        (guandu, ResourceKind.TALENT, "滇剧非遗传承人", "人"),
        (guandu, ResourceKind.WORK, "原创花灯小戏《古渡新韵》", "部"),
        (guandu, ResourceKind.DIGITAL, "官渡民俗数字展厅", "个"),
        (guanshang, ResourceKind.TEAM, "关上街道广场舞队", "支"),
        (guanshang, ResourceKind.VENUE, "关上街道多功能厅", "个"),
        (wuhua, ResourceKind.EQUIPMENT, "LED 移动屏", "块"),
    ]
    for hall, kind, name, unit in catalogue:
        services.resource_create(hall=hall, kind=kind, name=name, unit=unit)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=14)
    tour = services.dispatch_request(
        resource=truck, requesting_hall=guandu, start=start, end=start + timedelta(days=2),
        purpose="流动舞台车进社区巡演", by=director,
    )  # fmt: skip
    services.dispatch_approve(dispatch=tour, by=director, note="同意")
    points = Hall.objects.filter(branch_hall=guanshang, kind="point").order_by("lft")[:2]
    for i, point in enumerate(points):
        stop = start + timedelta(hours=10 + 24 * i)
        services.dispatch_add_stop(
            dispatch=tour, point=point, title=f"流动舞台车:{point.locality}专场",
            start=stop, end=stop + timedelta(hours=2), by=director,
        )  # fmt: skip
    services.dispatch_hand_over(dispatch=tour, by=director, condition=Condition.GOOD)
    return len(catalogue) + 1
