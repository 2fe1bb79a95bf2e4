"""Whole public pages kept, rendered, for a few seconds, for visitors who carry nothing of their own.

When a popular performance opens, residents reload the home page, the activity list and the
activity's page at once. These pages are the same for every visitor without a session, a
verified phone or a message waiting, apart from the CSRF token of their forms (the language
switcher is a form on every page). So ``public_page`` keeps the body of a 200 answer in the
shared cache for ``PAGE_CACHE_SECONDS`` (3 by default; 0 turns it off), keyed by the whole URL
(scheme and host included: share links are absolute) and the language, with the CSRF token cut
out; an answer from the cache gets the visitor's own token put back. What a page shows may
therefore be that many seconds old, seats left included; a booking always reads the database.

A page may name the query parameters it reads (``params``). A query string with any other
parameter (a tracker's, or one added to defeat the cache) is kept only in the web process's own
memory, never looked up in or written to the shared cache: each such URL is otherwise a new
page in Redis, looked up and stored for nothing, while the same link opened again (a share
link's tracker) is still served from the process's memory. A query string with one of the
parameters a page names as its visitors' own (``own``: the activity list's date range, which
each visitor picks and which hardly two pick alike) is rendered for each request and not kept
at all: keeping it (cutting its token out, storing it, asking Redis for it) cost every such
request and served hardly any. The parameters the site's own links and choices set (a
category, an area, a page number) share their pages.

A visitor with any other cookie (a staff session, the resident cookie of a verified phone,
messages) gets the page rendered for them. A cache that does not answer is a miss, never an
error: the page is rendered as if there were no cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from functools import partial, wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_SECRET_LENGTH, _unmask_cipher_token, get_token
from django.utils import translation

from common.cache import ProcessMemory

log = logging.getLogger(__name__)

# Stands where the CSRF token was in a kept body; no page contains it.
TOKEN_MARK = "\x00csrf-token\x00"
TOKEN_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_SHAPED = re.compile(f"[A-Za-z0-9]{{{2 * CSRF_SECRET_LENGTH}}}")
HIT_HEADER = "X-Page-Cache"
# Each web process also keeps the pages it served in its own memory until they expire (the same
# PAGE_CACHE_SECONDS from when they were rendered), so most answers need no round trip to Redis.
# A few hundred pages at most: a full memory forgets them all, and the next requests fill it.
_local = ProcessMemory(seconds=0, entries=256)


def cacheable_request(request: HttpRequest) -> bool:
    """A GET or HEAD from a visitor with no cookie but the CSRF and language ones, and no
    credentials."""
    if request.method not in ("GET", "HEAD") or "HTTP_AUTHORIZATION" in request.META:
        return False
    allowed = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    return set(request.COOKIES) <= allowed


def page_key(request: HttpRequest) -> str:
    url = request.build_absolute_uri()
    digest = hashlib.sha256(f"{translation.get_language()} {url}".encode()).hexdigest()
    return f"page:v2:{digest}"


def _cut_token(request: HttpRequest, body: str) -> str | None:
    """The body with its CSRF token replaced by ``TOKEN_MARK`` wherever it stands; None when
    the visitor's secret shows anywhere else (a token printed outside a form's hidden input,
    masked afresh): such a page is never kept, so no visitor is given another's token."""
    tokens = set(TOKEN_INPUT.findall(body))
    if len(tokens) > 1 or TOKEN_MARK in body:
        return None
    for token in tokens:
        body = body.replace(token, TOKEN_MARK)
    secret = request.META.get("CSRF_COOKIE")
    if secret:
        if secret in body:
            return None
        for candidate in TOKEN_SHAPED.findall(body):
            # Django's own unmasking (a private helper, stable since 4.1).
            if _unmask_cipher_token(candidate) == secret:
                return None
    return body


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # a cache that does not answer is a miss
        log.warning("page cache: get failed", exc_info=True)
        return None


def _cache_set(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("page cache: set failed", exc_info=True)


def _kept(key: str, now: float, *, shared: bool) -> tuple | None:
    """(expires, content type, the body's parts around its CSRF token), from this process's
    memory while it lasts, else from the shared cache when ``shared``."""
    entry = _local.get(key)
    if entry is not None and entry[0] > now:
        return entry
    if not shared:
        return None
    entry = _cache_get(key)
    # Anything but this shape (a page kept by another version of this code) is a miss.
    if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], float)):
        return None
    if entry[0] <= now:
        return None
    _remember(key, entry)
    return entry


def _remember(key: str, entry: tuple) -> None:
    # Until the page expires: the same moment in every process, whichever rendered it.
    _local.set(key, entry, seconds=entry[0] - time.time())


def public_page(
    view: Callable[..., HttpResponse] | None = None,
    *,
    params: Iterable[str] | None = None,
    own: Iterable[str] = (),
):
    """Keep ``view``'s 200 answers to visitors with nothing of their own (see the module);
    ``params``, when given, are the query parameters the view reads, and ``own`` those of
    them whose pages are never kept."""
    if view is None:
        return partial(public_page, params=params, own=own)
    known = None if params is None else frozenset(params)
    own = frozenset(own)

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds <= 0 or not cacheable_request(request) or not own.isdisjoint(request.GET):
            return view(request, *args, **kwargs)
        shared = known is None or known.issuperset(request.GET)
        key = page_key(request)
        now = time.time()
        kept = _kept(key, now, shared=shared)
        if kept is not None:
            _expires, content_type, parts = kept
            body = get_token(request).encode().join(parts) if len(parts) > 1 else parts[0]
            response = HttpResponse(body, content_type=content_type)
            response[HIT_HEADER] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not response.has_header("Cache-Control")
        ):
            body = _cut_token(request, response.content.decode(response.charset))
            if body is not None:
                parts = tuple(p.encode(response.charset) for p in body.split(TOKEN_MARK))
                entry = (now + seconds, response["Content-Type"], parts)
                _remember(key, entry)
                if shared:
                    _cache_set(key, entry, seconds)
        response[HIT_HEADER] = "miss"
        return response

    return wrapped
