"""A refused step says why, in the admin's own page, instead of a bare "403 Forbidden"."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_official_is_told_they_read_and_export_only(client, cast):
    client.force_login(cast.county_official)
    url = reverse("admin:network_hall_change", args=[cast.branch.pk])
    response = client.post(url, {"name": "改名"}, HTTP_REFERER=f"http://testserver{url}")
    html = response.content.decode()
    assert response.status_code == 403
    assert "您没有权限进行这项操作" in html and "文化和旅游局官员" in html
    assert 'id="site-name"' in html and "返回管理首页" in html
    assert f'href="http://testserver{url}"' in html  # back to where it came from
    # A link from elsewhere is not offered as the way back.
    other = client.post(url, {"name": "改名"}, HTTP_REFERER="https://evil.example/x")
    assert "evil.example" not in other.content.decode()


def test_outside_the_admin_the_site_page_answers(client, cast, settings):
    from django.core.exceptions import PermissionDenied

    from portal.views import forbidden

    request = client.get("/").wsgi_request
    response = forbidden(request, PermissionDenied())
    assert response.status_code == 403 and "您没有权限进行这项操作" in response.content.decode()


def test_every_page_names_the_portals_icon(client, cast):
    login = client.get(reverse("admin:login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in login
    client.force_login(cast.county_director)
    for url in (
        reverse("admin:index"),
        reverse("admin:activities_activity_changelist"),
        "/",
        "/staff/checkin/",
        reverse("screen"),
    ):
        html = client.get(url).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg"' in html, url
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"] == "/static/favicon.svg"
    assert client.get("/static/favicon.svg").status_code == 200
