"""Writes of the yearly returns: windows, entry, submission, review and reopening.

The rules of the seeds live here, not in the views: only staff of an ancestor hall approve a
hall's figures; a return locks at its deadline until the parent reopens it; every change is kept
with who and when.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from common.cache import bump
from network.models import Hall, subtree_q
from network.selectors import user_scope

from .models import FigureChange, ReturnStatus, ReturnWindow
from .selectors import RETURN_MODELS, STATISTICS_CACHE, portal_figures, return_window


def _require_own_scope(user, hall: Hall) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers(hall):
        raise PermissionDenied(_("只能填报本馆及下属馆的数据。"))


def _require_ancestor(user, hall: Hall) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers_strictly(hall):
        raise PermissionDenied(_("只有上级馆的工作人员可以进行这一步。"))


def _figures_changed() -> None:
    """The public statistics are computed again: from now (this transaction's own reads) and
    again once it commits, since a request in between may have kept what it read before."""
    bump(STATISTICS_CACHE)
    transaction.on_commit(lambda: bump(STATISTICS_CACHE))


def _log(annual_return, kind: str, field: str, old, new, by) -> FigureChange:
    # Every change of a figure or a status is logged, so this is the one place to say so.
    _figures_changed()
    return FigureChange(
        kind=kind,
        return_id=annual_return.pk,
        hall_id=annual_return.hall_id,
        year=annual_return.year,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        by=by,
    )


def returns_follow_moved_hall(*, hall: Hall, **_signal) -> None:
    """Return rows carry copies of their hall's ancestors; a moved subtree takes them along."""
    halls = Hall.objects.filter(subtree_q(hall))
    _figures_changed()
    for model in RETURN_MODELS.values():
        model.objects.filter(hall__in=halls).update(
            tree_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("tree_id")[:1]),
            main_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("main_hall_id")[:1]),
            branch_id=Subquery(halls.filter(pk=OuterRef("hall_id")).values("branch_hall_id")[:1]),
        )


def return_is_open(annual_return, *, kind: str, now: datetime | None = None) -> bool:
    """Open for entry: inside the window, or reopened by the parent until a later moment."""
    now = now or timezone.now()
    if annual_return.status in (ReturnStatus.SUBMITTED, ReturnStatus.APPROVED):
        return False
    if annual_return.reopened_until and now < annual_return.reopened_until:
        return True
    window = return_window(kind, annual_return.year)
    if window is None:
        return False
    return window.opens_at <= now < window.deadline


@transaction.atomic
def return_get_or_create(*, kind: str, hall: Hall, year: int):
    model = RETURN_MODELS[kind]
    annual_return, created = model.objects.get_or_create(hall=hall, year=year)
    if created:
        _autofill(annual_return, kind=kind, by=None)
    return annual_return


def _autofill(annual_return, *, kind: str, by) -> list[str]:
    if not annual_return.AUTOFILLED:
        return []
    figures = portal_figures(hall_id=annual_return.hall_id, year=annual_return.year)
    changes, changed = [], []
    for name in annual_return.AUTOFILLED:
        old, new = getattr(annual_return, name), figures[name]
        if old != new:
            setattr(annual_return, name, new)
            changed.append(name)
            changes.append(_log(annual_return, kind, name, old, new, by))
    if changed:
        annual_return.save(update_fields=[*changed, "updated_at"])
        FigureChange.objects.bulk_create(changes)
    return changed


@transaction.atomic
def return_refresh_autofilled(*, kind: str, annual_return, by) -> list[str]:
    """Refill the figures the portal knows (activities, participants, orders) from its records."""
    annual_return = (
        type(annual_return)
        .objects.select_for_update()
        .select_related("hall")
        .get(pk=annual_return.pk)
    )
    _require_own_scope(by, annual_return.hall)
    if not return_is_open(annual_return, kind=kind):
        raise ValidationError(_("报表已锁定,不能再修改。"))
    return _autofill(annual_return, kind=kind, by=by)


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


def return_update_check(
    *, kind: str, annual_return, by, values: dict, now: datetime | None = None
) -> dict:
    """The figures ``return_update`` would store, parsed, or the ValidationError (or
    PermissionDenied) it would raise; writes nothing, so a form may validate with it."""
    model = RETURN_MODELS[kind]
    _require_own_scope(by, annual_return.hall)
    if not return_is_open(annual_return, kind=kind, now=now):
        raise ValidationError(_("报表已过截止时间或已报送,已锁定;如需修改请联系上级馆重新开放。"))
    errors: dict = {}
    parsed = {}
    for name, raw in values.items():
        if name not in model.FIGURES:
            errors[name] = _("没有这个统计项目。")
            continue
        if name in model.AUTOFILLED:
            errors[name] = _(
                "该项目由平台根据活动、参与人次登记、签到和点单记录自动统计,不能手工填写。"
            )
            continue
        try:
            parsed[name] = _parse(model, name, raw)
        except (ValidationError, InvalidOperation) as exc:
            errors.update(getattr(exc, "message_dict", {name: [_("请填写数字。")]}))
    if errors:
        raise ValidationError(errors)
    return parsed


