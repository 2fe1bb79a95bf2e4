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
from django.utils.translation import gettext as _

from . import services
from .bulk import NewHall, bulk_load
from .divisions import Division, DivisionError, Edition, EditionRejected, hall_name
from .models import KIND_BY_LEVEL, Hall, HallStatus

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


@transaction.atomic
def apply_update(plan: Plan) -> Applied:
    """Apply ``plan``; all of it or, on any error, nothing."""
    applied = Applied()
    if plan.empty:
        return applied
    year = plan.edition
    touched_trees = {
        c.hall.tree_id for rows in plan.changes.values() for c in rows if c.hall is not None
    }
    pk_of = dict(plan.pk_of)
    parents_of_new = {c.parent for c in plan.changes["new"]}
    touched_trees.update(
        Hall.objects.filter(pk__in=[pk_of[p] for p in parents_of_new if p in pk_of]).values_list(
            "tree_id", flat=True
        )
    )
    services.lock_trees(*touched_trees)
    _create(plan, pk_of, applied)
    for change in sorted(plan.changes["moved"], key=lambda c: c.level):
        services.hall_move(
            hall=Hall.objects.get(pk=change.hall.pk),
            new_parent=Hall.objects.get(pk=pk_of[change.parent]),
        )
    edits: dict[int, dict] = defaultdict(dict)
    for change in plan.changes["recoded"]:
        edits[change.hall.pk]["code"] = change.code
    for change in plan.changes["renamed"]:
        hall = change.hall
        edits[hall.pk]["locality"] = change.locality
        kind = KIND_BY_LEVEL[hall.level]
        if hall.name == hall_name(kind, hall.locality):  # staff did not rename it
            edits[hall.pk]["name"] = hall_name(kind, change.locality)
    for change in plan.changes["reopened"]:
        edits[change.hall.pk]["status"] = HallStatus.OPEN
    for change in plan.changes["closed"]:
        edits[change.hall.pk]["status"] = HallStatus.CLOSED
    for pk, fields in edits.items():
        hall = Hall.objects.only("pk", "tree_id").get(pk=pk)
        services.hall_update(hall=hall, **fields)
    touched = set(edits) | {c.hall.pk for c in plan.changes["moved"]}
    touched = sorted(touched)
    for start in range(0, len(touched), 5000):
        Hall.objects.filter(pk__in=touched[start : start + 5000]).update(division_year=year)
    for kind in KINDS:
        applied.counts[kind] = len(plan.changes[kind])
    return applied


def _create(plan: Plan, pk_of: dict[str, int], applied: Applied) -> None:
    """Whole new cities in one bulk load, every other new hall through ``hall_create``, parents
    first; ``pk_of`` learns each new hall."""
    new = plan.changes["new"]
    if not new:
        return
    children: dict[str | None, list[Change]] = defaultdict(list)
    for change in new:
        children[change.parent].append(change)
    roots = children.get(None, [])
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

    if roots:
        result = bulk_load(tree(root) for root in roots)
        applied.trees_loaded = result.trees
        loaded = [c.code for c in new if c.code in in_trees]
        for start in range(0, len(loaded), 5000):
            pk_of.update(
                Hall.objects.filter(code__in=loaded[start : start + 5000]).values_list("code", "pk")
            )
    for change in sorted(new, key=lambda c: c.level):
        if change.code in in_trees:
            continue
        if change.parent not in pk_of:  # its parent is new too and comes first by level
            raise AssertionError(f"parent {change.parent} of {change.code} not created")
        parent = Hall.objects.get(pk=pk_of[change.parent])
        kind = KIND_BY_LEVEL[change.level]
        hall = services.hall_create(
            parent=parent,
            name=hall_name(kind, change.locality),
            locality=change.locality,
            code=change.code,
        )
        Hall.objects.filter(pk=hall.pk).update(division_year=plan.edition)
        pk_of[change.code] = hall.pk
