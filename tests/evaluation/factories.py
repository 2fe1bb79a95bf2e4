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


def scheme_for(year=YEAR):
    from evaluation.models import AssessmentScheme
    from evaluation.services import scheme_create

    return AssessmentScheme.objects.filter(year=year).first() or scheme_create(year=year)


def admin_scope_object(model, halls):
    """An object of ``model`` tied to ``halls`` (for tests/network/test_admin_scope.py)."""
    from datetime import date

    from django.contrib.auth import get_user_model

    from evaluation import services
    from evaluation.models import AssetReport, Dimension, Inspection, ServiceReport

    if model is ServiceReport:
        return services.report_get_or_create(kind=ReportKind.SERVICE, hall=halls.branch, year=YEAR)
    if model is AssetReport:
        return services.report_get_or_create(kind=ReportKind.ASSET, hall=halls.branch, year=YEAR)
    if model is Inspection:
        dimension = scheme_for().dimensions.filter(source=Dimension.Source.SCORED).first()
        return services.inspection_record(
            hall=halls.branch,
            inspector_hall=halls.main,
            inspected_on=date(YEAR, 5, 1),
            findings="服务时间未公示",
            dimension=dimension,
            deduction=1,
            fix_by=date(YEAR, 6, 1),
            by=get_user_model().objects.get(username="root"),
        )
    from .report_factories import report_scope_object

    return report_scope_object(model, halls)
