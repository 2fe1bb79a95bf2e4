"""Writes for yearly figures, scores, inspections and the satisfaction survey.

The rules of the seeds live here, not in the views: only staff of an ancestor hall approve a
hall's figures or score it; a report locks at its deadline until the parent reopens it; every
change is kept with who and when.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import mobile_validator
from network.models import Hall
from network.selectors import subtree_q, user_scope

from . import reports
from .models import (
    AssessmentScheme,
    AssetReport,
    Dimension,
    FigureChange,
    Inspection,
    JointMeeting,
    ReportingWindow,
    ReportKind,
    ReportRun,
    ReportStatus,
    SatisfactionResponse,
    Score,
    ScoreChange,
    ServiceReport,
)
from .selectors import portal_figures

REPORT_MODELS = {ReportKind.SERVICE: ServiceReport, ReportKind.ASSET: AssetReport}


def _require_own_scope(user, hall: Hall) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers(hall):
        raise PermissionDenied(_("只能填报本馆及下属馆的数据。"))


def _require_ancestor(user, hall: Hall) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers_strictly(hall):
        raise PermissionDenied(_("只有上级馆的工作人员可以进行这一步。"))


def _fresh_hall(hall: Hall) -> Hall:
    return Hall.objects.get(pk=hall.pk)


def _log(report, kind: str, field: str, old, new, by) -> FigureChange:
    return FigureChange(
        kind=kind,
        report_id=report.pk,
        hall_id=report.hall_id,
        year=report.year,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        by=by,
    )


# --- Yearly reports -------------------------------------------------------------------------------


def reports_follow_moved_hall(*, hall: Hall, **_signal) -> None:
    """Report rows carry copies of their hall's ancestors; a moved subtree takes them along."""
    halls = Hall.objects.filter(subtree_q(hall))
    for model in REPORT_MODELS.values():
        model.objects.filter(hall__in=halls).update(
            tree_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("tree_id")[:1]),
            main_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("main_hall_id")[:1]),
            branch_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("branch_hall_id")[:1]),
        )


def report_window(kind: str, year: int) -> ReportingWindow | None:
    return ReportingWindow.objects.filter(kind=kind, year=year).first()


def report_is_open(report, *, kind: str, now: datetime | None = None) -> bool:
    """Open for entry: inside the window, or reopened by the parent until a later moment."""
    now = now or timezone.now()
    if report.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
        return False
    if report.reopened_until and now < report.reopened_until:
        return True
    window = report_window(kind, report.year)
    if window is None:
        return False
    return window.opens_at <= now < window.deadline


@transaction.atomic
def report_get_or_create(*, kind: str, hall: Hall, year: int):
    model = REPORT_MODELS[kind]
    report, created = model.objects.get_or_create(hall=hall, year=year)
    if created:
        _autofill(report, kind=kind, by=None)
    return report


def _autofill(report, *, kind: str, by) -> list[str]:
    if not report.AUTOFILLED:
        return []
    figures = portal_figures(hall_id=report.hall_id, year=report.year)
    changes, changed = [], []
    for name in report.AUTOFILLED:
        old, new = getattr(report, name), figures[name]
        if old != new:
            setattr(report, name, new)
            changed.append(name)
            changes.append(_log(report, kind, name, old, new, by))
    if changed:
        report.save(update_fields=[*changed, "updated_at"])
        FigureChange.objects.bulk_create(changes)
    return changed


@transaction.atomic
def report_refresh_autofilled(*, kind: str, report, by) -> list[str]:
    """Refill the figures the portal knows (activities, check-ins, orders) from its records."""
    report = type(report).objects.select_for_update().select_related("hall").get(pk=report.pk)
    _require_own_scope(by, report.hall)
    if not report_is_open(report, kind=kind):
        raise ValidationError(_("报表已锁定,不能再修改。"))
    return _autofill(report, kind=kind, by=by)


