"""The shared cache, made safe to lose.

Redis holds nothing the portal cannot rebuild: rendered lists, the statistics, rate-limit
counts. So a Redis that is down or hung must cost a cache miss, never a failed or stalled
request (DESIGN: a fault degrades one feature, never a 500). ``FaultTolerantRedisCache`` is
Django's ``RedisCache`` where every command that fails (refused, reset, timed out: the socket
timeouts come from the cache's ``OPTIONS``) is logged and answered as a miss: ``get`` gives the
default, ``set``/``add``/``delete`` do nothing and say False. After a failure the cache stays
"open" (no command sent) for ``RETRY_AFTER`` seconds, so a dead Redis costs one timeout per
process in that time, not one per call; the next call after it tries Redis again.

``versioned_key`` and ``bump`` make keys that one write invalidates all at once (the
statistics per year): the version is a token in the cache; when Redis is out both fall back to
computing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Breaker:
    """A circuit breaker: after a failure, ``call`` answers ``default`` without trying for
    ``retry_after`` seconds, then tries again. Shared by the threads of a process (keep one per
    resource at module level, or key it by the resource, as the cache does)."""

    _open_until: dict[str, float] = {}
    _lock = threading.Lock()

    def __init__(self, name: str, retry_after: float, errors: tuple[type[Exception], ...]):
        self.name, self.retry_after, self.errors = name, retry_after, errors

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until.get(self.name, 0.0)

    def call(self, call: Callable[[], T], default: T) -> T:
        if self.is_open:
            return default
        try:
            return call()
        except self.errors as exc:
            with self._lock:
                was_open = self.is_open
                self._open_until[self.name] = time.monotonic() + self.retry_after
            if not was_open:
                logger.warning(
                    "%s failed (%s: %s); going on without it for %.0f s",
                    self.name,
                    type(exc).__name__,
                    exc,
                    self.retry_after,
                )
            return default

    def reset(self) -> None:
        """Try again at the next call (tests; an operator's shell after a repair)."""
        self._open_until.pop(self.name, None)


class FaultTolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        retry_after = float(params.pop("RETRY_AFTER", 5))
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        self.breaker = Breaker(f"cache at {location}", retry_after, (redis.RedisError,))

    def guarded(self, call: Callable[[], T], default: T) -> T:
        """``call()``, or ``default`` when Redis fails or failed a moment ago."""
        return self.breaker.call(call, default)

    # Each method asks RedisCache's own (``base``) through the breaker.

    def get(self, key, default=None, version=None):
        base = super()
        return self.guarded(lambda: base.get(key, default, version), default)

    def get_many(self, keys, version=None):
        base = super()
        return self.guarded(lambda: base.get_many(keys, version), {})

    def has_key(self, key, version=None):
        base = super()
        return self.guarded(lambda: base.has_key(key, version), False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        self.guarded(lambda: base.set(key, value, timeout, version), None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        return self.guarded(lambda: base.set_many(data, timeout, version), list(data))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        return self.guarded(lambda: base.add(key, value, timeout, version), False)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        base = super()
        return self.guarded(lambda: base.touch(key, timeout, version), False)

    def delete(self, key, version=None):
        base = super()
        return self.guarded(lambda: base.delete(key, version), False)

    def delete_many(self, keys, version=None):
        base = super()
        self.guarded(lambda: base.delete_many(keys, version), None)

    def clear(self):
        base = super()
        return self.guarded(lambda: base.clear(), False)

    def incr(self, key, delta=1, version=None):
        """Unlike a miss, a count cannot be made up: raises ``CacheUnavailable`` when Redis is
        out, for the caller to decide (``common.ratelimit`` counts in the process instead)."""
        base = super()
        missing = object()
        value = self.guarded(lambda: base.incr(key, delta, version), missing)
        if value is missing:
            raise CacheUnavailable(self.breaker.name)
        return value


class ProcessMemory:
    """Values kept in this process's own memory for ``seconds`` each: no round trip to Redis and
    nothing to unpickle, for what every request of a public page reads and what changes rarely
    or never (a value kept under a digest of itself). Each process keeps its own copy, so a
    change made elsewhere shows here once the copy expires. At most ``entries`` values: a full
    memory forgets them all, and the next requests fill it again. Keep one per purpose at module
    level; ``clear_all`` forgets every one (the tests' fresh start). Nothing is kept under
    ``DEBUG``, as the ``layout`` cache keeps nothing there: a template edited or a catalogue
    recompiled shows at the next request of the development server, not an hour later."""

    _every: list[ProcessMemory] = []

    def __init__(self, *, seconds: float, entries: int) -> None:
        self.seconds, self.entries = seconds, entries
        self._kept: dict[object, tuple[float, object]] = {}
        self._every.append(self)

    def get(self, key, default=None):
        entry = self._kept.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return default
        return entry[1]

    def set(self, key, value, seconds: float | None = None) -> None:
        """Keep ``value`` for this memory's ``seconds``, or for ``seconds`` when given (what is
        left of a value read from a shared cache)."""
        if settings.DEBUG:
            return
        if len(self._kept) >= self.entries:
            self._kept.clear()
        life = self.seconds if seconds is None else seconds
        self._kept[key] = (time.monotonic() + life, value)

    def delete(self, key) -> bool:
        return self._kept.pop(key, None) is not None

    def clear(self) -> None:
        self._kept.clear()

    @classmethod
    def clear_all(cls) -> None:
        for memory in cls._every:
            memory.clear()


# Each FragmentCache's memory, by name and size, shared by the threads of the process (Django
# makes a backend instance per thread).
_fragments: dict[tuple[str, int], ProcessMemory] = {}


class FragmentCache(BaseCache):
    """A cache backend in the process's own memory for rendered template fragments (the
    ``layout`` alias of ``{% cache … using="layout" %}``), kept in a ``ProcessMemory``: a value
    is kept as it was given, neither pickled nor copied, so it is only for values nobody changes
    in place (strings). ``LocMemCache`` pickles each value and takes a lock for every read: on a
    page with nine kept fragments that was most of what keeping them cost. At most
    ``MAX_ENTRIES`` values (``OPTIONS``): a full cache forgets them all, and the next requests
    fill it again."""

    def __init__(self, name, params) -> None:
        super().__init__(params)
        kind = (name, self._max_entries)
        if kind not in _fragments:
            _fragments[kind] = ProcessMemory(seconds=math.inf, entries=self._max_entries)
        self._kept = _fragments[kind]

    def _seconds(self, timeout) -> float:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return math.inf if timeout is None else timeout

    def get(self, key, default=None, version=None):
        return self._kept.get(self.make_key(key, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._kept.set(self.make_key(key, version), value, seconds=self._seconds(timeout))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        if self.has_key(key, version):
            return False
        self.set(key, value, timeout, version)
        return True

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        missing = object()
        value = self.get(key, missing, version)
        if value is missing:
            return False
        self.set(key, value, timeout, version)
        return True

    def has_key(self, key, version=None) -> bool:
        missing = object()
        return self.get(key, missing, version) is not missing

    def delete(self, key, version=None) -> bool:
        return self._kept.delete(self.make_key(key, version))

    def clear(self) -> None:
        self._kept.clear()


class CacheUnavailable(Exception):
    """Redis did not answer a command whose answer cannot be guessed."""


def versioned_key(namespace: str, *parts: object, timeout: int) -> str | None:
    """A key under ``namespace``'s current version (made on first use, kept ``timeout``
    seconds), or None when the cache cannot say (Redis out): the caller computes."""
    version_key = f"v:{namespace}"
    version = cache.get(version_key)
    if version is None:
        version = uuid.uuid4().hex[:12]
        if not cache.add(version_key, version, timeout):
            version = cache.get(version_key)
            if version is None:
                return None
    return ":".join([namespace, str(version), *map(str, parts)])


def bump(namespace: str) -> None:
    """Forget every key made by ``versioned_key`` for ``namespace``: they go unread and expire.
    With Redis out this does nothing; the keys' own timeout bounds how stale they can be."""
    cache.delete(f"v:{namespace}")
