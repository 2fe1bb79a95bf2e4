"""The move of the models into returns, scoring and reports keeps every row.

Rows are written at the state before the move (the historical models of evaluation 0003), the
database is migrated forward, and the same rows are read through the new models. The test leaves
the database at the latest migrations.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from evaluation.reports.models import JointMeeting, MeetingDecision, ReportRun
from evaluation.returns.models import AssetReturn, FigureChange, ReturnWindow, ServiceReturn
from evaluation.scoring.models import (
    AssessmentScheme,
    Dimension,
    Inspection,
    SatisfactionResponse,
    Score,
    ScoreChange,
)

BEFORE = ("evaluation", "0003_report_ancestor_copies")
MOVED = {"evaluation", "returns", "scoring", "reports"}


def _targets(executor: MigrationExecutor, *, before: bool) -> list[tuple[str, str]]:
    leaves = executor.loader.graph.leaf_nodes()
    if not before:
        return leaves
    return [BEFORE] + [leaf for leaf in leaves if leaf[0] not in MOVED]


def _migrate(*, before: bool):
    executor = MigrationExecutor(connection)
    targets = _targets(executor, before=before)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_moving_the_models_keeps_every_row(cast):
    tz = timezone.get_current_timezone()
    user = cast.county_director
    hall = cast.branch
    old = _migrate(before=True)
    try:
        model = lambda name: old.get_model("evaluation", name)  # noqa: E731
        ct = ContentType.objects.get(app_label="evaluation", model="servicereport")
        assert Permission.objects.filter(content_type=ct, codename="change_servicereport").exists()
        window = model("ReportingWindow").objects.create(
            year=2026,
            kind="service",
            opens_at=datetime(2026, 12, 1, tzinfo=tz),
            deadline=datetime(2027, 1, 31, tzinfo=tz),
        )
        service = model("ServiceReport").objects.create(
            hall_id=hall.pk, year=2026, status="submitted", teams=7, tree_id=hall.tree_id
        )
        asset = model("AssetReport").objects.create(
            hall_id=hall.pk, year=2026, floor_area=Decimal("350.5"), tree_id=hall.tree_id
        )
        change = model("FigureChange").objects.create(
            kind="service", report_id=service.pk, hall_id=hall.pk, year=2026, field="teams",
            old_value="0", new_value="7", by_id=user.pk,
        )  # fmt: skip
        scheme = model("AssessmentScheme").objects.create(year=2026, name="2026 考核")
        dimension = model("Dimension").objects.create(
            scheme=scheme, order=1, code="service", name="服务", weight=10, max_points=10
        )
        score = model("Score").objects.create(
            scheme=scheme, dimension=dimension, hall_id=hall.pk, points=8, scored_by_id=user.pk
        )
        score_change = model("ScoreChange").objects.create(score=score, new_points=8)
        inspection = model("Inspection").objects.create(
            hall_id=hall.pk, inspector_hall_id=cast.county.pk, inspected_on=date(2026, 5, 1),
            findings="未公示", dimension=dimension, deduction=1, fix_by=date(2026, 6, 1),
        )  # fmt: skip
        answer = model("SatisfactionResponse").objects.create(
            hall_id=hall.pk, phone="13800000000", quarter="2026Q2", rating=5
        )
        run = model("ReportRun").objects.create(
            kind="quarterly", period="2026Q3", hall_id=cast.county.pk, status="done"
        )
        meeting = model("JointMeeting").objects.create(
            hall_id=cast.county.pk, quarter="2026Q3", held_on=date(2026, 10, 9),
            attendees="张馆长", agenda="三季度", report=run,
        )  # fmt: skip
        decision = model("MeetingDecision").objects.create(
            meeting=meeting, decision="补齐人员", owner="李站长", due_on=date(2026, 12, 31)
        )
    finally:
        _migrate(before=False)

    assert ReturnWindow.objects.get(pk=window.pk).deadline == datetime(2027, 1, 31, tzinfo=tz)
    moved = ServiceReturn.objects.get(pk=service.pk)
    assert (moved.hall_id, moved.status, moved.teams) == (hall.pk, "submitted", 7)
    assert AssetReturn.objects.get(pk=asset.pk).floor_area == Decimal("350.5")
    assert FigureChange.objects.get(pk=change.pk).return_id == service.pk
    assert AssessmentScheme.objects.get(pk=scheme.pk).dimensions.get().pk == dimension.pk
    assert Score.objects.get(pk=score.pk).dimension_id == dimension.pk
    assert ScoreChange.objects.get(pk=score_change.pk).score_id == score.pk
    assert Inspection.objects.get(pk=inspection.pk).inspector_hall_id == cast.county.pk
    assert SatisfactionResponse.objects.get(pk=answer.pk).rating == 5
    assert ReportRun.objects.get(pk=run.pk).status == "done"
    assert JointMeeting.objects.get(pk=meeting.pk).report_id == run.pk
    assert MeetingDecision.objects.get(pk=decision.pk).meeting_id == meeting.pk
    # New rows get fresh ids after the moved ones (the id sequences moved with the tables).
    assert ServiceReturn.objects.create(hall=cast.point, year=2026).pk > service.pk
    assert (
        Dimension.objects.create(
            scheme_id=scheme.pk, order=2, code="x", name="x", weight=1, max_points=1
        ).pk
        > dimension.pk
    )
    # The content types moved with the models, renamed ones included, permissions with them.
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(ServiceReturn).pk == ct.pk
    assert Permission.objects.filter(content_type=ct, codename="change_servicereturn").exists()
    assert not ContentType.objects.filter(app_label="evaluation", model="servicereport").exists()