def _parse(model, name: str, raw):
    field = model._meta.get_field(name)
    try:
        value = field.to_python(raw)
    except ValidationError:
        raise ValidationError({name: _("请填写数字。")}) from None
    if value is None:
        raise ValidationError({name: _("请填写数字,没有就填 0。")})
    try:
        field.run_validators(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
    if isinstance(value, Decimal):
        try:
            field.clean(value, None)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None
    return value


@transaction.atomic
def report_update(*, kind: str, report, by, values: dict, now: datetime | None = None):
    """Enter figures; entered (not auto-filled) fields only, while the report is open."""
    model = REPORT_MODELS[kind]
    report = model.objects.select_for_update().select_related("hall").get(pk=report.pk)
    _require_own_scope(by, report.hall)
    if not report_is_open(report, kind=kind, now=now):
        raise ValidationError(_("报表已过截止时间或已报送,已锁定;如需修改请联系上级馆重新开放。"))
    errors: dict = {}
    parsed = {}
    for name, raw in values.items():
        if name not in model.FIGURES:
            errors[name] = _("没有这个统计项目。")
            continue
        if name in model.AUTOFILLED:
            errors[name] = _("该项目由平台根据活动、签到和点单记录自动统计,不能手工填写。")
            continue
        try:
            parsed[name] = _parse(model, name, raw)
        except (ValidationError, InvalidOperation) as exc:
            errors.update(getattr(exc, "message_dict", {name: [_("请填写数字。")]}))
    if errors:
        raise ValidationError(errors)
    changes = []
    for name, value in parsed.items():
        old = getattr(report, name)
        if old != value:
            setattr(report, name, value)
            changes.append(_log(report, kind, name, old, value, by))
    if changes:
        report.save(update_fields=[c.field for c in changes] + ["updated_at"])
        FigureChange.objects.bulk_create(changes)
    return report


@transaction.atomic
def report_submit(*, kind: str, report, by, now: datetime | None = None):
    now = now or timezone.now()
    model = REPORT_MODELS[kind]
    report = model.objects.select_for_update().select_related("hall").get(pk=report.pk)
    _require_own_scope(by, report.hall)
    if not report_is_open(report, kind=kind, now=now):
        raise ValidationError(_("报表已过截止时间或已报送,不能再报送;如需修改请联系上级馆。"))
    old = report.status
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = now
    report.submitted_by = by
    report.reopened_until = None
    report.save(
        update_fields=["status", "submitted_at", "submitted_by", "reopened_until", "updated_at"]
    )
    _log(report, kind, "status", old, report.status, by).save()
    return report


@transaction.atomic
def report_review(*, kind: str, report, by, approve: bool, comment: str = "", now=None):
    """The parent hall approves a submitted report, or sends it back with a comment."""
    now = now or timezone.now()
    model = REPORT_MODELS[kind]
    report = model.objects.select_for_update().select_related("hall").get(pk=report.pk)
    _require_ancestor(by, report.hall)
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError(_("只有已报送的报表可以审核。"))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("退回时请写明原因,填报人会看到它。")})
    old = report.status
    report.status = ReportStatus.APPROVED if approve else ReportStatus.RETURNED
    report.reviewed_at = now
    report.reviewed_by = by
    report.review_comment = comment[:500]
    if not approve:
        # A returned report can be corrected for a week even after the deadline.
        report.reopened_until = now + settings.REPORT_RETURN_GRACE
    report.save(
        update_fields=[
            "status", "reviewed_at", "reviewed_by", "review_comment", "reopened_until", "updated_at",
        ]
    )  # fmt: skip
    _log(report, kind, "status", old, report.status, by).save()
    return report


