"""Every write to the hall tree and to memberships.

django-mptt leaves locking to its caller. Each tree write here runs in one transaction that first
takes a PostgreSQL advisory lock on the tree it renumbers, so concurrent inserts and moves into one
city's tree queue instead of corrupting ``lft``/``rght``; other cities' trees are untouched.
On SQLite the settings open every transaction with ``BEGIN IMMEDIATE``, which serialises writers.

The tree numbers keep room (``TREE_ROOM``): free numbers at the end of every hall's range, below
its ``rght``. A new hall takes its numbers from its parent's room and renumbers nothing; only when
that room is used up does an insert shift the rest of the tree (as a dense nested set does on every
insert), and then it leaves fresh room behind. The nesting stays exact, so every read by range
(``lft``/``rght``) is unchanged; only ``rght - lft`` no longer counts descendants.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    KIND_BY_LEVEL,
    RESOURCE_KIND_CODES,
    AssignmentKind,
    Condition,
    Dispatch,
    DispatchStop,
    Hall,
    HallKind,
    Membership,
    Resource,
    Role,
    StaffAssignment,
    Training,
    TrainingAttendance,
    Volunteer,
    plaque_name_for,
)
from .selectors import subtree_q
from .signals import hall_moved

# Two-key advisory locks: (namespace, tree_id). Key 0 guards the allocation of a new tree_id.
TREE_LOCK_NAMESPACE = 7001
NEW_TREE_KEY = 0

HALL_FIELDS = set(Hall.OWN_FIELDS)

# Free tree numbers kept at the end of each kind's range, two per future child: a township
# branch has room for 16 more points, a county for 2 more branches with their own room, a city
# for 2 more counties. Points are leaves and keep none.
TREE_ROOM = {
    HallKind.CENTRE: 2 * 75,
    HallKind.MAIN: 2 * 36,
    HallKind.BRANCH: 2 * 16,
    HallKind.POINT: 0,
}


def tree_span(kind: str) -> int:
    """How many tree numbers a new hall of ``kind`` takes: its own two and its room."""
    return 2 + TREE_ROOM[kind]


def lock_trees(*tree_ids: int) -> None:
    """Take the transaction-scoped lock of each tree, in a fixed order so two movers never
    deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for tree_id in sorted(set(tree_ids)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, int(tree_id)]
            )


def _child_kind(parent: Hall | None) -> str:
    if parent is None:
        return HallKind.CENTRE
    if parent.level >= len(KIND_BY_LEVEL) - 1:
        raise ValidationError(
            {"parent": _("基层服务点是最末一级,不能在“%(name)s”下再设下级馆。") % {"name": parent}}
        )
    return KIND_BY_LEVEL[parent.level + 1]


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - HALL_FIELDS
    if unknown:
        raise TypeError(f"unknown hall fields: {sorted(unknown)}")
    if fields.get("code") == "":
        fields["code"] = None
    return fields


@transaction.atomic
def hall_create(*, parent: Hall | None, name: str, locality: str, **fields: Any) -> Hall:
    """Add a hall under ``parent`` (a centre hall when there is none)."""
    fields = _clean_fields(fields)
    if parent is None:
        lock_trees(NEW_TREE_KEY)
    else:
        lock_trees(parent.tree_id)
        # Re-read under the lock: the caller's copy may hold stale tree numbers.
        parent = Hall.objects.get(pk=parent.pk)
    kind = _child_kind(parent)
    hall = Hall(
        parent=parent,
        name=name,
        locality=locality,
        kind=kind,
        plaque_name=plaque_name_for(
            kind=kind, locality=locality, parent_plaque=parent.plaque_name if parent else None
        ),
        main_hall_id=parent.main_hall_id if parent else None,
        branch_hall_id=parent.pk if kind == HallKind.POINT else None,
        **fields,
    )
    if parent is not None:
        # Numbered first, so that validation checks the kind against the real depth. A
        # validation error rolls the whole transaction back, shift included.
        _place_in_room(hall, parent)
    hall.full_clean(exclude=["parent", "main_hall", "branch_hall"])
    # With its tree numbers set, django-mptt inserts the row as it is (a root it numbers itself).
    hall.save()
    # A main hall is its own main hall, a branch its own branch: rows that point to themselves.
    if kind == HallKind.MAIN:
        hall.main_hall_id = hall.pk
        Hall.objects.filter(pk=hall.pk).update(main_hall=hall.pk)
    elif kind == HallKind.BRANCH:
        hall.branch_hall_id = hall.pk
        Hall.objects.filter(pk=hall.pk).update(branch_hall=hall.pk)
    return hall


