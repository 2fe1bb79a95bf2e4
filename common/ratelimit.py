"""A fixed-window rate limit on the shared cache (Redis in production, so every web process
counts together).

When Redis is out (refused, timed out, or within the cache's pause after a failure, see
``common.cache``) the count goes on in the process's own memory, with a warning in the log once
per outage: a limit still holds, per web process instead of for the whole site (so a client may
get up to the number of processes times the limit), and no request fails or waits for Redis.
Not to the database: an outage must not move load onto it, and not "allow everything": a
booking form open to scripts for the length of an outage is what the limit is there to prevent.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .cache import CacheUnavailable

logger = logging.getLogger(__name__)
# Where the counts go while Redis is out: this process only.
_fallback = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
_falling_back = False


class RateLimited(Exception):
    """Raised when a caller is over a limit; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def check(scope: str, key: str, *, limit: int, window: int) -> None:
    """Count one hit of ``key`` in ``scope``; raise RateLimited past ``limit`` per ``window``."""
    if limit <= 0:
        return
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}"
    if _count(cache_key, window) > limit:
        raise RateLimited(retry_after=window)


def _count(cache_key: str, window: int) -> int:
    global _falling_back
    backend = caches[DEFAULT_CACHE_ALIAS]
    try:
        if isinstance(backend, RedisCache):
            count = _hit_redis(backend, cache_key, window)
        else:
            count = _hit(backend, cache_key, window)
    except (redis.RedisError, CacheUnavailable) as exc:
        if not _falling_back:
            _falling_back = True
            logger.warning(
                "rate limit: the cache is out (%s); counting in this process until it is back",
                type(exc).__name__,
            )
        return _hit(_fallback, cache_key, window)
    _falling_back = False
    return count


def _hit_redis(backend: RedisCache, cache_key: str, window: int) -> int:
    """The count after this hit, in one round trip to Redis: the window starts with the first
    hit (SET NX with the expiry) and INCR counts, both in one MULTI/EXEC, which is what ``_hit``
    does in two. Raises CacheUnavailable (or a Redis error) when Redis is out."""
    key = backend.make_and_validate_key(cache_key)

    def hit() -> int:
        pipe = backend._cache.get_client(key, write=True).pipeline(transaction=True)
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        return pipe.execute()[1]

    guarded = getattr(backend, "guarded", None)  # common.cache.FaultTolerantRedisCache
    count = guarded(hit, None) if guarded else hit()
    if count is None:
        raise CacheUnavailable(cache_key)
    return count


def _hit(cache, cache_key: str, window: int) -> int:
    cache.add(cache_key, 0, timeout=window)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        return 1


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client, for rate limits and login lockouts. ``X-Forwarded-For`` is
    believed only when the connection comes from a proxy named in ``TRUSTED_PROXIES`` (none by
    default), and then read from the right: the first address that is not one of those proxies
    is the client, so whatever a client writes into the header itself is never taken."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:  # not written by a proxy of ours: nothing to its left is either
            return remote
        if not _trusted(hop, networks):
            return hop
    return remote


@dataclass(frozen=True)
class Budget:
    """One public write's budget: submissions per client address and per phone in a window.

    A page and its API endpoint charge the same budget, so a client cannot double it by switching
    between them. The limits are names of settings, read at each charge (a deployment or a test
    changes them). A code lookup counts per address in a budget of its own, so guessing codes
    stays slow without using up the address's bookings.
    """

    name: str
    ip_limit: str
    phone_limit: str
    window: str

    def charge_address(self, address: str, *, lookup: bool = False) -> None:
        scope = f"{self.name}-lookup:ip" if lookup else f"{self.name}:ip"
        check(scope, address, limit=getattr(settings, self.ip_limit), window=self._window)

    def charge_phone(self, phone: str) -> None:
        check(
            f"{self.name}:phone",
            phone,
            limit=getattr(settings, self.phone_limit),
            window=self._window,
        )

    @property
    def _window(self) -> int:
        return getattr(settings, self.window)

    def page(
        self, request: HttpRequest, *, template: str, phone: str = "", lookup: bool = False
    ) -> HttpResponse | None:
        """Charge a public form's submission. ``None`` when the caller may go on, else the 429
        page to answer with, saying when to try again."""
        try:
            self.charge_address(client_ip(request), lookup=lookup)
            if phone:
                self.charge_phone(phone)
        except RateLimited as exc:
            response = render(request, template, {"minutes": exc.minutes}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return None