@transaction.atomic
def report_reopen(*, kind: str, report, by, until: datetime, now: datetime | None = None):
    """The parent hall reopens a locked report for corrections until ``until``."""
    now = now or timezone.now()
    model = REPORT_MODELS[kind]
    report = model.objects.select_for_update().select_related("hall").get(pk=report.pk)
    _require_ancestor(by, report.hall)
    if until <= now:
        raise ValidationError({"until": _("重新开放的截止时间必须晚于现在。")})
    old = report.status
    report.status = ReportStatus.DRAFT if old != ReportStatus.RETURNED else old
    report.reopened_until = until
    report.save(update_fields=["status", "reopened_until", "updated_at"])
    _log(report, kind, "reopened_until", None, until.isoformat(), by).save()
    if old != report.status:
        _log(report, kind, "status", old, report.status, by).save()
    return report


# --- Assessment -----------------------------------------------------------------------------------

DIMENSIONS_FILE = Path(settings.BASE_DIR) / "fixtures" / "assessment_dimensions.csv"


@transaction.atomic
def scheme_create(*, year: int, name: str | None = None) -> AssessmentScheme:
    """A year's scheme with the 13 dimensions of the second seed (fixtures/)."""
    if AssessmentScheme.objects.filter(year=year).exists():
        raise ValidationError({"year": _("%(year)d 年的考核方案已存在。") % {"year": year}})
    scheme = AssessmentScheme.objects.create(
        year=year, name=name or _("%(year)d 年度文化馆总分馆制绩效考核") % {"year": year}
    )
    with open(DIMENSIONS_FILE, encoding="utf-8") as f:
        Dimension.objects.bulk_create(
            Dimension(
                scheme=scheme,
                order=int(row["order"]),
                code=row["code"],
                name=row["name"],
                weight=Decimal(row["weight"]),
                max_points=Decimal(row["max_points"]),
                source=row["source"],
                criteria=row["criteria"],
            )
            for row in csv.DictReader(f)
        )
    return scheme


@transaction.atomic
def score_set(*, dimension: Dimension, hall: Hall, points, comment: str = "", by) -> Score:
    hall = _fresh_hall(hall)
    _require_ancestor(by, hall)
    if dimension.source != Dimension.Source.SCORED:
        raise ValidationError({"dimension": _("满意度由群众测评得出,不能手工评分。")})
    try:
        points = Decimal(str(points))
    except (InvalidOperation, ValueError):
        raise ValidationError({"points": _("请填写数字。")}) from None
    if not Decimal(0) <= points <= dimension.max_points:
        raise ValidationError(
            {"points": _("得分须在 0 到 %(max)s 之间。") % {"max": dimension.max_points}}
        )
    score = (
        Score.objects.select_for_update()
        .filter(scheme_id=dimension.scheme_id, hall=hall, dimension=dimension)
        .first()
    )
    old = score.points if score else None
    if score is None:
        score = Score(scheme_id=dimension.scheme_id, hall=hall, dimension=dimension)
    score.points = points
    score.comment = (comment or "").strip()[:500]
    score.scored_by = by
    score.save()
    ScoreChange.objects.create(
        score=score, old_points=old, new_points=points, comment=score.comment, by=by
    )
    return score


@transaction.atomic
def inspection_record(
    *,
    hall: Hall,
    inspector_hall: Hall,
    inspected_on,
    findings: str,
    dimension: Dimension,
    deduction=0,
    fix_by,
    by,
) -> Inspection:
    hall, inspector_hall = _fresh_hall(hall), _fresh_hall(inspector_hall)
    scope = user_scope(by)
    if scope.read_only or not scope.covers(inspector_hall):
        raise PermissionDenied(_("只能以本馆名义记录检查。"))
    if not (
        inspector_hall.tree_id == hall.tree_id
        and inspector_hall.lft < hall.lft
        and hall.rght < inspector_hall.rght
    ):
        raise ValidationError({"hall": _("只能检查本馆下属的馆。")})
    if not (findings or "").strip():
        raise ValidationError({"findings": _("请写明发现的问题。")})
    if fix_by < inspected_on:
        raise ValidationError({"fix_by": _("整改期限不能早于检查日期。")})
    # assessment_results counts a deduction in the scheme of the year the visit took place.
    if dimension.scheme.year != inspected_on.year:
        raise ValidationError({"dimension": _("请选择检查当年考核方案中的维度。")})
    try:
        deduction = Decimal(str(deduction))
    except InvalidOperation:
        raise ValidationError({"deduction": _("请填写数字。")}) from None
    if not Decimal(0) <= deduction <= dimension.max_points:
        raise ValidationError(
            {"deduction": _("扣分须在 0 到 %(max)s 之间。") % {"max": dimension.max_points}}
        )
    return Inspection.objects.create(
        hall=hall,
        inspector_hall=inspector_hall,
        inspected_on=inspected_on,
        findings=findings.strip(),
        dimension=dimension,
        deduction=deduction,
        fix_by=fix_by,
        recorded_by=by,
    )


