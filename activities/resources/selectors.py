"""Reads of the resource catalogue and of dispatches."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from network.models import subtree_q
from network.selectors import Scope

from .models import Dispatch, Resource, ResourceKind

# What residents see of the catalogue: the teams and the venues of their area.
PUBLIC_RESOURCE_KINDS = (ResourceKind.TEAM, ResourceKind.VENUE)
# A dispatch concerns three halls; staff of any of them see it.
DISPATCH_HALL_PATHS = ("requesting_hall", "resource__hall", "approver_hall")


def scope_trees(scope: Scope) -> list[int]:
    """The city trees the scope lies in."""
    return sorted({tree_id for tree_id, _lft, _rght in scope.ranges})


def resource_catalogue(scope: Scope) -> QuerySet[Resource]:
    """The catalogue an account reads: every resource of the city trees its scope lies in, so
    that halls can ask each other for things. Changing an entry stays with the owner's scope."""
    qs = Resource.objects.select_related("hall")
    if scope.everything:
        return qs
    return qs.filter(hall__tree_id__in=scope_trees(scope))


def resources_public(*, within: int | None = None, kind: str | None = None) -> QuerySet[Resource]:
    """Public, active teams and venues, under the hall with id ``within`` when given; one query
    with the hall (the subtree's range is read in a subquery)."""
    qs = Resource.objects.filter(public=True, active=True, kind__in=PUBLIC_RESOURCE_KINDS)
    if within is not None:
        qs = qs.filter(subtree_q(within, through="hall"))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("hall").order_by("kind", "hall__tree_id", "hall__lft", "catalogue_no")


def dispatches_visible(scope: Scope) -> QuerySet[Dispatch]:
    """Dispatches whose requesting, owning or approving hall lies in the scope."""
    qs = Dispatch.objects.select_related(
        "resource", "resource__hall", "requesting_hall", "approver_hall", "decided_by"
    )
    if scope.everything:
        return qs
    q = Q()
    for path in DISPATCH_HALL_PATHS:
        q |= scope.q(f"{path}__")
    return qs.filter(q)


def resource_busy_periods(resource_id: int, *, since: datetime) -> list[Dispatch]:
    """The resource's approved, handed-over and requested periods that end after ``since``,
    in time order: what a hall checks before asking for it."""
    return list(
        Dispatch.objects.filter(
            resource_id=resource_id,
            status__in=(*Dispatch.LIVE, Dispatch.Status.REQUESTED),
            end__gt=since,
        )
        .select_related("requesting_hall")
        .order_by("start", "pk")
    )


def dispatches_todo(scope: Scope) -> dict[str, int]:
    """The dispatches waiting for the scope's staff, in one query: requests its approving halls
    must decide, and approved loans its owning halls must hand over (``Dispatch.STEP_HALL``)."""
    step_hall = Dispatch.STEP_HALL
    approve = scope.q(f"{step_hall[Dispatch.Step.APPROVE]}__") & Q(
        status__in=Dispatch.statuses_allowing(Dispatch.Step.APPROVE)
    )
    hand_over = scope.q(f"{step_hall[Dispatch.Step.HAND_OVER]}__") & Q(
        status__in=Dispatch.statuses_allowing(Dispatch.Step.HAND_OVER)
    )
    return Dispatch.objects.filter(approve | hand_over).aggregate(
        approve=Count("pk", filter=approve), hand_over=Count("pk", filter=hand_over)
    )