def _place_in_room(hall: Hall, parent: Hall) -> None:
    """Give ``hall`` the numbers right after its parent's last child, taken from the parent's
    room; when the room is too small, first shift everything from the parent's ``rght`` on to
    make room for this hall and leave the parent's full room behind. Under the tree's lock."""
    table = Hall._meta.db_table
    span = tree_span(hall.kind)
    last = Hall.objects.filter(parent_id=parent.pk).aggregate(m=Max("rght"))["m"]
    lft = (last if last is not None else parent.lft) + 1
    if lft + span > parent.rght:
        shift = lft + span + TREE_ROOM[parent.kind] - parent.rght
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET "
                "lft = CASE WHEN lft >= %s THEN lft + %s ELSE lft END, rght = rght + %s "
                "WHERE tree_id = %s AND rght >= %s",
                [parent.rght, shift, shift, parent.tree_id, parent.rght],
            )
        parent.rght += shift
    hall.lft, hall.rght = lft, lft + span - 1
    hall.tree_id, hall.level = parent.tree_id, parent.level + 1


@transaction.atomic
def hall_update(*, hall: Hall, **fields: Any) -> Hall:
    """Change a hall's own fields. A new locality renames the plaques of its whole subtree."""
    fields = _clean_fields(fields)
    lock_trees(hall.tree_id)
    hall = Hall.objects.get(pk=hall.pk)
    old_locality = hall.locality
    for name, value in fields.items():
        setattr(hall, name, value)
    hall.full_clean(exclude=["parent", "main_hall", "branch_hall"])
    hall.save(update_fields=[*fields, "updated_at"])
    if hall.locality != old_locality:
        _refresh_plaques(hall)
    return hall


@transaction.atomic
def hall_move(*, hall: Hall, new_parent: Hall) -> Hall:
    """Move a hall with its subtree under another hall of its parent's kind."""
    lock_trees(hall.tree_id, new_parent.tree_id)
    hall = Hall.objects.get(pk=hall.pk)
    new_parent = Hall.objects.get(pk=new_parent.pk)
    if hall.parent_id is None:
        raise ValidationError({"parent": _("中心馆是一棵树的根,不能移动。")})
    if new_parent.kind != KIND_BY_LEVEL[hall.level - 1]:
        raise ValidationError(
            {
                "parent": _("“%(hall)s”是%(kind)s,只能放在%(parent_kind)s之下。")
                % {
                    "hall": hall,
                    "kind": hall.get_kind_display(),
                    "parent_kind": HallKind(KIND_BY_LEVEL[hall.level - 1]).label,
                }
            }
        )
    if new_parent.pk == hall.parent_id:
        return hall
    # After the new parent's last child, so that the room below its rght stays at the end,
    # where the next insert looks for it.
    last_child = Hall.objects.filter(parent_id=new_parent.pk).order_by("-lft").first()
    if last_child is None:
        hall.move_to(new_parent, "first-child")
    else:
        hall.move_to(last_child, "right")
    hall = Hall.objects.get(pk=hall.pk)
    subtree = Hall.objects.filter(subtree_q(hall))
    if hall.kind == HallKind.BRANCH:
        subtree.update(main_hall=new_parent.main_hall_id)
    elif hall.kind == HallKind.POINT:
        subtree.update(main_hall=new_parent.main_hall_id, branch_hall=new_parent.pk)
    _refresh_plaques(hall)
    hall = Hall.objects.get(pk=hall.pk)
    hall_moved.send(sender=Hall, hall=hall)
    return hall