@transaction.atomic
def inspection_mark_fixed(*, inspection: Inspection, fixed_on, by) -> Inspection:
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    scope = user_scope(by)
    if scope.read_only or not scope.covers(_fresh_hall(inspection.inspector_hall)):
        raise PermissionDenied(_("只有检查馆可以确认整改。"))
    if fixed_on < inspection.inspected_on:
        raise ValidationError({"fixed_on": _("整改完成日期不能早于检查日期。")})
    inspection.fixed_on = fixed_on
    inspection.save(update_fields=["fixed_on"])
    return inspection


def quarter_of(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def satisfaction_submit(
    *, hall_id, phone: str, rating, comment: str = "", now: datetime | None = None
) -> SatisfactionResponse:
    """A resident rates a hall; one answer per phone per hall per quarter."""
    now = now or timezone.now()
    errors: dict = {}
    hall = None
    try:
        hall = Hall.objects.filter(pk=int(hall_id)).first()
    except (TypeError, ValueError):
        pass
    if hall is None:
        errors["hall"] = _("没有这个馆。")
    phone = (phone or "").strip()
    try:
        mobile_validator(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    try:
        rating = int(rating)
        if not 1 <= rating <= 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["rating"] = _("请选择 1 到 5 分。")
    comment = (comment or "").strip()
    if len(comment) > 500:
        errors["comment"] = _("意见建议最多 500 字。")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return SatisfactionResponse.objects.create(
                hall=hall, phone=phone, quarter=quarter_of(now), rating=rating, comment=comment
            )
    except IntegrityError:
        raise ValidationError(
            {"phone": _("这个手机号码本季度已经评价过这个馆了,下个季度再来吧。")}
        ) from None


# --- Quarterly and annual report runs ---------------------------------------------------------
# One row per (kind, period, hall) holds a run. A worker claims it with one conditional UPDATE,
# beats while it builds, and finishes it only while the claim is still its own, so a worker
# killed halfway leaves a run the next attempt takes over, and two workers never both finish it.


class ReportClaimLost(Exception):
    """Another worker took the run over (this one was too slow to beat)."""


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
    now = now or timezone.now()
    run, _created = ReportRun.objects.get_or_create(kind=kind, period=period, hall=hall)
    stale = now - timedelta(seconds=settings.REPORT_STALE_SECONDS)
    claimable = Q(status__in=[ReportRun.Status.PENDING, ReportRun.Status.FAILED]) | Q(
        status=ReportRun.Status.RUNNING, heartbeat_at__lt=stale
    )
    if force:
        claimable |= Q(status=ReportRun.Status.DONE)
    claimed = ReportRun.objects.filter(claimable, pk=run.pk).update(
        status=ReportRun.Status.RUNNING,
        attempts=F("attempts") + 1,
        claimed_by=worker,
        heartbeat_at=now,
        started_at=now,
        error="",
    )
    run.refresh_from_db()
    return run, bool(claimed)


def report_run_heartbeat(*, run: ReportRun, worker: str) -> None:
    beat = ReportRun.objects.filter(
        pk=run.pk, status=ReportRun.Status.RUNNING, claimed_by=worker
    ).update(heartbeat_at=timezone.now())
    if not beat:
        raise ReportClaimLost(run.pk)


def report_run_finish(*, run: ReportRun, worker: str, content: bytes, data: dict) -> bool:
    """Store the file, then mark the run done in one conditional update, only while ``worker``
    still holds it; otherwise the file is removed again and nothing changes."""
    storage = run.file.storage
    stem = f"{run.hall.code or run.hall_id}-{run.period}-{run.kind}.xlsx"
    name = storage.save(run.file.field.generate_filename(run, stem), ContentFile(content))
    old = ReportRun.objects.filter(pk=run.pk).values_list("file", flat=True).first()
    now = timezone.now()
    done = ReportRun.objects.filter(
        pk=run.pk, status=ReportRun.Status.RUNNING, claimed_by=worker
    ).update(status=ReportRun.Status.DONE, file=name, data=data, finished_at=now, heartbeat_at=now)
    if not done:
        storage.delete(name)
        return False
    if old and old != name:
        # A forced rebuild replaces the earlier file.
        storage.delete(old)
    if run.kind == ReportRun.Kind.QUARTERLY:
        # A meeting recorded before its quarter's report was ready gets linked now.
        JointMeeting.objects.filter(
            hall_id=run.hall_id, quarter=run.period, report__isnull=True
        ).update(report=run)
    return True


def report_run_fail(*, run: ReportRun, worker: str, error: str) -> bool:
    return bool(
        ReportRun.objects.filter(
            pk=run.pk, status=ReportRun.Status.RUNNING, claimed_by=worker
        ).update(status=ReportRun.Status.FAILED, error=error[:4000], heartbeat_at=timezone.now())
    )


def report_run_build(
    *, kind: str, period: str, hall_id: int, worker: str, force: bool = False
) -> tuple[ReportRun, str]:
    """Claim, build and finish one report. Returns the run and what happened: ``built``;
    ``done`` (finished earlier, left alone); ``busy`` (another worker is building it);
    ``lost`` (taken over while building). A failure marks the run failed and is raised again
    for the caller's retry."""
    parsed = reports.parse_period(kind, period)
    try:
        hall = Hall.objects.get(pk=hall_id)
    except Hall.DoesNotExist:
        raise ValidationError({"hall": _("没有编号为 %(id)s 的馆。") % {"id": hall_id}}) from None
    reports.check_report_hall(hall)
    run, claimed = report_run_claim(
        kind=kind, period=parsed.label, hall=hall, worker=worker, force=force
    )
    if not claimed:
        return run, "done" if run.status == ReportRun.Status.DONE else "busy"
    try:
        data = reports.report_data(
            kind, hall, parsed, beat=lambda: report_run_heartbeat(run=run, worker=worker)
        )
        buffer = io.BytesIO()
        reports.write_report_xlsx(data, buffer)
        finished = report_run_finish(run=run, worker=worker, content=buffer.getvalue(), data=data)
    except ReportClaimLost:
        finished = False
    except Exception as exc:
        report_run_fail(run=run, worker=worker, error=f"{type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run, "built" if finished else "lost"


# --- Joint meetings -----------------------------------------------------------------------------


def joint_meeting_check(*, meeting: JointMeeting, by) -> None:
    """A meeting is called by a county main hall or a city centre hall in ``by``'s scope, for a
    quarter written as 2026Q3, and links (if any) a quarterly report of that same hall."""
    errors = {}
    try:
        meeting.quarter = reports.parse_period(ReportRun.Kind.QUARTERLY, meeting.quarter).label
    except ValidationError:
        errors["quarter"] = _("季度应写作“2026Q3”(年份加 Q1–Q4)。")
    hall = meeting.hall
    if hall.kind not in reports.REPORT_HALL_KINDS:
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
