"""Demo menus and orders (点单) for the Kunming network. Same rows every run."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from activities.demo import day_at
from activities.models import Category
from common.codes import fix_codes
from network.models import Hall, HallKind

from . import services
from .models import Order


@transaction.atomic
def seed_orders(centre: Hall) -> int:
    """Menus of the 官渡 county hall and its first branch, and orders in every state."""
    if Order.objects.filter(handler__tree_id=centre.tree_id).exists():
        return Order.objects.filter(handler__tree_id=centre.tree_id).count()
    User = get_user_model()
    county = Hall.objects.get(tree_id=centre.tree_id, name="官渡区文化馆")
    branch = Hall.objects.get(tree_id=centre.tree_id, name="关上街道综合文化站")
    staff = User.objects.get(username="guanshang_staff")
    director = User.objects.get(username="guandu_director")
    menu = [
        services.menu_item_create(
            hall=county, category=Category.PERFORMANCE, title="送戏下乡(花灯、滇剧)",
            description="总馆文艺小分队到村(社区)演出,约 90 分钟。", lead_days=14, monthly_limit=1,
        ),
        services.menu_item_create(
            hall=county, category=Category.TRAINING, title="广场舞辅导(4 课时)",
            description="总馆舞蹈老师上门辅导。", lead_days=7,
        ),
        services.menu_item_create(
            hall=branch, category=Category.READING, title="流动图书借阅点",
            description="分馆送 200 册图书到服务点,一个月后轮换。", lead_days=3,
        ),
    ]  # fmt: skip
    points = list(Hall.objects.filter(branch_hall=branch, kind=HallKind.POINT).order_by("lft")[:6])
    today = timezone.localdate()
    orders = []
    for i, point in enumerate(points):
        item = menu[i % len(menu)] if i % 4 != 3 else None
        orders.append(
            services.order_create(
                point_id=point.pk,
                item_id=item.pk if item else None,
                name=f"{point.locality}文化管理员",
                phone=f"1370000{i:04d}",
                description=(
                    f"{point.locality}希望安排:{item.title}"
                    if item
                    else "想请老师来教村里的孩子学葫芦丝"
                ),
                preferred_date=today + timedelta(days=20 + i),
            )
        )
    handler_staff = {county.pk: director, branch.pk: staff}
    # Walk the orders through the states, one further each.
    for step, order in enumerate(orders[1:], start=1):
        by = handler_staff[order.handler_id]
        if step == 5:
            services.order_reject(order=order, by_user=by, reason="本月排期已满,请下月再点")
            continue
        services.order_accept(order=order, by_user=by)
        if step >= 2:
            # A completed order's activity has ended; the others are still to come.
            start = day_at(-(10 + step) if step >= 3 else 10 + step, 15)
            order = services.order_schedule(
                order=order, by_user=by, title=f"点单服务:{order.point.locality}",
                start=start, end=start + timedelta(hours=2), capacity=40, venue="村活动室",
            )  # fmt: skip
        if step >= 3:
            services.order_complete(order=order, by_user=by)
        if step >= 4:
            services.order_rate(code=order.code, phone=order.phone, rating=5, comment="很满意")
    fix_codes(Order, Order.objects.filter(pk__in=[o.pk for o in orders]), "order")
    return len(orders)