def _refresh_plaques(top: Hall) -> None:
    """Recompute the plaque of ``top`` and everything below it, walking the subtree in tree
    order so each parent's new plaque is known before its children."""
    parent_plaque = (
        Hall.objects.filter(pk=top.parent_id).values_list("plaque_name", flat=True).first()
    )
    plaques: dict[int, str] = {}
    changed = []
    rows = (
        Hall.objects.filter(subtree_q(top))
        .order_by("lft")
        .only("pk", "parent_id", "kind", "locality", "plaque_name")
    )
    for row in rows:
        above = parent_plaque if row.pk == top.pk else plaques[row.parent_id]
        plaque = plaque_name_for(kind=row.kind, locality=row.locality, parent_plaque=above)
        plaques[row.pk] = plaque
        if plaque != row.plaque_name:
            row.plaque_name = plaque
            changed.append(row)
    Hall.objects.bulk_update(changed, ["plaque_name"], batch_size=500)


@transaction.atomic
def membership_create(
    *, user, hall: Hall, role: str, public_welfare_post: bool = False
) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("未知岗位“%(role)s”。") % {"role": role}})
    membership = Membership(
        user=user, hall=hall, role=role, public_welfare_post=public_welfare_post
    )
    membership.full_clean()
    membership.save()
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return membership


@transaction.atomic
def staff_create(
    *, username: str, hall: Hall, role: str, password: str | None = None, full_name: str = ""
):
    """A staff account with one membership. Without a password the account cannot log in until
    one is set."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("账号“%(name)s”已存在。") % {"name": username}})
    user = User(username=username, first_name=full_name, is_staff=True)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    membership_create(user=user, hall=hall, role=role)
    return user


# --- Staff records: assignments, trainings, volunteers ------------------------------------------
# Each runs the model's full_clean (the same rules the admin forms show) before writing.

ASSIGNMENT_FIELDS = {
    "kind",
    "user",
    "person_name",
    "from_hall",
    "to_hall",
    "start_date",
    "end_date",
    "note",
}
TRAINING_FIELDS = {"hall", "title", "start_date", "end_date", "hours", "teacher", "content"}
ATTENDANCE_FIELDS = {"name", "hall", "user", "hours"}
VOLUNTEER_FIELDS = {"hall", "name", "phone", "skills", "registered_on", "active"}


def _apply(obj, fields: dict[str, Any], allowed: set[str]):
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown {type(obj).__name__} fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def assignment_create(
    *,
    kind: str,
    from_hall: Hall,
    to_hall: Hall,
    start_date: date,
    end_date: date | None = None,
    user=None,
    person_name: str = "",
    note: str = "",
) -> StaffAssignment:
    """Record a dispatched instructor or a secondment. An instructor with an account becomes the
    branch's business deputy (业务副馆长) so the branch's records are in reach."""
    assignment = _apply(
        StaffAssignment(),
        {
            "kind": kind,
            "from_hall": from_hall,
            "to_hall": to_hall,
            "start_date": start_date,
            "end_date": end_date,
            "user": user,
            "person_name": person_name,
            "note": note,
        },
        ASSIGNMENT_FIELDS,
    )
    if (
        kind == AssignmentKind.INSTRUCTOR
        and user is not None
        and not Membership.objects.filter(user=user, hall=to_hall).exists()
    ):
        membership_create(user=user, hall=to_hall, role=Role.DEPUTY)
    return assignment


@transaction.atomic
def assignment_update(*, assignment: StaffAssignment, **fields: Any) -> StaffAssignment:
    return _apply(StaffAssignment.objects.get(pk=assignment.pk), fields, ASSIGNMENT_FIELDS)


@transaction.atomic
def training_create(
    *,
    hall: Hall,
    title: str,
    start_date: date,
    end_date: date,
    hours: Decimal,
    teacher: str,
    content: str = "",
) -> Training:
    return _apply(
        Training(),
        {
            "hall": hall,
            "title": title,
            "start_date": start_date,
            "end_date": end_date,
            "hours": hours,
            "teacher": teacher,
            "content": content,
        },
        TRAINING_FIELDS,
    )


@transaction.atomic
def training_update(*, training: Training, **fields: Any) -> Training:
    training = _apply(Training.objects.get(pk=training.pk), fields, TRAINING_FIELDS)
    # Fewer hours or a narrower hall must not leave attendance rows that break the rules.
    for attendance in training.attendances.select_related("hall"):
        attendance.training = training
        attendance.full_clean()
    return training


@transaction.atomic
def training_attendance_add(
    *, training: Training, name: str, hall: Hall, hours: Decimal, user=None
) -> TrainingAttendance:
    return _apply(
        TrainingAttendance(training=training),
        {"name": name, "hall": hall, "hours": hours, "user": user},
        ATTENDANCE_FIELDS,
    )


@transaction.atomic
def training_attendance_update(
    *, attendance: TrainingAttendance, **fields: Any
) -> TrainingAttendance:
    return _apply(TrainingAttendance.objects.get(pk=attendance.pk), fields, ATTENDANCE_FIELDS)


@transaction.atomic
def training_attendance_remove(*, attendance: TrainingAttendance) -> None:
    TrainingAttendance.objects.filter(pk=attendance.pk).delete()


@transaction.atomic
def volunteer_register(
    *,
    hall: Hall,
    name: str,
    phone: str,
    skills: str = "",
    registered_on: date | None = None,
    active: bool = True,
) -> Volunteer:
    fields = {"hall": hall, "name": name, "phone": phone, "skills": skills, "active": active}
    if registered_on is not None:
        fields["registered_on"] = registered_on
    return _apply(Volunteer(), fields, VOLUNTEER_FIELDS)


@transaction.atomic
def volunteer_update(*, volunteer: Volunteer, **fields: Any) -> Volunteer:
    return _apply(Volunteer.objects.get(pk=volunteer.pk), fields, VOLUNTEER_FIELDS)


@transaction.atomic
def staff_member_add(
    *,
    username: str,
    hall: Hall,
    role: str,
    public_welfare_post: bool = False,
    full_name: str = "",
    password: str | None = None,
) -> Membership:
    """Give an account a post at ``hall``, creating the account when the name is new."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=full_name, is_staff=True)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    elif Membership.objects.filter(user=user, hall=hall).exists():
        raise ValidationError(
            {"hall": _("“%(user)s”在“%(hall)s”已有岗位。") % {"user": username, "hall": hall}}
        )
    return membership_create(
        user=user, hall=hall, role=role, public_welfare_post=public_welfare_post
    )


