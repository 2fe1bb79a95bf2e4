"""An edition of the division codes against the halls: what changed, and applying it.

``plan_update`` compares an edition (``network.divisions``) with the halls that came from the
division data (``Hall.division_year`` set) inside the edition's scope, keyed by code:

* new: a code no hall has yet;
* renamed: the place name changed (the hall's name follows unless staff changed it; the
  plaques of its subtree follow);
* recoded: a code that is gone and a new one at the same level with the same place name in the
  same city (a township merged into another, its villages renumbered; a county turned into a
  district keeps its townships this way): the hall takes the new code and keeps its history;
* moved: the parent changed (the hall moves with its subtree);
* closed: a code that is gone; the hall is closed, never deleted, so its activities, figures and
  scores stay; reopened: a closed hall's code is back.

``apply_update`` applies a plan in one transaction through the services, each city tree
locked once: whole new cities by ``network.bulk.bulk_load``, other new halls by ``hall_create``
top down, then moves (``hall_move``), then renames, codes and status (``hall_update``). Only
the columns above change: address, hours, services, operator and the rest that staff entered
stay. A hall staff created by hand (``division_year`` NULL) is never read or written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services
from .bulk import NewHall, bulk_load
from .divisions import Division, DivisionError, Edition, EditionRejected, hall_name
from .models import KIND_BY_LEVEL, Hall, HallKind, HallStatus, NamingScheme, plaque_name_for
from .signals import hall_moved

KINDS = ("new", "renamed", "recoded", "moved", "closed", "reopened")


def kind_labels() -> dict[str, str]:
    return {
        "new": _("新增"),
        "renamed": _("更名"),
        "recoded": _("改码"),
        "moved": _("迁移"),
        "closed": _("撤销(关闭)"),
        "reopened": _("恢复"),
    }


@dataclass(slots=True)
class Known:
    """A hall from the division data, as the plan reads it."""

    pk: int
    code: str
    locality: str
    name: str
    level: int
    status: str
    parent_id: int | None
    tree_id: int


@dataclass(slots=True)
class Change:
    kind: str
    code: str  # the code after the change
    locality: str  # the place name after the change
    level: int
    hall: Known | None = None  # None for a new hall
    parent: str | None = None  # the new parent's code (new, moved)


@dataclass
class Plan:
    edition: int
    changes: dict[str, list[Change]] = field(default_factory=lambda: {k: [] for k in KINDS})
    unchanged: int = 0
    placeholders: int = 0
    by_code: dict[str, Division] = field(default_factory=dict)
    # The hall that each code of the edition resolves to before anything is written.
    pk_of: dict[str, int] = field(default_factory=dict)
    # The codes of the moved halls' old parents, for the report.
    old_parent_code: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {kind: len(rows) for kind, rows in self.changes.items()}

    @property
    def empty(self) -> bool:
        return not any(self.changes.values())


def _scope_q(edition: Edition) -> Q:
    q = Q(division_year__isnull=False)
    if edition.scope:
        (prefix,) = edition.scope
        q &= Q(code__startswith=prefix) | Q(code__in=edition.centres)
    return q


def _known_halls(edition: Edition) -> dict[str, Known]:
    rows = Hall.objects.filter(_scope_q(edition)).values_list(
        "pk", "code", "locality", "name", "level", "status", "parent_id", "tree_id"
    )
    return {row[1]: Known(*row) for row in rows.iterator(chunk_size=20_000)}


def plan_update(edition: Edition, *, year: int) -> Plan:
    """What applying ``edition`` (of ``year``) would change; reads, never writes."""
    latest = Hall.objects.filter(division_year__isnull=False).aggregate(m=Max("division_year"))
    if latest["m"] is not None and latest["m"] > year:
        raise EditionRejected(
            [
                DivisionError(
                    "--edition",
                    None,
                    None,
                    _("已导入 %(latest)s 年版,不能再用较早的 %(year)s 年版覆盖。")
                    % {"latest": latest["m"], "year": year},
                )
            ]
        )
    known = _known_halls(edition)
    code_of = {hall.pk: code for code, hall in known.items()}
    plan = Plan(edition=year, placeholders=edition.placeholders, by_code=edition.divisions)
    divisions = edition.divisions
    new = [d for code, d in divisions.items() if code not in known]
    gone = [h for code, h in known.items() if code not in divisions]
    if Hall.objects.filter(code__isnull=False).count() > len(known):  # others hold codes
        _refuse_taken_codes(new)
    recoded = _match_recoded(new, gone, divisions, known)
    new = [d for d in new if d.code not in recoded]
    gone_codes = {h.code for h in recoded.values()}
    pk_of = {code: hall.pk for code, hall in known.items() if code in divisions}
    pk_of.update({code: hall.pk for code, hall in recoded.items()})
    plan.pk_of = pk_of
    changes = plan.changes
    for division in new:
        changes["new"].append(
            Change("new", division.code, division.locality, division.level, parent=division.parent)
        )
    for hall in gone:
        if hall.code not in gone_codes and hall.status != HallStatus.CLOSED:
            changes["closed"].append(Change("closed", hall.code, hall.locality, hall.level, hall))
    for code, division in divisions.items():
        hall = known.get(code) or recoded.get(code)
        if hall is None:
            continue
        touched = False
        if hall.code != code:
            changes["recoded"].append(Change("recoded", code, division.locality, hall.level, hall))
            touched = True
        if hall.locality != division.locality:
            changes["renamed"].append(Change("renamed", code, division.locality, hall.level, hall))
            touched = True
        parent_pk = pk_of.get(division.parent) if division.parent else None
        if division.parent and parent_pk != hall.parent_id:
            changes["moved"].append(
                Change("moved", code, division.locality, hall.level, hall, division.parent)
            )
            touched = True
        if hall.status == HallStatus.CLOSED:
            changes["reopened"].append(
                Change("reopened", code, division.locality, hall.level, hall)
            )
            touched = True
        if not touched:
            plan.unchanged += 1
    # Old parent codes, for the report of moves (the old parent may lie outside the scope).
    missing = {c.hall.parent_id for c in changes["moved"] if c.hall.parent_id not in code_of}
    if missing:
        code_of.update(Hall.objects.filter(pk__in=missing).values_list("pk", "code"))
    plan.old_parent_code = code_of
    return plan


def _refuse_taken_codes(new: list[Division]) -> None:
    """A new code held by a hall staff made by hand (or by a division hall outside the scope)
    is a conflict the edition cannot settle: refused, naming the hall."""
    codes = [d.code for d in new]
    errors = []
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        for code, name in Hall.objects.filter(code__in=chunk).values_list("code", "name"):
            errors.append(
                DivisionError(
                    "--source",
                    None,
                    None,
                    _(
                        "编码 %(code)s 已被“%(name)s”使用(不是由区划代码建立的馆);"
                        "请先修改或清空它的编码。"
                    )
                    % {"code": code, "name": name},
                )
            )
    if errors:
        raise EditionRejected(errors[:50])


def _centre_code(division: Division, divisions: dict[str, Division]) -> str:
    while division.parent is not None:
        division = divisions[division.parent]
    return division.code


def _match_recoded(
    new: list[Division], gone: list[Known], divisions: dict[str, Division], known
) -> dict[str, Known]:
    """New code → the gone hall it continues: same level, same place name, same city, and the
    only such pair."""
    if not new or not gone:
        return {}
    centre_of_tree = {hall.tree_id: code for code, hall in known.items() if hall.level == 0}
    centre_of_tree.update(
        Hall.objects.filter(
            level=0, tree_id__in={h.tree_id for h in gone} - set(centre_of_tree)
        ).values_list("tree_id", "code")
    )
    new_by_key: dict[tuple, list[Division]] = defaultdict(list)
    for division in new:
        if division.level:
            key = (division.level, division.locality, _centre_code(division, divisions))
            new_by_key[key].append(division)
    gone_by_key: dict[tuple, list[Known]] = defaultdict(list)
    for hall in gone:
        if hall.level and hall.status != HallStatus.CLOSED:
            gone_by_key[(hall.level, hall.locality, centre_of_tree.get(hall.tree_id))].append(hall)
    matched = {}
    for key, halls in gone_by_key.items():
        candidates = new_by_key.get(key, [])
        if len(halls) == 1 and len(candidates) == 1:
            matched[candidates[0].code] = halls[0]
    return matched


def describe(plan: Plan, *, first: int = 10) -> Iterator[str]:
    """The plan as lines for a person: counts, then the first rows of each kind."""
    labels = kind_labels()
    counts = plan.counts()
    yield (
        _("版本 %(year)s:") % {"year": plan.edition}
        + "、".join(f"{labels[kind]} {counts[kind]}" for kind in KINDS)
        + _(",未变 %(n)s;未导入的统计用虚拟社区 %(p)s 个。")
        % {
            "n": plan.unchanged,
            "p": plan.placeholders,
        }
    )
    old_parent = plan.old_parent_code
    for kind in KINDS:
        rows = plan.changes[kind]
        if not rows:
            continue
        yield f"{labels[kind]}({len(rows)}):"
        for change in rows[:first]:
            level = KIND_BY_LEVEL[change.level].label
            if kind == "new":
                detail = _("上级 %(p)s") % {"p": change.parent} if change.parent else ""
            elif kind == "renamed":
                detail = f"{change.hall.locality} → {change.locality}"
            elif kind == "recoded":
                detail = f"{change.hall.code} → {change.code}"
            elif kind == "moved":
                detail = _("上级 %(old)s → %(new)s") % {
                    "old": old_parent.get(change.hall.parent_id, "?"),
                    "new": change.parent,
                }
            else:
                detail = ""
            yield f"  {change.code} {change.locality}({level}) {detail}".rstrip()
        if len(rows) > first:
            yield _("  …… 另有 %(n)s 条") % {"n": len(rows) - first}


@dataclass
class Applied:
    counts: Counter = field(default_factory=Counter)
    trees_loaded: int = 0
    shifted: int = 0  # points that found their branch's room used up (placed by the services)


@transaction.atomic
def apply_update(plan: Plan) -> Applied:
    """Apply ``plan``; all of it or, on any error, nothing. Every touched tree is locked once,
    first. Thousands of changes a year are written in batches: points (leaves) are created and
    moved into their branch's room (``services.TREE_ROOM``) with one statement per batch, as
    ``hall_create`` places one; place names, codes and status by ``bulk_update``; the plaques of
    every renamed subtree by ``services.plaques_refresh``. What needs the tree renumbered (a
    branch whose room is used up, a township or county that moves) goes through
    ``hall_create``/``hall_move`` one at a time."""
    applied = Applied()
    if plan.empty:
        return applied
    changes = plan.changes
    pk_of = dict(plan.pk_of)
    trees = {c.hall.tree_id for rows in changes.values() for c in rows if c.hall is not None}
    parents = [pk_of[c.parent] for c in changes["new"] if c.parent in pk_of]
    for start in range(0, len(parents), 5000):
        chunk = parents[start : start + 5000]
        trees.update(Hall.objects.filter(pk__in=chunk).values_list("tree_id", flat=True))
    services.lock_trees(*trees)
    _create(plan, pk_of, applied)
    moved_points = [c for c in changes["moved"] if c.level == len(KIND_BY_LEVEL) - 1]
    for change in sorted(changes["moved"], key=lambda c: c.level):
        if change.level < len(KIND_BY_LEVEL) - 1:
            services.hall_move(
                hall=Hall.objects.get(pk=change.hall.pk),
                new_parent=Hall.objects.get(pk=pk_of[change.parent]),
            )
    _place_points(
        [(Hall(pk=c.hall.pk, locality=c.hall.locality), pk_of[c.parent]) for c in moved_points],
        applied,
        year=plan.edition,
    )
    _edit(plan)
    for kind in KINDS:
        applied.counts[kind] = len(changes[kind])
    return applied


def _edit(plan: Plan) -> None:
    """Codes, place names, names and status in batches; then the renamed subtrees' plaques."""
    edits: dict[int, dict] = defaultdict(dict)
    changes = plan.changes
    for change in changes["recoded"]:
        edits[change.hall.pk]["code"] = change.code
    for change in changes["renamed"]:
        hall = change.hall
        edits[hall.pk]["locality"] = change.locality
        kind = KIND_BY_LEVEL[hall.level]
        if hall.name == hall_name(kind, hall.locality):  # staff did not rename it
            edits[hall.pk]["name"] = hall_name(kind, change.locality)
    for change in changes["reopened"]:
        edits[change.hall.pk]["status"] = HallStatus.OPEN
    for change in changes["closed"]:
        edits[change.hall.pk]["status"] = HallStatus.CLOSED
    for change in changes["moved"]:
        edits[change.hall.pk]  # noqa: B018 (a moved hall takes the edition's year too)
    now = timezone.now()
    groups: dict[tuple, list[Hall]] = defaultdict(list)
    for pk, fields in edits.items():
        row = Hall(pk=pk, division_year=plan.edition, updated_at=now, **fields)
        groups[tuple(sorted(fields))].append(row)
    for names, rows in groups.items():
        Hall.objects.bulk_update(rows, [*names, "division_year", "updated_at"], batch_size=BATCH)
    renamed = [c.hall.pk for c in changes["renamed"]]
    halls = []
    for start in range(0, len(renamed), 5000):
        chunk = renamed[start : start + 5000]
        halls.extend(Hall.objects.filter(pk__in=chunk).only("pk", "tree_id", "level"))
    if halls:
        services.plaques_refresh(halls=halls)


