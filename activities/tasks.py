from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def escalate_overdue_orders() -> int:
    """Run by beat every hour: overdue orders go up to the parent hall."""
    return services.orders_escalate_overdue()