@transaction.atomic
def membership_update(
    *, membership: Membership, role: str, public_welfare_post: bool
) -> Membership:
    membership = Membership.objects.get(pk=membership.pk)
    membership.role = role
    membership.public_welfare_post = public_welfare_post
    membership.full_clean()
    membership.save(update_fields=["role", "public_welfare_post"])
    return membership


# --- Resource catalogue and dispatch --------------------------------------------------------------

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
    from .selectors import user_scope

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
    if by is not None:
        _require_writer(by, resource.hall, _("只有资源所属馆可以修改资源目录。"))
    return _apply(resource, fields, RESOURCE_FIELDS)


def lowest_common_ancestor(a: Hall, b: Hall) -> Hall | None:
    if a.tree_id != b.tree_id:
        return None
    return (
        Hall.objects.filter(
            tree_id=a.tree_id, lft__lte=min(a.lft, b.lft), rght__gte=max(a.rght, b.rght)
        )
        .order_by("-lft")
        .first()
    )


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


def _dispatch_step(dispatch: Dispatch, allowed: tuple[str, ...]) -> Dispatch:
    # Lock the dispatch row only: a plain FOR UPDATE would lock the joined hall rows too, and
    # queue behind (or block) every tree write of the city.
    dispatch = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("resource", "resource__hall", "approver_hall", "requesting_hall")
        .get(pk=dispatch.pk)
    )
    if dispatch.status not in allowed:
        raise ValidationError(
            {
                "status": _("调配当前为“%(s)s”,不能进行这一步。")
                % {"s": dispatch.get_status_display()}
            }
        )
    return dispatch