BATCH = 1000


def _create(plan: Plan, pk_of: dict[str, int], applied: Applied) -> None:
    """Whole new cities in one bulk load; new counties and townships through ``hall_create``,
    parents first; new villages into their branches' room in batches. ``pk_of`` learns each
    new hall that may be a parent."""
    new = plan.changes["new"]
    if not new:
        return
    children: dict[str | None, list[Change]] = defaultdict(list)
    for change in new:
        children[change.parent].append(change)
    in_trees: set[str] = set()

    def tree(change: Change) -> NewHall:
        in_trees.add(change.code)
        kind = KIND_BY_LEVEL[change.level]
        return NewHall(
            name=hall_name(kind, change.locality),
            locality=change.locality,
            code=change.code,
            division_year=plan.edition,
            children=[tree(child) for child in children.get(change.code, [])],
        )

    if children.get(None):
        result = bulk_load(tree(root) for root in children[None])
        applied.trees_loaded = result.trees
        # Halls that move into a new city's tree need their new parent's pk.
        wanted = sorted({c.parent for c in plan.changes["moved"]} & in_trees)
        pk_of.update(Hall.objects.filter(code__in=wanted).values_list("code", "pk"))
    rest = sorted((c for c in new if c.code not in in_trees), key=lambda c: c.level)
    last = len(KIND_BY_LEVEL) - 1
    for change in rest:
        if change.level == last:
            continue
        kind = KIND_BY_LEVEL[change.level]
        hall = services.hall_create(
            parent=Hall.objects.get(pk=pk_of[change.parent]),
            name=hall_name(kind, change.locality),
            locality=change.locality,
            code=change.code,
        )
        Hall.objects.filter(pk=hall.pk).update(division_year=plan.edition)
        pk_of[change.code] = hall.pk
    points = [
        (
            Hall(
                name=hall_name(KIND_BY_LEVEL[last], c.locality),
                locality=c.locality,
                code=c.code,
                division_year=plan.edition,
            ),
            pk_of[c.parent],
        )
        for c in rest
        if c.level == last
    ]
    _place_points(points, applied, year=plan.edition)


