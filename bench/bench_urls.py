"""The portal's routes, plus ``/bench/bare/`` when ``BENCH_BARE_VIEW=1`` (see bench_settings)."""

from __future__ import annotations

import os

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def bare(request: HttpRequest) -> JsonResponse:
    # The floor: the whole middleware stack, no database, a constant body.
    return JsonResponse({"status": "ok"})


urlpatterns = [path("", include("portal.urls"))]
if os.environ.get("BENCH_BARE_VIEW") == "1":
    urlpatterns.insert(0, path("bench/bare/", bare, name="bench-bare"))
