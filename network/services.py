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

from collections import defaultdict
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction
from django.db.models import Max, Subquery
from django.utils.translation import gettext as _

from . import naming
from .models import (
    KIND_BY_LEVEL,
    AssignmentKind,
    Hall,
    HallClosure,
    HallKind,
    Membership,
    NamingScheme,
    OpeningHours,
    Role,
    StaffAssignment,
    Training,
    TrainingAttendance,
    Volunteer,
    Weekday,
    plaque_name_for,
    plaque_sql_joins,
    subtree_q,
)
from .selectors import scheme_tree_ids
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
        ordered = sorted({int(tree_id) for tree_id in tree_ids})
        if len(ordered) > 1:
            # Several trees (a naming scheme's) in one statement, still one after another in order.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, t) FROM "
                "(SELECT unnest(%s::integer[]) AS t ORDER BY 1) ordered",
                [TREE_LOCK_NAMESPACE, ordered],
            )
            return
        for tree_id in ordered:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, tree_id])


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
def hall_create(
    *,
    parent: Hall | None,
    name: str,
    locality: str,
    naming_scheme: NamingScheme | None = None,
    **fields: Any,
) -> Hall:
    """Add a hall under ``parent`` (a centre hall when there is none; it names its tree's
    ``naming_scheme``, the default unless given)."""
    fields = _clean_fields(fields)
    if parent is None:
        lock_trees(NEW_TREE_KEY)
        scheme = naming_scheme or default_scheme()
        chain: list[Hall] = []
    else:
        if naming_scheme is not None:
            raise TypeError("only a centre hall names its tree's naming scheme")
        lock_trees(parent.tree_id)
        # Read under the lock: the caller's copy may hold stale tree numbers.
        chain = _chain(parent.pk)
        if not chain:
            raise Hall.DoesNotExist(f"hall {parent.pk} is gone")
        parent = chain[-1]
        scheme = chain[0].naming_scheme or NamingScheme.default()
    kind = _child_kind(parent)
    hall = Hall(
        parent=parent,
        name=name,
        locality=locality,
        kind=kind,
        plaque_name=plaque_name_for(
            scheme=scheme,
            localities=[*(up.locality for up in chain), locality],
            parent_plaque=parent.plaque_name if parent else None,
        ),
        naming_scheme=scheme if parent is None else None,
        main_hall_id=parent.main_hall_id if parent else None,
        branch_hall_id=parent.pk if kind == HallKind.POINT else None,
        **fields,
    )
    if parent is not None:
        # Numbered first, so that validation checks the kind against the real depth. A
        # validation error rolls the whole transaction back, shift included.
        _place_in_room(hall, parent)
    hall.full_clean(exclude=["parent", "main_hall", "branch_hall", "naming_scheme"])
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


def default_scheme() -> NamingScheme:
    """The default scheme's row for a new tree to name, put back as shipped if it was removed
    (a new tree always names its scheme, so reading its names never looks for the default)."""
    scheme, _created = NamingScheme.objects.get_or_create(
        code=naming.DEFAULT_CODE, defaults=naming.SHIPPED[naming.DEFAULT_CODE]
    )
    return scheme