def _place_points(items: list[tuple[Hall, int]], applied: Applied, *, year: int) -> None:
    """Put each point (a new ``Hall`` without a pk, or an existing one to move) under the
    branch whose pk it is paired with, after that branch's last child, in its room: new ones by
    ``bulk_create``, moved ones by ``bulk_update``, the tree numbers, stored ancestors and
    plaque set as ``hall_create`` sets them. A point whose branch has no room left goes through
    ``hall_create``/``hall_move``, which shift the tree, after the batch is written (their
    shifts move the batch's rows with everything else)."""
    if not items:
        return
    branch_ids = sorted({pk for _hall, pk in items})
    branches, last_child, places = {}, {}, {}
    for start in range(0, len(branch_ids), 5000):
        chunk = branch_ids[start : start + 5000]
        for branch in Hall.objects.filter(pk__in=chunk).select_related("main_hall"):
            branches[branch.pk] = branch
        last_child.update(
            Hall.objects.filter(parent_id__in=chunk)
            .values("parent_id")
            .annotate(m=Max("rght"))
            .values_list("parent_id", "m")
            .order_by()
        )
    tree_ids = {b.tree_id for b in branches.values()}
    for root in Hall.objects.filter(level=0, tree_id__in=tree_ids).select_related("naming_scheme"):
        places[root.tree_id] = (root.locality, root.naming_scheme or NamingScheme.default())
    span = services.tree_span(HallKind.POINT)
    created, moved, overflow = [], [], []
    for hall, branch_id in items:
        branch = branches[branch_id]
        lft = last_child.get(branch_id, branch.lft) + 1
        if lft + span > branch.rght:
            overflow.append((hall, branch))
            continue
        last_child[branch_id] = lft + span - 1
        city, scheme = places[branch.tree_id]
        hall.lft, hall.rght, hall.level, hall.tree_id = (
            lft,
            lft + span - 1,
            branch.level + 1,
            branch.tree_id,
        )
        hall.parent_id, hall.kind = branch.pk, HallKind.POINT
        hall.main_hall_id, hall.branch_hall_id = branch.main_hall_id, branch.pk
        hall.plaque_name = plaque_name_for(
            scheme=scheme,
            localities=[city, branch.main_hall.locality, branch.locality, hall.locality],
            parent_plaque=branch.plaque_name,
        )
        (moved if hall.pk else created).append(hall)
    Hall.objects.bulk_create(created, batch_size=BATCH)
    Hall.objects.bulk_update(moved, PLACED, batch_size=BATCH)
    for hall in moved:
        hall_moved.send(sender=Hall, hall=Hall.objects.get(pk=hall.pk))
    for hall, branch in overflow:
        applied.shifted += 1
        if hall.pk:
            services.hall_move(hall=Hall.objects.get(pk=hall.pk), new_parent=branch)
        else:
            made = services.hall_create(
                parent=branch, name=hall.name, locality=hall.locality, code=hall.code
            )
            Hall.objects.filter(pk=made.pk).update(division_year=year)


PLACED = [
    "lft",
    "rght",
    "level",
    "tree_id",
    "parent",
    "main_hall",
    "branch_hall",
    "plaque_name",
]
