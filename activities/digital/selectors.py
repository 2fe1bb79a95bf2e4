"""Reads of the digital culture hall: what residents browse, and the year's figure."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from network.models import subtree_q

from .models import Kind, Resource, Use


def resources_public(
    *,
    within: int | None = None,
    kind: str | None = None,
    topic: str | None = None,
    query: str = "",
    hall: int | None = None,
) -> QuerySet[Resource]:
    """Published resources, newest first, with their hall (one query): under the hall with id
    ``within``, of one ``kind`` or ``topic``, whose title, summary or tags hold ``query``."""
    qs = Resource.objects.filter(status=Resource.Status.PUBLISHED)
    if within is not None:
        qs = qs.filter(subtree_q(within, through="hall"))
    if hall is not None:
        qs = qs.filter(hall_id=hall)
    if kind:
        qs = qs.filter(kind=kind)
    if topic:
        qs = qs.filter(topic=topic)
    return search(qs, query).select_related("hall").order_by("-published_at", "-pk")


def search(qs: QuerySet[Resource], query: str) -> QuerySet[Resource]:
    """The resources whose title, summary or tags hold every word of ``query`` (five at most)."""
    for word in query.split()[:5]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(tags__icontains=word)
        )
    return qs


def live_streams(*, within: int | None = None, now: datetime | None = None) -> list[Resource]:
    """Published live streams on now or starting within two weeks, soonest first."""
    now = now or timezone.now()
    qs = resources_public(within=within, kind=Kind.LIVE).filter(
        Q(live_end__isnull=True) | Q(live_end__gt=now),
        live_start__lt=now + timedelta(days=14),
    )
    return list(qs.order_by("live_start")[:6])


def resource_public(resource_id: int) -> Resource | None:
    return (
        Resource.objects.filter(pk=resource_id, status=Resource.Status.PUBLISHED)
        .select_related("hall")
        .first()
    )


def online_services(*, hall_id: int, start: date, end: date) -> int:
    """线上服务人次 of a hall: the plays of its resources on the days from ``start`` to before
    ``end`` (one query)."""
    return (
        Use.objects.filter(resource__hall_id=hall_id, day__gte=start, day__lt=end).aggregate(
            n=Sum("plays")
        )["n"]
        or 0
    )
