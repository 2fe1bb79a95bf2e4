"""Reads of the hall tree, and the scope every staff list is filtered by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from . import naming
from .models import Hall, HallKind, HallStatus, Membership, NamingScheme, Role, subtree_q


@dataclass(frozen=True)
class Scope:
    """The subtrees a staff account may see. ``everything`` for superusers."""

    everything: bool
    ranges: tuple[tuple[int, int, int], ...]  # (tree_id, lft, rght) of each membership hall
    read_only: bool
    # The trees whose centre hall (the root, lft 1) the account holds a post at, and whether
    # one of those posts there may write (is not an official's).
    centre_posts: tuple[tuple[int, bool], ...] = ()

    def q(self, prefix: str = "") -> Q:
        """A filter for a model whose hall is reached through ``prefix`` (e.g. ``"hall__"``)."""
        if self.everything:
            return Q()
        if not self.ranges:
            return Q(pk__in=[])
        q = Q()
        for tree_id, lft, rght in self.ranges:
            q |= Q(
                **{
                    f"{prefix}tree_id": tree_id,
                    f"{prefix}lft__gte": lft,
                    f"{prefix}rght__lte": rght,
                }
            )
        return q

    def covers(self, hall: Hall) -> bool:
        if self.everything:
            return True
        return any(
            hall.tree_id == t and l_ <= hall.lft and hall.rght <= r for t, l_, r in self.ranges
        )

    def covers_strictly(self, hall: Hall) -> bool:
        """True when ``hall`` lies below (not at) one of the scope's halls: the halls an
        account may score or approve."""
        if self.everything:
            return True
        return any(
            hall.tree_id == t and l_ < hall.lft and hall.rght < r for t, l_, r in self.ranges
        )


def user_scope(user) -> Scope:
    """The account's scope, computed once per request (cached on the user object)."""
    cached = getattr(user, "_portal_scope", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        scope = Scope(everything=False, ranges=(), read_only=True)
    elif user.is_superuser:
        scope = Scope(everything=True, ranges=(), read_only=False)
    else:
        rows = list(
            Membership.objects.filter(user=user).values_list(
                "hall__tree_id", "hall__lft", "hall__rght", "role"
            )
        )
        centres: dict[int, bool] = {}
        for tree_id, lft, _rght, role in rows:
            if lft == 1:
                centres[tree_id] = centres.get(tree_id, False) or role != Role.OFFICIAL
        scope = Scope(
            everything=False,
            ranges=tuple((t, l_, r) for t, l_, r, _role in rows),
            read_only=bool(rows) and all(role == Role.OFFICIAL for *_x, role in rows),
            centre_posts=tuple(sorted(centres.items())),
        )
    user._portal_scope = scope
    return scope


def halls_in_scope(user) -> QuerySet[Hall]:
    return Hall.objects.filter(user_scope(user).q())


def hall_subtree(hall: Hall | int, *, include_self: bool = True) -> QuerySet[Hall]:
    """A hall's subtree, given the hall or its id (then in one query: subqueries on its row)."""
    qs = Hall.objects.filter(subtree_q(hall))
    if not include_self:
        qs = qs.exclude(pk=hall if isinstance(hall, int) else hall.pk)
    return qs


def hall_ancestors(hall: Hall) -> QuerySet[Hall]:
    return Hall.objects.filter(
        tree_id=hall.tree_id, lft__lte=hall.lft, rght__gte=hall.rght
    ).order_by("lft")


# --- Naming: what a tree calls its levels. One query for the roots of the trees asked about
# (none when the halls are those roots with their scheme joined in), and one for the default
# scheme only if some tree names none.


def tree_schemes(tree_ids: Iterable[int]) -> dict[int, NamingScheme]:
    """Each tree's naming scheme (the default where its root names none)."""
    roots = (
        Hall.objects.filter(parent__isnull=True, tree_id__in=sorted(set(tree_ids)))
        .select_related("naming_scheme")
        .only("tree_id", "naming_scheme")
    )
    return _with_default({root.tree_id: root.naming_scheme for root in roots})


def _with_default(found: dict[int, NamingScheme | None]) -> dict[int, NamingScheme]:
    default = None
    if any(scheme is None for scheme in found.values()):
        default = NamingScheme.default()
    return {tree_id: scheme or default for tree_id, scheme in found.items()}


def attach_schemes(halls: Iterable[Hall]) -> list[Hall]:
    """``halls`` with their tree's scheme as ``tree_scheme``, so that ``hall.level_name`` says
    what the tree calls the hall's level (支馆 in a 澄江 tree)."""
    halls = list(halls)
    known = {}
    for hall in halls:
        root = _loaded_root(hall)
        if root is not None:
            known[hall.tree_id] = root.naming_scheme
    missing = {hall.tree_id for hall in halls} - set(known)
    schemes = {**_with_default(known), **(tree_schemes(missing) if missing else {})}
    default = None
    for hall in halls:
        scheme = schemes.get(hall.tree_id)
        if scheme is None:  # a tree that lost its root: name it by the default
            default = default or NamingScheme.default()
            scheme = default
        hall.tree_scheme = scheme
    return halls


def scheme_tree_ids(scheme: NamingScheme) -> list[int]:
    """The trees that use ``scheme``: those whose root names it, and for the default scheme
    those whose root names none."""
    roots = Hall.objects.filter(parent__isnull=True)
    if scheme.code == naming.DEFAULT_CODE:
        roots = roots.filter(Q(naming_scheme=scheme) | Q(naming_scheme__isnull=True))
    else:
        roots = roots.filter(naming_scheme=scheme)
    return list(roots.order_by("tree_id").values_list("tree_id", flat=True))


def _loaded_root(hall: Hall) -> Hall | None:
    """``hall``'s root with its scheme, if a select_related already loaded them."""
    node = hall
    while node.parent_id is not None and Hall.parent.is_cached(node):
        node = node.parent
    if node.parent_id is None and Hall.naming_scheme.is_cached(node):
        return node
    return None


# --- The public directory. Each read below is one query whatever the size of the tree: the
# breadcrumbs come from joining the parent chain (at most three levels up), child counts from an
# aggregate, so a page never issues a query per row.

# The parent chain (three levels up at most), with each level's naming scheme (only the root
# names one), so that the tree's level names come in the same query.
DIRECTORY_JOINS = [
    "naming_scheme",
    "parent__naming_scheme",
    "parent__parent__naming_scheme",
    "parent__parent__parent__naming_scheme",
]


def directory_cities() -> QuerySet[Hall]:
    """City centre halls, each with ``child_count`` (its counties)."""
    return (
        Hall.objects.filter(level=0)
        .select_related("naming_scheme")
        .annotate(child_count=Count("children"))
        .order_by("tree_id")
    )


def directory_counties() -> QuerySet[Hall]:
    """County main halls in tree order, with their city joined in and ``child_count``."""
    return (
        Hall.objects.filter(level=1)
        .select_related("parent")
        .annotate(child_count=Count("children"))
        .order_by("tree_id", "lft")
    )


def directory_hall(hall_id: int) -> Hall:
    """A hall with its whole ancestor chain joined in; raises ``Hall.DoesNotExist``."""
    return Hall.objects.select_related(*DIRECTORY_JOINS).get(pk=hall_id)


def directory_children(hall: Hall) -> QuerySet[Hall]:
    """A hall's direct children in tree order, each with ``child_count``."""
    return Hall.objects.filter(parent=hall).annotate(child_count=Count("children")).order_by("lft")


def directory_search(query: str) -> QuerySet[Hall]:
    """Halls whose name, plaque or locality contains ``query``, with their ancestor chain."""
    query = query.strip()
    return (
        Hall.objects.filter(
            Q(name__icontains=query)
            | Q(plaque_name__icontains=query)
            | Q(locality__icontains=query)
        )
        .select_related(*DIRECTORY_JOINS)
        .order_by("tree_id", "lft")
    )


def hall_chain(hall: Hall) -> list[Hall]:
    """The ancestors of a hall loaded by ``directory_hall``/``directory_search``, root first.

    Walks the joined parent chain, so it makes no query."""
    chain: list[Hall] = []
    node = hall.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    chain.reverse()
    return chain


def staffing_shortfalls(*, scope: Scope, min_branch: int, min_point: int) -> QuerySet[Hall]:
    """Open branches with fewer than ``min_branch`` staff, and open points with fewer than
    ``min_point`` posts (a public-welfare post or a village manager), in one query.

    Officials' memberships are not staff of the hall and are not counted."""
    staff = Membership.objects.filter(hall=OuterRef("pk")).exclude(role=Role.OFFICIAL)
    posts = staff.filter(Q(public_welfare_post=True) | Q(role=Role.VILLAGE_MANAGER))

    def count(memberships):
        counted = memberships.order_by().values("hall").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    return (
        Hall.objects.filter(scope.q(), status=HallStatus.OPEN)
        .filter(kind__in=[HallKind.BRANCH, HallKind.POINT])
        .annotate(staff_count=count(staff), post_count=count(posts))
        .filter(
            Q(kind=HallKind.BRANCH, staff_count__lt=min_branch)
            | Q(kind=HallKind.POINT, post_count__lt=min_point)
        )
        .select_related("main_hall")
        .order_by("tree_id", "lft")
    )
