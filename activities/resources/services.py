"""Every write to the resource catalogue and to dispatches.

A dispatch step locks its row, asks the model whether the status allows the step
(``Dispatch.can``) and whether the account's scope covers the hall that takes it
(``Dispatch.step_hall``), then writes the status the model's table leads to. Overlaps are checked
here under a lock on the resource; on PostgreSQL the exclusion constraint ``dispatch_no_overlap``
has the last word.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import services as activity_services
from activities.models import Category
from network.models import Hall, HallKind
from network.selectors import hall_ancestors, hall_subtree, user_scope

from .models import RESOURCE_KIND_CODES, Condition, Dispatch, DispatchStop, Resource

RESOURCE_FIELDS = {
    "name",
    "description",
    "quantity",
    "unit",
    "condition",
    "value",
    "contact",
    "public",
    "dispatchable",
    "active",
}


def _require_writer(user, hall: Hall, message: str) -> None:
    scope = user_scope(user)
    if scope.read_only or not scope.covers(Hall.objects.get(pk=hall.pk)):
        raise PermissionDenied(message)


@transaction.atomic
def resource_create(*, hall: Hall, kind: str, name: str, by=None, **fields: Any) -> Resource:
    """Catalogue a resource: its number is kind code, hall code (or H + id), sequence."""
    if by is not None:
        _require_writer(by, hall, _("只能登记本馆及下属馆的资源。"))
    unknown = set(fields) - RESOURCE_FIELDS
    if unknown:
        raise TypeError(f"unknown resource fields: {sorted(unknown)}")
    resource = Resource(hall=hall, kind=kind, name=(name or "").strip(), **fields)
    resource.catalogue_no = "-"
    resource.full_clean(exclude=["catalogue_no"])
    prefix = f"{RESOURCE_KIND_CODES[kind]}-{hall.code or f'H{hall.pk}'}-"
    for _attempt in range(5):
        last = Resource.objects.filter(catalogue_no__startswith=prefix).aggregate(
            n=Max("catalogue_no")
        )["n"]
        seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        resource.catalogue_no = f"{prefix}{seq:04d}"
        try:
            with transaction.atomic():
                resource.save()
            return resource
        except IntegrityError:
            resource.pk = None
    raise RuntimeError("could not number the resource")


@transaction.atomic
def resource_update(*, resource: Resource, by=None, **fields: Any) -> Resource:
    """Change a catalogue entry's own fields; its number, hall and kind stay."""
    unknown = set(fields) - RESOURCE_FIELDS
    if unknown:
        raise TypeError(f"unknown resource fields: {sorted(unknown)}")
    # Read again: the caller's copy may carry unsaved edits (an admin form fills its instance).
    resource = Resource.objects.get(pk=resource.pk)
    if by is not None:
        _require_writer(by, resource.hall, _("只有资源所属馆可以修改资源目录。"))
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.full_clean()
    resource.save()
    return resource


def lowest_common_ancestor(a: Hall, b: Hall) -> Hall | None:
    if a.tree_id != b.tree_id:
        return None
    return hall_ancestors(a).filter(lft__lte=b.lft, rght__gte=b.rght).order_by("-lft").first()


def dispatch_approver(resource_hall: Hall, requesting_hall: Hall) -> Hall | None:
    """The owner approves within its county; across counties, the lowest common ancestor."""
    if resource_hall.main_hall_id and resource_hall.main_hall_id == requesting_hall.main_hall_id:
        return resource_hall
    return lowest_common_ancestor(resource_hall, requesting_hall)


def _overlapping(resource_id: int, start: datetime, end: datetime, exclude_pk=None):
    qs = Dispatch.objects.filter(
        resource_id=resource_id, status__in=Dispatch.LIVE, start__lt=end, end__gt=start
    ).select_related("requesting_hall")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def _busy_error(other: Dispatch) -> ValidationError:
    return ValidationError(
        {
            "start": _("该资源在 %(start)s 至 %(end)s 已调配给“%(hall)s”,请另选时间。")
            % {
                "start": timezone.localtime(other.start).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(other.end).strftime("%Y-%m-%d %H:%M"),
                "hall": other.requesting_hall.name,
            }
        }
    )


