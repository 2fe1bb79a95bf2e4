from __future__ import annotations

from celery import shared_task

from . import exports


@shared_task(acks_late=True)
def build_export(export_id: str) -> str | None:
    """Write a queued spreadsheet export; its progress and result are kept in the cache."""
    state = exports.export_run(export_id)
    return state["status"] if state else None
