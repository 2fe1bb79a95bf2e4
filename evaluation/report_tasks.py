"""Celery tasks of the quarterly and annual reports (loaded through ``CELERY_IMPORTS``).

A build acknowledges its message only when it ends, and a message whose worker died goes back
on the queue; the run's row (see ``services.report_run_claim``) makes the second delivery finish
the report instead of building a duplicate.
"""

from __future__ import annotations

import os
import socket
import uuid

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError

from . import reports, services


def worker_name(task_id: str | None) -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{task_id or uuid.uuid4().hex[:12]}"


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    # Bad input will not get better by waiting.
    dont_autoretry_for=(ValidationError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
)
def build_report(self, kind: str, period: str, hall_id: int, force: bool = False) -> str:
    run, outcome = services.report_run_build(
        kind=kind,
        period=period,
        hall_id=hall_id,
        worker=worker_name(self.request.id),
        force=force,
    )
    if outcome == "busy" and not self.request.is_eager:
        # Another worker holds the run and still beats; look again once its claim could have
        # gone stale. Not an error, so not bound by the few retries of a failing build.
        raise self.retry(countdown=settings.REPORT_STALE_SECONDS, max_retries=100)
    return f"{run.pk}:{outcome}"


@shared_task(acks_late=True)
def enqueue_reports(kind: str, period: str | None = None) -> int:
    """Beat's entry point: one ``build_report`` per county and centre hall for the period that
    has just ended (or ``period``)."""
    label = (
        reports.parse_period(kind, period) if period else reports.period_just_ended(kind)
    ).label
    hall_ids = list(reports.report_halls().values_list("pk", flat=True))
    for hall_id in hall_ids:
        build_report.delay(kind, label, hall_id)
    return len(hall_ids)