@transaction.atomic
def return_update(*, kind: str, annual_return, by, values: dict, now: datetime | None = None):
    """Enter figures; entered (not auto-filled) fields only, while the return is open."""
    model = RETURN_MODELS[kind]
    annual_return = (
        model.objects.select_for_update().select_related("hall").get(pk=annual_return.pk)
    )
    parsed = return_update_check(
        kind=kind, annual_return=annual_return, by=by, values=values, now=now
    )
    changes = []
    for name, value in parsed.items():
        old = getattr(annual_return, name)
        if old != value:
            setattr(annual_return, name, value)
            changes.append(_log(annual_return, kind, name, old, value, by))
    if changes:
        annual_return.save(update_fields=[c.field for c in changes] + ["updated_at"])
        FigureChange.objects.bulk_create(changes)
    return annual_return


@transaction.atomic
def return_submit(*, kind: str, annual_return, by, now: datetime | None = None):
    now = now or timezone.now()
    model = RETURN_MODELS[kind]
    annual_return = (
        model.objects.select_for_update().select_related("hall").get(pk=annual_return.pk)
    )
    _require_own_scope(by, annual_return.hall)
    if not return_is_open(annual_return, kind=kind, now=now):
        raise ValidationError(_("报表已过截止时间或已报送,不能再报送;如需修改请联系上级馆。"))
    old = annual_return.status
    annual_return.status = ReturnStatus.SUBMITTED
    annual_return.submitted_at = now
    annual_return.submitted_by = by
    annual_return.reopened_until = None
    annual_return.save(
        update_fields=["status", "submitted_at", "submitted_by", "reopened_until", "updated_at"]
    )
    _log(annual_return, kind, "status", old, annual_return.status, by).save()
    return annual_return


@transaction.atomic
def return_review(*, kind: str, annual_return, by, approve: bool, comment: str = "", now=None):
    """The parent hall approves a submitted return, or sends it back with a comment."""
    now = now or timezone.now()
    model = RETURN_MODELS[kind]
    annual_return = (
        model.objects.select_for_update().select_related("hall").get(pk=annual_return.pk)
    )
    _require_ancestor(by, annual_return.hall)
    if annual_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError(_("只有已报送的报表可以审核。"))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("退回时请写明原因,填报人会看到它。")})
    old = annual_return.status
    annual_return.status = ReturnStatus.APPROVED if approve else ReturnStatus.RETURNED
    annual_return.reviewed_at = now
    annual_return.reviewed_by = by
    annual_return.review_comment = comment[:500]
    if not approve:
        # A returned return can be corrected for a week even after the deadline.
        annual_return.reopened_until = now + settings.REPORT_RETURN_GRACE
    annual_return.save(
        update_fields=[
            "status", "reviewed_at", "reviewed_by", "review_comment", "reopened_until", "updated_at",
        ]
    )  # fmt: skip
    _log(annual_return, kind, "status", old, annual_return.status, by).save()
    return annual_return


@transaction.atomic
def return_reopen(*, kind: str, annual_return, by, until: datetime, now: datetime | None = None):
    """The parent hall reopens a locked return for corrections until ``until``."""
    now = now or timezone.now()
    model = RETURN_MODELS[kind]
    annual_return = (
        model.objects.select_for_update().select_related("hall").get(pk=annual_return.pk)
    )
    _require_ancestor(by, annual_return.hall)
    if until <= now:
        raise ValidationError({"until": _("重新开放的截止时间必须晚于现在。")})
    old = annual_return.status
    annual_return.status = ReturnStatus.DRAFT if old != ReturnStatus.RETURNED else old
    annual_return.reopened_until = until
    annual_return.save(update_fields=["status", "reopened_until", "updated_at"])
    _log(annual_return, kind, "reopened_until", None, until.isoformat(), by).save()
    if old != annual_return.status:
        _log(annual_return, kind, "status", old, annual_return.status, by).save()
    return annual_return


@transaction.atomic
def return_window_save(
    *, window: ReturnWindow | None = None, year: int, kind: str, opens_at, deadline
) -> ReturnWindow:
    """Set when a year's return of ``kind`` may be filled in; ``window`` is the one edited."""
    if deadline <= opens_at:
        raise ValidationError({"deadline": _("报送截止时间必须晚于开始填报时间。")})
    window = window or ReturnWindow()
    window.year, window.kind, window.opens_at, window.deadline = year, kind, opens_at, deadline
    window.full_clean()
    window.save()
    _figures_changed()  # what counts as on time
    return window
