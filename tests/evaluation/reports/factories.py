"""Objects of the report and joint-meeting admins for the scope matrix
(``tests/network/test_admin_scope.py``, through ``factories.admin_scope_object``)."""

from __future__ import annotations

import itertools
from datetime import date

_serial = itertools.count(1)


def admin_scope_object(model, halls):
    from evaluation.reports.models import JointMeeting, MeetingDecision, ReportRun

    if model is ReportRun:
        return ReportRun.objects.create(
            kind=ReportRun.Kind.ANNUAL, period=str(2000 + next(_serial)), hall=halls.main
        )
    if model is JointMeeting:
        meeting = JointMeeting.objects.create(
            hall=halls.main,
            quarter="2026Q3",
            held_on=date(2026, 10, 12),
            attendees="张馆长",
            agenda=f"三季度联席会议{next(_serial)}",
        )
        MeetingDecision.objects.create(
            meeting=meeting,
            decision="补齐专职人员",
            owner="李站长",
            owner_hall=halls.branch,
            due_on=date(2026, 12, 31),
        )
        return meeting
    return None
