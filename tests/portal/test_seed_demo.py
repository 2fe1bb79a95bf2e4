"""``seed_demo`` builds the Kunming demo; a second run changes nothing and prints the same."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import F
from openpyxl import load_workbook

from activities import services as activity_services
from activities.models import Activity, Booking
from activities.orders.models import Order
from evaluation.scoring.models import AssessmentScheme, Score
from network.management.commands.check_tree import find_damage
from network.models import Hall, HallStatus

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> tuple:
    return (
        Hall.objects.count(),
        sorted(Booking.objects.values_list("code", "phone", "status")),
        sorted(Order.objects.values_list("code", "status")),
        Activity.objects.count(),
    )


def test_seed_demo_runs_twice_to_the_same_result(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = seed()
    before = snapshot()

    assert seed() == first
    assert snapshot() == before
    assert find_damage() == []
    assert "共 1838 个馆" in first
    assert f"演示活动:{before[3]} 场" in first
    # The booking it prints can be looked up by a resident, with the code it prints.
    code, phone = re.search(r"预约码 (\w+),手机号码 (\d+)", first).groups()
    assert activity_services.booking_lookup(code=code, phone=phone) is not None


def test_the_demo_assessment_grades_no_unscored_hall_and_ranks_no_planned_one(settings, tmp_path):
    """Issue 11: an unassessed hall is not a failed one, and a planned hall is not ranked."""
    settings.MEDIA_ROOT = tmp_path
    seed()
    scheme = AssessmentScheme.objects.get()
    output = tmp_path / "assessment.xlsx"
    call_command("export_assessment", year=scheme.year, output=str(output), stdout=io.StringIO())
    wb = load_workbook(output, read_only=True)
    scored = set(Score.objects.filter(scheme=scheme).values_list("hall_id", flat=True))
    # A hall by its name and its parent's (many demo halls have no code yet).
    halls = {
        (h.name, h.parent_name or None): h
        for h in Hall.objects.annotate(parent_name=F("parent__name"))
    }
    assert len(halls) == Hall.objects.count()
    seen = {"assessed": 0, "unassessed": 0, "planned": 0}

    def check(key, total, grade, rank):
        hall = halls[key]
        if hall.status == HallStatus.PLANNED:
            assert (total, grade, rank) == ("待建", None, None), hall.name
            seen["planned"] += 1
        elif hall.pk not in scored:
            assert (total, grade, rank) == ("未考核", None, None), hall.name
            seen["unassessed"] += 1
        else:
            assert isinstance(total, float | int) and grade and isinstance(rank, int), hall.name
            seen["assessed"] += 1

    summary = wb["汇总"]
    header = [c.value for c in next(summary.iter_rows(min_row=3, max_row=3))]
    at = header.index("总分")
    for row in summary.iter_rows(min_row=4, values_only=True):
        check((row[2], row[3]), *row[at : at + 3])
    for ws in wb.worksheets[1:]:
        header = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
        at = header.index("总分")
        for row in ws.iter_rows(min_row=3, values_only=True):
            check((row[2], row[4]), *row[at : at + 3])
    # The demo has all three kinds of hall, so each rule above was tried.
    assert all(seen.values()), seen
