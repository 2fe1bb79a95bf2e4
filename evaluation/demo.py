"""A year of figures and scores for the Kunming demo: last year's reports of every hall of 官渡
and 五华 submitted (most on time, a few approved), a scheme with scores, and survey answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from network.models import Hall, HallStatus

from .returns import services as returns
from .returns.models import AssetReturn, ReturnKind, ReturnWindow, ServiceReturn
from .scoring import services as scoring
from .scoring.models import AssessmentScheme


@transaction.atomic
def seed_figures(centre: Hall) -> int:
    year = timezone.localdate().year - 1
    if AssessmentScheme.objects.filter(year=year).exists():
        return ServiceReturn.objects.filter(year=year).count()
    tz = timezone.get_current_timezone()
    for kind in ReturnKind.values:
        returns.return_window_save(
            window=ReturnWindow.objects.filter(year=year, kind=kind).first(),
            year=year,
            kind=kind,
            opens_at=datetime(year, 12, 1, tzinfo=tz),
            deadline=datetime(year + 1, 1, 31, 18, tzinfo=tz),
        )
    deadline = datetime(year + 1, 1, 31, 18, tzinfo=tz)
    counties = Hall.objects.filter(
        tree_id=centre.tree_id, name__in=["官渡区文化馆", "五华区文化馆"]
    )
    halls = list(
        Hall.objects.filter(
            tree_id=centre.tree_id, main_hall__in=counties, status=HallStatus.OPEN
        ).order_by("lft")
    )
    n = 0
    for i, hall in enumerate(halls):
        if i % 9 == 8:
            continue  # some halls have not reported: completeness shows it
        on_time = i % 7 != 6
        submitted_at = deadline - timedelta(days=3) if on_time else deadline + timedelta(days=4)
        status = "approved" if i % 3 == 0 else "submitted"
        service = returns.return_get_or_create(kind=ReturnKind.SERVICE, hall=hall, year=year)
        ServiceReturn.objects.filter(pk=service.pk).update(
            status=status, submitted_at=submitted_at, activities=12 + i % 30,
            performances=3 + i % 5, trainings=2 + i % 4, trainees=40 + i % 60,
            participants=600 + 37 * (i % 40), opening_hours_weekly=Decimal(42 + i % 20),
            teams=2 + i % 6, volunteers=5 + i % 25,
        )  # fmt: skip
        asset = returns.return_get_or_create(kind=ReturnKind.ASSET, hall=hall, year=year)
        AssetReturn.objects.filter(pk=asset.pk).update(
            status=status, submitted_at=submitted_at, floor_area=Decimal(120 + 15 * (i % 30)),
            equipment_count=10 + i % 40, equipment_value=Decimal(3 + i % 12),
            funding=Decimal(2 + i % 8), staff=1 + i % 4, public_welfare_posts=1,
        )  # fmt: skip
        n += 1
    scheme = scoring.scheme_create(year=year)
    User = get_user_model()
    scorer = User.objects.get(username="centre_director")
    dimensions = [d for d in scheme.dimensions.all() if d.source == "scored"]
    branches = [h for h in halls if h.kind in ("main", "branch")]
    for i, hall in enumerate(branches):
        for j, dim in enumerate(dimensions):
            points = dim.max_points - Decimal((i + j) % 4)
            scoring.score_set(
                dimension=dim, hall=hall, points=max(points, Decimal(0)), comment="", by=scorer
            )
    return n
