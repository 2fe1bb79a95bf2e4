"""Where a redirect may go when the target comes from the request (a ``next`` field, a link):
only to this site, never to ``//other.host``, ``https://evil.example`` or ``/\\evil``."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_redirect_url(request: HttpRequest, url: str | None, default: str = "/") -> str:
    """``url`` when it stays on this site (same host; https when the request is), else
    ``default``."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
