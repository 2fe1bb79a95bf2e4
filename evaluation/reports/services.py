"""Writes of the quarterly and annual reports and of the joint meetings, and the Celery tasks
that build the reports (beside the service they run).

A build acknowledges its message only when it ends, and a message whose worker died goes back
on the queue; the run's row (``report_run_claim``) makes the second delivery finish the report
instead of building a duplicate.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from common.jobs import ClaimLost, worker_name
from network.models import Hall
from network.selectors import user_scope

from . import documents
from .models import JointMeeting, MeetingDecision, ReportRun

# --- Quarterly and annual report runs ---------------------------------------------------------
# One row per (kind, period, hall) holds a run, claimed, beating and finished as a
# ``common.jobs.FileJob``: a worker killed halfway leaves a run the next attempt takes over, and
# two workers never both finish it.


def report_run_claim(
    *,
    kind: str,
    period: str,
    hall: Hall,
    worker: str,
    force: bool = False,
    now: datetime | None = None,
) -> tuple[ReportRun, bool]:
    """The run's row (created when missing) and whether ``worker`` now holds it. A finished
    run is returned as it is unless ``force``; a running one only when its heartbeat is older
    than ``REPORT_STALE_SECONDS``."""
    run, _created = ReportRun.objects.get_or_create(kind=kind, period=period, hall=hall)
    claimed = run.claim(
        worker=worker,
        stale_after=timedelta(seconds=settings.REPORT_STALE_SECONDS),
        force=force,
        now=now,
    )
    return run, claimed


def report_run_finish(*, run: ReportRun, worker: str, content: bytes, data: dict) -> bool:
    """Store the file and mark the run done, only while ``worker`` still holds it."""
    stem = f"{run.hall.code or run.hall_id}-{run.period}-{run.kind}.xlsx"
    if not run.finish(worker=worker, name=stem, content=ContentFile(content), data=data):
        return False
    if run.kind == ReportRun.Kind.QUARTERLY:
        # A meeting recorded before its quarter's report was ready gets linked now.
        JointMeeting.objects.filter(
            hall_id=run.hall_id, quarter=run.period, report__isnull=True
        ).update(report=run)
    return True


@transaction.atomic
def report_run_start(
    *, kind: str, period: str, hall: Hall, by, now: datetime | None = None
) -> ReportRun:
    """Staff ask for one report from the admin: the run's row (made pending when missing) and,
    unless it is finished, a ``build_report`` queued once the row is committed. The page that
    follows reads the row's status and progress."""
    parsed = documents.parse_period(kind, period)
    documents.check_period_ended(parsed, now)
    documents.check_report_hall(hall)
    scope = user_scope(by)
    if scope.read_only or not scope.covers(hall):
        raise ValidationError({"hall": _("只能为本馆及下属的总馆、中心馆生成报告。")})
    run, _created = ReportRun.objects.get_or_create(kind=kind, period=parsed.label, hall=hall)
    if run.status != ReportRun.Status.DONE or run.built_before(parsed.end):
        # robust: a broker that is down must not turn the page into an error; the run stays
        # pending and 重新生成 (or the next scheduled run) queues it again.
        transaction.on_commit(lambda: build_report.delay(kind, parsed.label, hall.pk), robust=True)
    return run


def report_run_build(
    *,
    kind: str,
    period: str,
    hall_id: int,
    worker: str,
    force: bool = False,
    now: datetime | None = None,
) -> tuple[ReportRun, str]:
    """Claim, build and finish one report. Returns the run and what happened: ``built``;
    ``done`` (finished earlier, left alone); ``busy`` (another worker is building it);
    ``lost`` (taken over while building). A failure marks the run failed and is raised again
    for the caller's retry."""
    parsed = documents.parse_period(kind, period)
    documents.check_period_ended(parsed, now)
    try:
        hall = Hall.objects.get(pk=hall_id)
    except Hall.DoesNotExist:
        raise ValidationError({"hall": _("没有编号为 %(id)s 的馆。") % {"id": hall_id}}) from None
    documents.check_report_hall(hall)
    existing = ReportRun.objects.filter(kind=kind, period=parsed.label, hall=hall).first()
    early = existing is not None and existing.built_before(parsed.end)
    run, claimed = report_run_claim(
        kind=kind, period=parsed.label, hall=hall, worker=worker, force=force or early
    )
    if not claimed:
        return run, "done" if run.status == ReportRun.Status.DONE else "busy"
    try:
        data = documents.report_data(
            kind,
            hall,
            parsed,
            beat=lambda done, total: run.beat(worker=worker, progress=done, total=total),
        )
        buffer = io.BytesIO()
        documents.write_report_xlsx(data, buffer)
        finished = report_run_finish(run=run, worker=worker, content=buffer.getvalue(), data=data)
    except ClaimLost:
        finished = False
    except Exception as exc:
        run.fail(worker=worker, error=f"{type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run, "built" if finished else "lost"


# --- Joint meetings -----------------------------------------------------------------------------


def joint_meeting_check(*, meeting: JointMeeting, by) -> None:
    """A meeting is called by a county main hall or a city centre hall in ``by``'s scope, for a
    quarter written as 2026Q3, and links (if any) a quarterly report of that same hall."""
    errors = {}
    try:
        meeting.quarter = documents.parse_period(ReportRun.Kind.QUARTERLY, meeting.quarter).label
    except ValidationError:
        errors["quarter"] = _("季度应写作“2026Q3”(年份加 Q1–Q4)。")
    hall = meeting.hall
    if hall.kind not in documents.REPORT_HALL_KINDS:
        errors["hall"] = _("联席会议由总馆或中心馆召集。")
    elif by is not None:
        scope = user_scope(by)
        if scope.read_only or not scope.covers(hall):
            errors["hall"] = _("只能记录本馆及下属馆的会议。")
    report = meeting.report if meeting.report_id else None
    if report is not None and (report.kind, report.hall_id) != (
        ReportRun.Kind.QUARTERLY,
        hall.pk,
    ):
        errors["report"] = _("请选择召集馆本馆的季度报告。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def joint_meeting_save(*, meeting: JointMeeting, by) -> JointMeeting:
    """Save a joint meeting; with no report picked it is linked to its hall's report of the
    quarter when that exists."""
    joint_meeting_check(meeting=meeting, by=by)
    if meeting.report_id is None:
        meeting.report = ReportRun.objects.filter(
            kind=ReportRun.Kind.QUARTERLY, period=meeting.quarter, hall=meeting.hall
        ).first()
    if meeting.pk is None and by is not None:
        meeting.created_by = by
    meeting.save()
    return meeting


@transaction.atomic
def meeting_decisions_save(
    *, meeting: JointMeeting, changed: list[MeetingDecision], deleted: list[MeetingDecision]
) -> None:
    """Write the decisions of a saved meeting: the new and changed ones, and those removed."""
    for decision in deleted:
        if decision.meeting_id == meeting.pk:
            decision.delete()
    for decision in changed:
        decision.meeting = meeting
        decision.save()


# --- Tasks -----------------------------------------------------------------------------------------


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
    run, outcome = report_run_build(
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
    parsed = documents.parse_period(kind, period) if period else documents.period_just_ended(kind)
    documents.check_period_ended(parsed)
    label = parsed.label
    hall_ids = list(documents.report_halls().values_list("pk", flat=True))
    for hall_id in hall_ids:
        build_report.delay(kind, label, hall_id)
    return len(hall_ids)
