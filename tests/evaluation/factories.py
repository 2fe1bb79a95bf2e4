from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from evaluation.returns.models import ReturnKind, ReturnWindow

YEAR = 2026


def open_window(kind=ReturnKind.SERVICE, year=YEAR, *, days_left=30) -> ReturnWindow:
    now = timezone.now()
    return ReturnWindow.objects.create(
        kind=kind,
        year=year,
        opens_at=now - timedelta(days=10),
        deadline=now + timedelta(days=days_left),
    )


def closed_window(kind=ReturnKind.SERVICE, year=YEAR) -> ReturnWindow:
    tz = timezone.get_current_timezone()
    return ReturnWindow.objects.create(
        kind=kind,
        year=year,
        opens_at=datetime(year + 1, 1, 1, tzinfo=tz) - timedelta(days=400),
        deadline=timezone.now() - timedelta(days=1),
    )


def scheme_for(year=YEAR):
    from evaluation.scoring import services as scoring
    from evaluation.scoring.models import AssessmentScheme

    return AssessmentScheme.objects.filter(year=year).first() or scoring.scheme_create(year=year)


def admin_scope_object(model, halls):
    """An export run of ``halls`` (for tests/network/test_admin_scope.py): started by an
    account of those halls, so outside the tester's own runs and scope."""
    from evaluation.models import ExportRun
    from network.models import Role
    from network.services import staff_member_add

    if model is ExportRun:
        someone = staff_member_add(
            username=f"exporter{ExportRun.objects.count() + 1}", hall=halls.main, role=Role.STAFF
        )
        return ExportRun.objects.create(
            kind="statistics", year=YEAR, within=halls.main, user=someone.user
        )
    return None
