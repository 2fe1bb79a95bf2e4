"""No page or endpoint answers bad query input with a 500.

Walks every URL pattern of the project (the public site, the API and the admin), fills path
parameters with real ids, unknown ids and junk, and sends junk query strings, as a resident and
as a staff member. A 4xx or a page with an error message is fine; a 5xx never is.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

JUNK_QUERIES = [
    "",
    "?page=abc&page_size=-1",
    "?q=%00&within=%00&hall=x&parent=..&kind=castle&status=%27",
    "?from=2026-13-45&to=yesterday&year=abc&category=%F0%9F%8E%AD",
    "?within=999999999999999999999&point=-1&item=1e9&o=zz&p=9",
]
SKIP_PREFIXES = ("media/", "static/", "i18n/")


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _concrete(route: str, ids: list[str]) -> list[str]:
    """Fill ``<int:pk>``-style and regex groups with each candidate value."""
    import re

    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    pattern = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>|\(\?P<([a-z_]+)>[^)]*\)")
    if not pattern.search(route):
        return [route]
    return [pattern.sub(value, route) for value in ids]


def _urls(ids):
    seen = set()
    for route, _pattern in _walk(get_resolver()):
        if route.startswith(SKIP_PREFIXES) or "(?P<url>" in route or "<path:" in route:
            continue
        for url in _concrete(route, ids):
            url = "/" + url.replace("\\.", ".").replace("\\", "")
            if url not in seen:
                seen.add(url)
                yield url


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_no_url_answers_junk_with_a_server_error(client, cast, who):
    from activities import services
    from activities.models import Booking
    from tests.activities.factories import published_activity

    activity = published_activity(cast.branch)
    booking = services.booking_create(
        activity_id=activity.pk, name="张三", phone="13800000001", seats=1
    )
    assert isinstance(booking, Booking)
    client.raise_request_exception = False
    if who == "staff":
        client.force_login(cast.county_director)
    ids = [str(cast.point.pk), str(activity.pk), booking.code, "999999", "abc", str(2**70)]
    failures = []
    for url in _urls(ids):
        for query in JUNK_QUERIES:
            response = client.get(url + query)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} GET {url}{query}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", ["/api/v1/halls/0.5/", "/api/v1/no-such-endpoint/", "/api/v2/"])
def test_a_path_no_api_route_takes_is_a_json_404(client, path):
    """Other systems parse every API answer as JSON: the site's HTML page was sent for an id
    of the wrong shape (the router's pattern refuses a dot) or a mistyped endpoint."""
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "页面不存在" in page.content.decode()


@pytest.mark.parametrize("handler", ["server_error", "bad_request"])
def test_errors_outside_the_views_are_json_under_the_api(rf, handler):
    from common import middleware

    answer = getattr(middleware, handler)
    status = {"server_error": 500, "bad_request": 400}[handler]
    api = answer(rf.get("/api/v1/halls/"))
    assert api.status_code == status and api["Content-Type"] == "application/json"
    assert json.loads(api.content)["detail"]
    site = answer(rf.get("/activities/"))
    assert site.status_code == status and site["Content-Type"].startswith("text/html")