@transaction.atomic
def dispatch_request(
    *,
    resource: Resource,
    requesting_hall: Hall,
    start: datetime,
    end: datetime,
    purpose: str,
    by,
) -> Dispatch:
    _require_writer(by, requesting_hall, _("只能以本馆或下属馆的名义申请调配。"))
    resource = Resource.objects.select_related("hall").get(pk=resource.pk)
    requesting_hall = Hall.objects.get(pk=requesting_hall.pk)
    errors: dict[str, str] = {}
    if not (purpose or "").strip():
        errors["purpose"] = _("请写明用途。")
    if not start:
        errors["start"] = _("请填写开始时间。")
    if not end:
        errors["end"] = _("请填写结束时间。")
    if start and end and end <= start:
        errors["end"] = _("结束时间必须晚于开始时间。")
    if not resource.active or not resource.dispatchable:
        errors["resource"] = _("该资源目前不可调配。")
    if errors:
        raise ValidationError(errors)
    approver = dispatch_approver(resource.hall, requesting_hall)
    if approver is None:
        raise ValidationError({"resource": _("只能在同一城市的总分馆网络内调配资源。")})
    other = _overlapping(resource.pk, start, end)
    if other is not None:
        raise _busy_error(other)
    return Dispatch.objects.create(
        resource=resource,
        requesting_hall=requesting_hall,
        approver_hall=approver,
        purpose=purpose.strip(),
        start=start,
        end=end,
        requested_by=by,
    )


def _dispatch_step(dispatch: Dispatch, step: str, by, message: str) -> Dispatch:
    """The dispatch, locked and read again, once its status allows ``step`` and ``by`` may take
    it; ``message`` says who may."""
    # Lock the dispatch row only: a plain FOR UPDATE would lock the joined hall rows too, and
    # queue behind (or block) every tree write of the city.
    dispatch = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("resource", "resource__hall", "approver_hall", "requesting_hall")
        .get(pk=dispatch.pk)
    )
    if not dispatch.can(step):
        raise ValidationError(
            {
                "status": _("调配当前为“%(s)s”,不能进行这一步。")
                % {"s": dispatch.get_status_display()}
            }
        )
    _require_writer(by, dispatch.step_hall(step), message)
    return dispatch


def _dispatch_move(dispatch: Dispatch, step: str, **fields) -> Dispatch:
    """Takes ``step`` on the locked dispatch: the new status and ``fields`` in one save."""
    dispatch.status = dispatch.status_after(step)
    for name, value in fields.items():
        setattr(dispatch, name, value)
    dispatch.save(update_fields=["status", *fields])
    return dispatch


def _note(note: str | None) -> str:
    return (note or "").strip()[:255]


def _decide(dispatch: Dispatch, step: str, by, note: str) -> Dispatch:
    """The approver hall's answer, approval or refusal: who, when and why."""
    return _dispatch_move(
        dispatch, step, decided_by=by, decided_at=timezone.now(), decision_note=_note(note)
    )


def dispatch_approve(*, dispatch: Dispatch, by, note: str = "") -> Dispatch:
    # Not atomic itself: the IntegrityError below ends the transaction it happens in, and the
    # message for it is read in a fresh one.
    try:
        return _dispatch_approve(dispatch=dispatch, by=by, note=note)
    except IntegrityError as exc:
        # Two approvals raced past the check below; PostgreSQL's exclusion constraint decided.
        if "dispatch_no_overlap" not in str(exc):
            raise
        other = _overlapping(dispatch.resource_id, dispatch.start, dispatch.end, dispatch.pk)
        raise (
            _busy_error(other) if other else ValidationError(_("该资源在这段时间已被调配。"))
        ) from exc


