"""Reads of the hall tree, and the scope every staff list is filtered by."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from common.workdays import is_public_holiday

from . import naming
from .models import (
    Hall,
    HallClosure,
    HallStatus,
    Membership,
    NamingScheme,
    OpeningHours,
    Role,
    Weekday,
    subtree_q,
)
from .search import MATCHES_IN_TREE_ORDER, SEARCH_FIELDS, name_search_q


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


def person_name(user) -> str:
    """How a staff account is named to people: the name on the account (姓名), or else its
    username; "" for none (a step the system took)."""
    if user is None:
        return ""
    name = f"{user.last_name}{user.first_name}".strip()
    return name or user.get_username()


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
    # A root's lft is 1: the tree index finds each (0.2 ms for three trees of the national
    # network) where the parent index read all 330 roots (2.4 ms).
    roots = (
        Hall.objects.filter(parent__isnull=True, lft=1, tree_id__in=sorted(set(tree_ids)))
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


# A search result's own fields that the page shows (name, level, status), its ancestors' place
# names, and what it takes to walk up to the root and name the levels as the tree does. The
# parent chain is joined, and the scheme only at the third ancestor: the root of a service
# point, which most matches are (a result higher up has its tree's scheme read by
# ``attach_schemes``, one more query). Joining the scheme at every level as ``DIRECTORY_JOINS``
# does took PostgreSQL 3.6-4.9 ms to plan on the national network, against 1.3 ms for this.
SEARCH_RESULT_JOIN = "parent__parent__parent__naming_scheme"
SEARCH_RESULT_FIELDS = (
    "name",
    "kind",
    "status",
    "tree_id",
    "parent",
    *(
        f"{up}__{field}"
        for up in ("parent", "parent__parent", "parent__parent__parent")
        for field in ("locality", "parent")
    ),
    *(f"{SEARCH_RESULT_JOIN}__{level}_name" for level in ("centre", "main", "branch", "point")),
)


def directory_search(query: str) -> QuerySet[Hall]:
    """Halls whose name, plaque or locality contains ``query`` in any of its forms
    (``network.search.query_forms``: 第一 finds 第1), with their ancestor chain
    (``SEARCH_RESULT_FIELDS`` only)."""
    condition = name_search_q(query, SEARCH_FIELDS)
    if condition is None:
        return Hall.objects.none()
    return (
        Hall.objects.filter(condition)
        .select_related(SEARCH_RESULT_JOIN)
        .only(*SEARCH_RESULT_FIELDS)
        .order_by(*MATCHES_IN_TREE_ORDER)
    )


def search_results(ids: QuerySet) -> QuerySet[Hall]:
    """The halls of a search page whose ids ``ids`` holds (a page of ``directory_search``, chosen
    by ``network.search.SearchPaginator``), with their ancestor chain, in tree order: the order
    by ``tree_id + 0`` so that the planner reads them by id rather than walking the tree."""
    return (
        Hall.objects.filter(pk__in=ids)
        .select_related(SEARCH_RESULT_JOIN)
        .only(*SEARCH_RESULT_FIELDS)
        .order_by(*MATCHES_IN_TREE_ORDER)
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


def with_staff_accounts(halls: QuerySet[Hall]) -> QuerySet[Hall]:
    """``halls`` with the platform's accounts of each: ``account_staff``, the staff
    memberships (officials of the bureau are not staff of the hall), and ``account_posts``, the
    public-welfare posts and village managers among them. Accounts are a second signal beside
    the 编制 and 公益岗位 a hall reports in its asset return (``evaluation.returns.selectors
    .staffing``): a hall's staff need not all have an account."""
    staff = Membership.objects.filter(hall=OuterRef("pk")).exclude(role=Role.OFFICIAL)
    posts = staff.filter(Q(public_welfare_post=True) | Q(role=Role.VILLAGE_MANAGER))

    def count(memberships):
        counted = memberships.order_by().values("hall").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    return halls.annotate(account_staff=count(staff), account_posts=count(posts))


# --- Opening hours. "Open now" and "next opening" are read here and only here: the hall page,
# the activity page and anything else ask ``hall_opening``. Two queries (the weekly ranges and
# the closure dates ahead) whatever the hall.

# How far ahead "next opening" looks; a hall closed for longer just says closed.
OPENING_HORIZON_DAYS = 21
UPCOMING_CLOSURES = 5


@dataclass(frozen=True)
class Opening:
    """A hall's week and its state at ``now`` (Beijing time)."""

    # (label, ranges): Monday to Sunday, then the public holidays' row
    week: list[tuple[str, list[tuple[time, time]]]]
    has_hours: bool
    is_open: bool
    closes_at: datetime | None  # when open: the end of the current range
    next_open: datetime | None  # when closed: the start of the next range within the horizon
    closed_today: str  # why today is not an ordinary day and has no hours (holiday, closure)
    closures: list[HallClosure]  # the hall's own closure dates ahead


def _day_ranges(
    day: date, ranges: dict[int, list[tuple[time, time]]], closures: dict[date, HallClosure]
) -> tuple[list[tuple[time, time]], str]:
    """The ranges the hall keeps on ``day``, and why that day is not an ordinary one: a closure
    date closes it; a public holiday keeps the hall's holiday ranges (none: closed)."""
    if day in closures:
        return [], closures[day].reason or _("临时闭馆")
    if is_public_holiday(day):
        return ranges[Weekday.HOLIDAY], _("法定节假日闭馆")
    return ranges[day.weekday()], ""


def hall_opening(hall: Hall, *, now: datetime | None = None) -> Opening:
    """The hall's weekly hours, whether it is open at ``now`` and when it next opens. On public
    holidays (the working-day calendar) it keeps its holiday ranges, closed when it has none;
    its own closure dates are closed."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    ranges: dict[int, list[tuple[time, time]]] = {day: [] for day in Weekday.values}
    for weekday, opens, closes in OpeningHours.objects.filter(hall=hall).values_list(
        "weekday", "opens", "closes"
    ):
        ranges[weekday].append((opens, closes))
    closures = {
        c.date: c
        for c in HallClosure.objects.filter(
            hall=hall, date__gte=today, date__lte=today + timedelta(days=OPENING_HORIZON_DAYS)
        )
    }
    week = [(Weekday(day).label, sorted(ranges[day])) for day in Weekday.values]
    has_hours = any(ranges.values())
    today_ranges, today_reason = _day_ranges(today, ranges, closures)
    is_open, closes_at, next_open = False, None, None
    if has_hours and hall.status == HallStatus.OPEN:
        for offset in range(OPENING_HORIZON_DAYS + 1):
            day = today + timedelta(days=offset)
            for opens, closes in sorted(_day_ranges(day, ranges, closures)[0]):
                start = timezone.make_aware(datetime.combine(day, opens))
                end = timezone.make_aware(datetime.combine(day, closes))
                if start <= now < end:
                    is_open, closes_at = True, end
                    break
                if now < start:
                    next_open = start
                    break
            if is_open or next_open:
                break
    return Opening(
        week=week,
        has_hours=has_hours,
        is_open=is_open,
        closes_at=closes_at,
        next_open=next_open,
        closed_today=today_reason if not today_ranges else "",
        closures=list(closures.values())[:UPCOMING_CLOSURES],
    )
