"""Content-Security-Policy: every page says where scripts, styles and pictures may come from,
and the pages keep to it (no inline <script>, no on*= handlers, no style attributes)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from csp.constants import NONCE
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from common.middleware import ContentSecurityPolicy
from tests.activities.factories import published_activity
from tests.portal.test_accessibility_browser import public_pages

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def assert_keeps_to_it(response, where: str) -> None:
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), (where, INLINE_SCRIPT.search(html)[0])
    assert not HANDLER.search(html), (where, HANDLER.search(html)[0])
    assert not STYLE.search(html), (where, STYLE.search(html)[0])


def test_every_public_page_sends_the_policy_and_keeps_to_it(client, cast):
    for name, address in public_pages(cast):
        response = client.get(address)
        assert response.status_code in (200, 302, 404), (name, response.status_code)
        assert_strict(response)
        assert_keeps_to_it(response, name)


def test_the_admin_and_the_staff_pages_send_the_policy_and_keep_to_it(client, cast):
    show = published_activity(cast.branch, capacity=5, start_in=timedelta(hours=2))
    assert_strict(client.get("/admin/login/"))
    client.force_login(cast.county_director)
    for address in [
        "/admin/",
        "/admin/activities/activity/",
        f"/admin/activities/activity/{show.pk}/change/",
        "/admin/evaluation/",
        "/staff/checkin/",
        f"/staff/checkin/{show.pk}/",
    ]:
        response = client.get(address)
        assert response.status_code == 200, address
        assert_strict(response)
        assert_keeps_to_it(response, address)


def test_the_api_docs_run_their_script_from_a_file(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]  # Swagger UI's own style attributes only
    assert "'unsafe-inline'" in policy["style-src"]
    assert not INLINE_SCRIPT.search(response.content.decode())
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_no_template_has_an_inline_script_a_handler_or_a_style():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, STYLE):
            match = pattern.search(text)
            if match:
                found.append(f"{path.relative_to(TEMPLATES)}: {match[0]}")
    assert not found, found


# --- The ordinary policy, built once (common.middleware.ContentSecurityPolicy) -----------------


def _answer(view):
    """An answer of ``view`` through the site's CSP middleware alone."""
    request = RequestFactory().get("/somewhere/")
    return ContentSecurityPolicy(view)(request)


def test_an_ordinary_answer_gets_the_policy_django_csp_builds():
    response = _answer(lambda request: HttpResponse("ok"))
    assert response.headers["Content-Security-Policy"] == build_policy()
    assert_strict(response)


def test_a_changed_setting_changes_the_header_of_the_next_answer(settings):
    def view(request):
        return HttpResponse("ok")

    assert "img-src 'self' data: blob:" in _answer(view).headers["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'self'"]}
    }
    assert directives(_answer(view))["img-src"] == ["'self'"]


def test_a_view_that_changes_its_policy_or_uses_a_nonce_still_gets_its_own():
    updated = _answer(csp_update({"img-src": ["https://example.org"]})(lambda r: HttpResponse()))
    assert "https://example.org" in directives(updated)["img-src"]
    assert "Content-Security-Policy" not in _answer(csp_exempt()(lambda r: HttpResponse()))

    def with_nonce(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    nonced = _answer(csp_update({"script-src": [NONCE]})(with_nonce))
    nonce = nonced.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in directives(nonced)["script-src"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    request = RequestFactory().get("/")
    ContentSecurityPolicy(lambda r: HttpResponse("ok"))(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
