from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from activities.views import home_sections
from network.selectors import directory_counties

# Enough for a province; past this the home page points to the full directory instead.
HOME_COUNTIES_MAX = 200


def home(request: HttpRequest) -> HttpResponse:
    """A search box and the counties of the network, grouped by city, as quick links."""
    counties = list(directory_counties()[: HOME_COUNTIES_MAX + 1])
    return render(
        request,
        "portal/home.html",
        {
            "counties": counties[:HOME_COUNTIES_MAX],
            "more": len(counties) > HOME_COUNTIES_MAX,
            **home_sections(),
        },
    )
