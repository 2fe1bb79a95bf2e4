"""A fixed-window rate limit on the shared cache (Redis in production, so every web process
counts together)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest


class RateLimited(Exception):
    """Raised when a caller is over a limit; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def check(scope: str, key: str, *, limit: int, window: int) -> None:
    """Count one hit of ``key`` in ``scope``; raise RateLimited past ``limit`` per ``window``."""
    if limit <= 0:
        return
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=window)


def client_ip(request: HttpRequest) -> str:
    # Behind the deployment's proxy the first X-Forwarded-For entry is the client; gunicorn is
    # only reachable through that proxy (docs/DEPLOYMENT.md).
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")