def dispatch_approve(*, dispatch: Dispatch, by, note: str = "") -> Dispatch:
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
    dispatch = _dispatch_step(dispatch, (Dispatch.Status.REQUESTED,))
    _require_writer(by, dispatch.approver_hall, _("只有审批馆可以审批这次调配。"))
    # One approval of a resource at a time; the exclusion constraint stays the last word.
    Resource.objects.select_for_update().filter(pk=dispatch.resource_id).first()
    other = _overlapping(dispatch.resource_id, dispatch.start, dispatch.end, dispatch.pk)
    if other is not None:
        raise _busy_error(other)
    dispatch.status = Dispatch.Status.APPROVED
    dispatch.decided_by = by
    dispatch.decided_at = timezone.now()
    dispatch.decision_note = (note or "").strip()[:255]
    dispatch.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return dispatch


@transaction.atomic
def dispatch_reject(*, dispatch: Dispatch, by, note: str) -> Dispatch:
    dispatch = _dispatch_step(dispatch, (Dispatch.Status.REQUESTED,))
    _require_writer(by, dispatch.approver_hall, _("只有审批馆可以审批这次调配。"))
    if not (note or "").strip():
        raise ValidationError({"decision_note": _("请写明不批准的原因。")})
    dispatch.status = Dispatch.Status.REJECTED
    dispatch.decided_by = by
    dispatch.decided_at = timezone.now()
    dispatch.decision_note = note.strip()[:255]
    dispatch.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return dispatch


@transaction.atomic
def dispatch_cancel(*, dispatch: Dispatch, by) -> Dispatch:
    dispatch = _dispatch_step(dispatch, (Dispatch.Status.REQUESTED, Dispatch.Status.APPROVED))
    _require_writer(by, dispatch.requesting_hall, _("只有申请馆可以撤回申请。"))
    dispatch.status = Dispatch.Status.CANCELLED
    dispatch.save(update_fields=["status"])
    return dispatch


def _condition(value: str, field: str) -> str:
    if value not in Condition.values:
        raise ValidationError({field: _("请选择资源状况。")})
    return value


@transaction.atomic
def dispatch_hand_over(*, dispatch: Dispatch, by, condition: str, note: str = "") -> Dispatch:
    """The owner hands the resource over, recording its condition."""
    dispatch = _dispatch_step(dispatch, (Dispatch.Status.APPROVED,))
    _require_writer(by, dispatch.resource.hall, _("只有资源所属馆可以办理交接。"))
    dispatch.handover_condition = _condition(condition, "handover_condition")
    dispatch.status = Dispatch.Status.HANDED_OVER
    dispatch.handed_over_at = timezone.now()
    dispatch.handover_note = (note or "").strip()[:255]
    dispatch.save(update_fields=["status", "handed_over_at", "handover_condition", "handover_note"])
    return dispatch


@transaction.atomic
def dispatch_return(*, dispatch: Dispatch, by, condition: str, note: str = "") -> Dispatch:
    """The resource comes back; its condition on return becomes the catalogue's."""
    dispatch = _dispatch_step(dispatch, (Dispatch.Status.HANDED_OVER,))
    _require_writer(by, dispatch.resource.hall, _("只有资源所属馆可以登记归还。"))
    dispatch.return_condition = _condition(condition, "return_condition")
    dispatch.status = Dispatch.Status.RETURNED
    dispatch.returned_at = timezone.now()
    dispatch.return_note = (note or "").strip()[:255]
    dispatch.save(update_fields=["status", "returned_at", "return_condition", "return_note"])
    Resource.objects.filter(pk=dispatch.resource_id).update(condition=dispatch.return_condition)
    return dispatch


@transaction.atomic
def dispatch_add_stop(
    *, dispatch: Dispatch, point: Hall, title: str, start: datetime, end: datetime, by
) -> DispatchStop:
    """A tour stop (e.g. the mobile stage truck at a village): an activity on the point's page."""
    from activities import services as activity_services
    from activities.models import Category

    dispatch = _dispatch_step(dispatch, (Dispatch.Status.APPROVED, Dispatch.Status.HANDED_OVER))
    _require_writer(by, dispatch.requesting_hall, _("只有申请馆可以安排巡演站点。"))
    point = Hall.objects.get(pk=point.pk)
    if point.kind != HallKind.POINT:
        raise ValidationError({"point": _("巡演站点须是村(社区)基层服务点。")})
    from .selectors import hall_subtree

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
