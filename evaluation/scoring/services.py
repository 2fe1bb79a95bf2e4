"""Writes of the assessment: schemes and their dimensions, scores, inspections and the
residents' satisfaction survey.

Only staff of an ancestor hall score a hall or inspect it; every score change is kept with who
and when.
"""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common import privacy
from common.validators import mobile_validator
from network.models import Hall
from network.selectors import user_scope

from .models import (
    AssessmentScheme,
    Dimension,
    Inspection,
    MissingRule,
    SatisfactionResponse,
    Score,
    ScoreChange,
)


def _require_ancestor(user, hall: Hall) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers_strictly(hall):
        raise PermissionDenied(_("只有上级馆的工作人员可以进行这一步。"))


def _fresh_hall(hall: Hall) -> Hall:
    return Hall.objects.get(pk=hall.pk)


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
def scheme_update(
    *,
    scheme: AssessmentScheme,
    name: str,
    excellent_from,
    good_from,
    pass_from,
    missing_rule: str | None = None,
    dimensions: dict[int, dict] | None = None,
) -> AssessmentScheme:
    """Rename a scheme, move its grade thresholds, choose how a 缺项 counts (``missing_rule``;
    unchanged when ``None``), and change its dimensions' weight, points and criteria
    (``dimensions``: dimension id → those fields), all or nothing."""
    if not excellent_from > good_from > pass_from >= 0:
        raise ValidationError(_("分数线须满足:优秀 > 良好 > 合格 ≥ 0。"))
    scheme = AssessmentScheme.objects.select_for_update().get(pk=scheme.pk)
    scheme.name = name
    scheme.excellent_from, scheme.good_from, scheme.pass_from = excellent_from, good_from, pass_from
    if missing_rule is not None:
        if missing_rule not in MissingRule.values:
            raise ValidationError(_("没有这种缺项计分规则。"))
        scheme.missing_rule = missing_rule
    scheme.save(update_fields=["name", "excellent_from", "good_from", "pass_from", "missing_rule"])
    editable = {"weight", "max_points", "criteria"}
    for dimension in scheme.dimensions.filter(pk__in=list(dimensions or {})):
        changes = {k: v for k, v in dimensions[dimension.pk].items() if k in editable}
        for field, value in changes.items():
            setattr(dimension, field, value)
        if changes:
            dimension.save(update_fields=list(changes))
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


def inspection_check(
    *,
    hall: Hall,
    inspector_hall: Hall,
    inspected_on,
    findings: str,
    dimension: Dimension,
    deduction=0,
    fix_by,
    by,
) -> dict:
    """What ``inspection_record`` would record, checked; writes nothing (the admin form
    validates with it)."""
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
    return {
        "hall": hall,
        "inspector_hall": inspector_hall,
        "inspected_on": inspected_on,
        "findings": findings.strip(),
        "dimension": dimension,
        "deduction": deduction,
        "fix_by": fix_by,
    }


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
    values = inspection_check(
        hall=hall,
        inspector_hall=inspector_hall,
        inspected_on=inspected_on,
        findings=findings,
        dimension=dimension,
        deduction=deduction,
        fix_by=fix_by,
        by=by,
    )
    return Inspection.objects.create(**values, recorded_by=by)


def inspection_fix_check(*, inspection: Inspection, fixed_on, by) -> None:
    """Whether ``by`` may mark ``inspection``'s findings put right on ``fixed_on``."""
    scope = user_scope(by)
    if scope.read_only or not scope.covers(_fresh_hall(inspection.inspector_hall)):
        raise PermissionDenied(_("只有检查馆可以确认整改。"))
    if fixed_on < inspection.inspected_on:
        raise ValidationError({"fixed_on": _("整改完成日期不能早于检查日期。")})


@transaction.atomic
def inspection_mark_fixed(*, inspection: Inspection, fixed_on, by) -> Inspection:
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    inspection_fix_check(inspection=inspection, fixed_on=fixed_on, by=by)
    inspection.fixed_on = fixed_on
    inspection.save(update_fields=["fixed_on"])
    return inspection


def quarter_of(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def satisfaction_submit(
    *,
    hall_id,
    phone: str,
    rating,
    comment: str = "",
    now: datetime | None = None,
    consent_version: str = "",
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
                hall=hall,
                phone=phone,
                quarter=quarter_of(now),
                rating=rating,
                comment=comment,
                consent_version=consent_version,
                consented_at=now if consent_version else None,
            )
    except IntegrityError:
        raise ValidationError(
            {"phone": _("这个手机号码本季度已经评价过这个馆了,下个季度再来吧。")}
        ) from None


# --- Residents' personal information -----------------------------------------------------------


@transaction.atomic
def satisfaction_anonymise_ended(
    *, before: datetime, phone: str | None = None, dry_run: bool = False
) -> int:
    """Anonymise survey answers given before ``before`` (of one ``phone`` when given): the phone
    becomes its keyed hash, so "once a quarter" still holds and every rating still counts."""
    rows = SatisfactionResponse.objects.filter(created_at__lt=before)
    if phone is not None:
        rows = rows.filter(phone=phone)
    if dry_run:
        return privacy.count_unanonymised(rows)
    return privacy.anonymise_rows(rows)