def _chain(hall_id: int) -> list[Hall]:
    """The hall and its ancestors, root first (with the root's scheme), in one query."""
    top = Hall.objects.filter(pk=hall_id)
    return list(
        Hall.objects.filter(
            tree_id=Subquery(top.values("tree_id")[:1]),
            lft__lte=Subquery(top.values("lft")[:1]),
            rght__gte=Subquery(top.values("rght")[:1]),
        )
        .select_related("naming_scheme")
        .order_by("lft")
    )


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
        names = NamingScheme.for_tree(hall.tree_id)
        raise ValidationError(
            {
                "parent": _("“%(hall)s”是%(kind)s,只能放在%(parent_kind)s之下。")
                % {
                    "hall": hall,
                    "kind": names.level_name(hall.kind),
                    "parent_kind": names.level_name(KIND_BY_LEVEL[hall.level - 1]),
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
    """Recompute the plaques of ``top``'s subtree by its tree's scheme, one level at a time."""
    _rename_levels(
        NamingScheme.for_tree(top.tree_id),
        "c.tree_id = %s AND c.lft >= %s AND c.rght <= %s",
        [top.tree_id, top.lft, top.rght],
        levels=range(top.level, len(KIND_BY_LEVEL)),
    )


@transaction.atomic
def plaques_refresh(*, halls: list[Hall]) -> None:
    """Recompute the plaques of many ``halls``' subtrees at once, after their place names
    changed in bulk (a yearly division update renames thousands): one UPDATE per level and
    naming scheme. The caller holds the trees' locks."""
    by_tree = defaultdict(list)
    for hall in halls:
        by_tree[hall.tree_id].append(hall)
    roots = Hall.objects.filter(level=0, tree_id__in=list(by_tree)).select_related("naming_scheme")
    by_scheme: dict[int | None, tuple[NamingScheme, list[Hall]]] = {}
    for root in roots:
        scheme = root.naming_scheme or NamingScheme.default()
        by_scheme.setdefault(scheme.pk, (scheme, []))[1].extend(by_tree[root.tree_id])
    # The column that holds each level's ancestor: a subtree is the rows naming it there.
    column = {0: "c.tree_id", 1: "c.main_hall_id", 2: "c.branch_hall_id", 3: "c.id"}
    for scheme, chosen in by_scheme.values():
        conditions, params = [], []
        for level, name in column.items():
            keys = [h.tree_id if level == 0 else h.pk for h in chosen if h.level == level]
            if keys:
                conditions.append(f"{name} IN ({', '.join(['%s'] * len(keys))})")
                params.extend(keys)
        top = min(h.level for h in chosen)
        _rename_levels(
            scheme, f"({' OR '.join(conditions)})", params, levels=range(top, len(KIND_BY_LEVEL))
        )


def _rename_levels(scheme: NamingScheme, where: str, params: list, *, levels) -> None:
    """Recompute the plaques of the halls ``where`` selects (over the row ``c``) by ``scheme``:
    one UPDATE per level, top down, so each level reads the plaques just written above it.
    Rows whose plaque is already right are not written."""
    table = Hall._meta.db_table
    columns, joins = plaque_sql_joins("c")
    with connection.cursor() as cursor:
        for level in levels:
            kind = KIND_BY_LEVEL[level]
            expr, expr_params = naming.sql(scheme.parts(kind), columns)
            try:
                cursor.execute(
                    f"UPDATE {table} SET plaque_name = v.want FROM ("
                    f"SELECT c.id, {expr} AS want FROM {table} c {joins} "
                    f"WHERE c.level = %s AND {where}"
                    f") v WHERE {table}.id = v.id AND {table}.plaque_name <> v.want",
                    [*expr_params, level, *params],
                )
            except DataError as exc:
                # PostgreSQL refuses a plaque longer than the column; the caller's transaction
                # rolls back what was renamed above this level.
                limit = Hall._meta.get_field("plaque_name").max_length
                raise ValidationError(
                    {
                        f"{kind}_plaque": _(
                            "按此规则生成的%(level)s牌匾超过 %(limit)s 个字,请缩短牌匾样式或所在地名。"
                        )
                        % {"level": scheme.level_name(kind), "limit": limit}
                    }
                ) from exc


def _rename_trees(scheme: NamingScheme, tree_ids: list[int]) -> None:
    if tree_ids:
        _rename_levels(
            scheme,
            f"c.tree_id IN ({', '.join(['%s'] * len(tree_ids))})",
            tree_ids,
            levels=range(len(KIND_BY_LEVEL)),
        )


SCHEME_FIELDS = (
    "name",
    "centre_name",
    "main_name",
    "branch_name",
    "point_name",
    "centre_plaque",
    "main_plaque",
    "branch_plaque",
    "point_plaque",
)


@transaction.atomic
def naming_scheme_create(*, code: str, **fields: str) -> NamingScheme:
    unknown = set(fields) - set(SCHEME_FIELDS)
    if unknown:
        raise TypeError(f"unknown naming scheme fields: {sorted(unknown)}")
    scheme = NamingScheme(code=code, **fields)
    scheme.full_clean()
    scheme.save()
    return scheme


@transaction.atomic
def naming_scheme_update(*, scheme: NamingScheme, **fields: str) -> NamingScheme:
    """Change a scheme; the plaques of every tree that uses it follow, under those trees'
    locks, in one statement per level."""
    unknown = set(fields) - set(SCHEME_FIELDS)
    if unknown:
        raise TypeError(f"unknown naming scheme fields: {sorted(unknown)}")
    scheme = NamingScheme.objects.get(pk=scheme.pk)
    for name, value in fields.items():
        setattr(scheme, name, value)
    scheme.full_clean()
    scheme.save()
    tree_ids = scheme_tree_ids(scheme)
    lock_trees(*tree_ids)
    # Read again under the locks: a tree may have switched schemes meanwhile.
    _rename_trees(scheme, scheme_tree_ids(scheme))
    return scheme


@transaction.atomic
def tree_scheme_set(*, centre: Hall, scheme: NamingScheme) -> Hall:
    """Give ``centre``'s tree another naming scheme and rename its plaques by it."""
    lock_trees(centre.tree_id)
    centre = Hall.objects.get(pk=centre.pk)
    if centre.parent_id is not None:
        raise ValidationError(
            {
                "naming_scheme": _("命名规则由中心馆为整棵树选择,“%(name)s”不是中心馆。")
                % {"name": centre}
            }
        )
    scheme = NamingScheme.objects.get(pk=scheme.pk)
    if centre.naming_scheme_id != scheme.pk:
        centre.naming_scheme = scheme
        centre.save(update_fields=["naming_scheme", "updated_at"])
    _rename_trees(scheme, [centre.tree_id])
    return Hall.objects.get(pk=centre.pk)


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


# --- Opening hours and closure dates ----------------------------------------------------------


def _check_hours(*, hall_id: int, weekday: int, opens, closes, exclude_pk: int | None) -> None:
    """A range ends after it opens, on the same day, and overlaps no other range that day."""
    if opens is None or closes is None or closes <= opens:
        raise ValidationError(
            {"closes": _("闭馆时间须晚于开门时间(同一天内;跨过午夜请分成两天填写)。")}
        )
    overlapping = (
        OpeningHours.objects.filter(
            hall_id=hall_id, weekday=weekday, opens__lt=closes, closes__gt=opens
        )
        .exclude(pk=exclude_pk)
        .first()
    )
    if overlapping is not None:
        raise ValidationError(
            {
                "opens": _("与同一天已有的时段 %(range)s 重叠,请合并或调整。")
                % {"range": f"{overlapping.opens:%H:%M}–{overlapping.closes:%H:%M}"}
            }
        )


@transaction.atomic
def opening_hours_add(*, hall: Hall, weekday: int, opens: time, closes: time) -> OpeningHours:
    _check_hours(hall_id=hall.pk, weekday=weekday, opens=opens, closes=closes, exclude_pk=None)
    return OpeningHours.objects.create(hall_id=hall.pk, weekday=weekday, opens=opens, closes=closes)


@transaction.atomic
def opening_hours_update(
    *, hours: OpeningHours, weekday: int, opens: time, closes: time
) -> OpeningHours:
    _check_hours(
        hall_id=hours.hall_id, weekday=weekday, opens=opens, closes=closes, exclude_pk=hours.pk
    )
    hours.weekday, hours.opens, hours.closes = weekday, opens, closes
    hours.save(update_fields=["weekday", "opens", "closes"])
    return hours


@transaction.atomic
def opening_hours_remove(*, hours: OpeningHours) -> None:
    hours.delete()


@transaction.atomic
def opening_hours_set_week(*, halls: list[Hall], week: dict[int, list[tuple[time, time]]]) -> int:
    """The same weekly hours for every hall of ``halls``, replacing what they had (the demo's
    and a county's "all our stations keep these hours"); returns the ranges written."""
    for weekday, ranges in week.items():
        ranges = sorted(ranges)
        for opens, closes in ranges:
            if closes <= opens:
                raise ValidationError({"closes": _("闭馆时间须晚于开门时间。")})
        for (_o1, c1), (o2, _c2) in zip(ranges, ranges[1:], strict=False):
            if o2 < c1:
                raise ValidationError(
                    {"opens": _("%(day)s 的时段重叠。") % {"day": Weekday(weekday).label}}
                )
    OpeningHours.objects.filter(hall__in=halls).delete()
    rows = [
        OpeningHours(hall=hall, weekday=weekday, opens=opens, closes=closes)
        for hall in halls
        for weekday, ranges in week.items()
        for opens, closes in ranges
    ]
    OpeningHours.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _check_closure(*, hall_id: int, day: date | None, exclude_pk: int | None) -> None:
    if day is None:
        raise ValidationError({"date": _("请填写闭馆日期。")})
    if HallClosure.objects.filter(hall_id=hall_id, date=day).exclude(pk=exclude_pk).exists():
        raise ValidationError({"date": _("%(day)s 已经是闭馆日。") % {"day": day.isoformat()}})


@transaction.atomic
def hall_closure_add(*, hall: Hall, date: date, reason: str = "") -> HallClosure:
    _check_closure(hall_id=hall.pk, day=date, exclude_pk=None)
    return HallClosure.objects.create(hall_id=hall.pk, date=date, reason=reason.strip())


@transaction.atomic
def hall_closure_update(*, closure: HallClosure, date: date, reason: str = "") -> HallClosure:
    _check_closure(hall_id=closure.hall_id, day=date, exclude_pk=closure.pk)
    closure.date, closure.reason = date, reason.strip()
    closure.save(update_fields=["date", "reason"])
    return closure


@transaction.atomic
def hall_closure_remove(*, closure: HallClosure) -> None:
    closure.delete()
