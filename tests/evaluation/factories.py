from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from evaluation.models import ReportingWindow, ReportKind

YEAR = 2026


def open_window(kind=ReportKind.SERVICE, year=YEAR, *, days_left=30) -> ReportingWindow:
    now = timezone.now()
    return ReportingWindow.objects.create(
        kind=kind,
        year=year,
        opens_at=now - timedelta(days=10),
        deadline=now + timedelta(days=days_left),
    )


def closed_window(kind=ReportKind.SERVICE, year=YEAR) -> ReportingWindow:
    tz = timezone.get_current_timezone()
    return ReportingWindow.objects.create(
        kind=kind,
        year=year,
        opens_at=datetime(year + 1, 1, 1, tzinfo=tz) - timedelta(days=400),
        deadline=timezone.now() - timedelta(days=1),
    )
