"""A fixed-window rate limit on the shared cache (Redis in production, so every web process
counts together)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
    count = _hit_redis(cache_key, window)
    if count is None:
        count = _hit(cache_key, window)
    if count > limit:
        raise RateLimited(retry_after=window)


def _hit_redis(cache_key: str, window: int) -> int | None:
    """The count after this hit, in one round trip to Redis: the window starts with the first
    hit (SET NX with the expiry) and INCR counts, both in one MULTI/EXEC, which is what ``_hit``
    does in two. None when the cache is not Redis."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    key = backend.make_and_validate_key(cache_key)
    pipe = backend._cache.get_client(key, write=True).pipeline(transaction=True)
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    return pipe.execute()[1]


def _hit(cache_key: str, window: int) -> int:
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
