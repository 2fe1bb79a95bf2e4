"""The public hall directory: city → county → township → village, on a phone first.

Each page makes a fixed number of queries whatever the size of the tree (see the selectors).
"""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import KIND_BY_LEVEL, Hall, HallKind
from .navigation import map_links
from .search import SearchPaginator
from .selectors import (
    attach_schemes,
    directory_children,
    directory_cities,
    directory_hall,
    directory_search,
    hall_chain,
    hall_opening,
    search_results,
)

CITIES_PER_PAGE = 50
CHILDREN_PER_PAGE = 50
RESULTS_PER_PAGE = 20
# Longer queries are cut: nobody types more to find a hall, and it bounds the LIKE pattern.
QUERY_MAX_LENGTH = 60


def hall_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(directory_cities(), CITIES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = attach_schemes(page.object_list)  # joined in: no query
    return render(request, "network/hall_list.html", {"page": page})


def hall_detail(request: HttpRequest, hall_id: int) -> HttpResponse:
    try:
        hall = directory_hall(hall_id)
    except Hall.DoesNotExist:
        raise Http404(_("没有这个场馆。")) from None
    # A service point is the last level: asking for its children would only cost two queries.
    page = None
    child_level_name = None
    scheme = attach_schemes([hall])[0].tree_scheme
    if hall.kind != HallKind.POINT:
        page = Paginator(directory_children(hall), CHILDREN_PER_PAGE).get_page(
            request.GET.get("page")
        )
        page.object_list = list(page.object_list)
        for child in page.object_list:
            child.tree_scheme = scheme  # the same tree
        child_level_name = scheme.level_name(KIND_BY_LEVEL[hall.level + 1])
    return render(
        request,
        "network/hall_detail.html",
        {
            "hall": hall,
            "chain": hall_chain(hall),
            "page": page,
            "child_level_name": child_level_name,
            "tel": re.sub(r"[^0-9+]", "", hall.phone),
            "opening": hall_opening(hall),
            "map_links": map_links(hall),
            "share_url": request.build_absolute_uri(reverse("network:hall_detail", args=[hall.pk])),
        },
    )


def hall_search(request: HttpRequest) -> HttpResponse:
    # PostgreSQL refuses NUL in a string literal; a name never contains one.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:QUERY_MAX_LENGTH]
    page = None
    # Each result with where it is (its ancestors' place names) and its link, made here: the
    # template's {% url %} and loop over the chain took a fifth of the page's rendering.
    results: list[tuple[Hall, str, str]] = []
    if query:
        page = SearchPaginator(
            directory_search(query), RESULTS_PER_PAGE, query=query, rows=search_results
        ).get_page(request.GET.get("page"))
        results = [
            (
                hall,
                " › ".join(up.locality for up in hall_chain(hall)),
                reverse("network:hall_detail", args=[hall.pk]),
            )
            for hall in attach_schemes(page)
        ]
    return render(
        request,
        "network/hall_search.html",
        {"query": query, "page": page, "results": results},
    )
