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