@transaction.atomic
def _dispatch_approve(*, dispatch: Dispatch, by, note: str) -> Dispatch:
    step = Dispatch.Step.APPROVE
    dispatch = _dispatch_step(dispatch, step, by, _("只有审批馆可以审批这次调配。"))
    # One approval of a resource at a time; the exclusion constraint stays the last word.
    Resource.objects.select_for_update().filter(pk=dispatch.resource_id).first()
    other = _overlapping(dispatch.resource_id, dispatch.start, dispatch.end, dispatch.pk)
    if other is not None:
        raise _busy_error(other)
    return _decide(dispatch, step, by, note)


@transaction.atomic
def dispatch_reject(*, dispatch: Dispatch, by, note: str) -> Dispatch:
    step = Dispatch.Step.REJECT
    dispatch = _dispatch_step(dispatch, step, by, _("只有审批馆可以审批这次调配。"))
    if not (note or "").strip():
        raise ValidationError({"decision_note": _("请写明不批准的原因。")})
    return _decide(dispatch, step, by, note)


@transaction.atomic
def dispatch_cancel(*, dispatch: Dispatch, by) -> Dispatch:
    step = Dispatch.Step.CANCEL
    dispatch = _dispatch_step(dispatch, step, by, _("只有申请馆可以撤回申请。"))
    return _dispatch_move(dispatch, step)


def _condition(value: str, field: str) -> str:
    if value not in Condition.values:
        raise ValidationError({field: _("请选择资源状况。")})
    return value


@transaction.atomic
def dispatch_hand_over(*, dispatch: Dispatch, by, condition: str, note: str = "") -> Dispatch:
    """The owner hands the resource over, recording its condition."""
    step = Dispatch.Step.HAND_OVER
    dispatch = _dispatch_step(dispatch, step, by, _("只有资源所属馆可以办理交接。"))
    return _dispatch_move(
        dispatch,
        step,
        handover_condition=_condition(condition, "handover_condition"),
        handed_over_at=timezone.now(),
        handover_note=_note(note),
    )


@transaction.atomic
def dispatch_return(*, dispatch: Dispatch, by, condition: str, note: str = "") -> Dispatch:
    """The resource comes back; its condition on return becomes the catalogue's."""
    step = Dispatch.Step.RETURN
    dispatch = _dispatch_step(dispatch, step, by, _("只有资源所属馆可以登记归还。"))
    dispatch = _dispatch_move(
        dispatch,
        step,
        return_condition=_condition(condition, "return_condition"),
        returned_at=timezone.now(),
        return_note=_note(note),
    )
    Resource.objects.filter(pk=dispatch.resource_id).update(condition=dispatch.return_condition)
    return dispatch


@transaction.atomic
def dispatch_add_stop(
    *, dispatch: Dispatch, point: Hall, title: str, start: datetime, end: datetime, by
) -> DispatchStop:
    """A tour stop (e.g. the mobile stage truck at a village): an activity on the point's page."""
    step = Dispatch.Step.ADD_STOP
    dispatch = _dispatch_step(dispatch, step, by, _("只有申请馆可以安排巡演站点。"))
    point = Hall.objects.get(pk=point.pk)
    if point.kind != HallKind.POINT:
        raise ValidationError({"point": _("巡演站点须是村(社区)基层服务点。")})
    if not hall_subtree(dispatch.requesting_hall_id).filter(pk=point.pk).exists():
        raise ValidationError(
            {
                "point": _("巡演站点须在申请馆“%(hall)s”的下属范围内。")
                % {"hall": dispatch.requesting_hall}
            }
        )
    if end <= start:
        raise ValidationError({"end": _("结束时间必须晚于开始时间。")})
    if start < dispatch.start or end > dispatch.end:
        raise ValidationError({"start": _("站点时间须在调配期间之内。")})
    activity = activity_services.activity_create(
        hall=dispatch.requesting_hall,
        venue_hall=point,
        category=Category.MOBILE,
        title=title,
        description=_("%(resource)s 巡演") % {"resource": dispatch.resource.name},
        start=start,
        end=end,
        capacity=None,
        created_by=by,
    )
    activity_services.activity_publish(activity=activity)
    order = (dispatch.stops.aggregate(n=Max("order"))["n"] or 0) + 1
    return DispatchStop.objects.create(
        dispatch=dispatch, point=point, activity=activity, order=order
    )
