"""The fixed-window rate limit behind every public form and resident endpoint."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches

from common import ratelimit
from tests.conftest import need_redis


def _hits(limit: int, n: int) -> list[bool]:
    limited = []
    for _i in range(n):
        try:
            ratelimit.check("test:scope", "203.0.113.5", limit=limit, window=60)
            limited.append(False)
        except ratelimit.RateLimited as exc:
            assert exc.retry_after == 60
            limited.append(True)
    return limited


def test_the_hit_past_the_limit_is_refused_and_others_count_apart():
    assert _hits(3, 5) == [False, False, False, True, True]
    ratelimit.check("test:scope", "203.0.113.6", limit=3, window=60)
    ratelimit.check("test:other", "203.0.113.5", limit=3, window=60)


def test_a_limit_of_zero_counts_nothing():
    assert _hits(0, 5) == [False] * 5


def test_on_redis_a_hit_is_one_round_trip_and_the_window_expires(settings, monkeypatch):
    url = need_redis()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    backend = caches["default"]
    backend.clear()
    client = backend._cache.get_client(write=True)
    sent = []
    pipeline = type(client.pipeline())
    execute = pipeline.execute
    monkeypatch.setattr(
        pipeline, "execute", lambda self, *a, **k: sent.append(1) or execute(self, *a, **k)
    )
    assert _hits(2, 3) == [False, False, True]
    assert len(sent) == 3
    (key,) = [k for k in client.keys("*") if b"rl:test:scope:" in k]
    assert 0 < client.ttl(key) <= 60
    assert int(client.get(key)) == 3
    backend.clear()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: connections are refused


@pytest.mark.parametrize(
    "backend",
    ["common.cache.FaultTolerantRedisCache", "django.core.cache.backends.redis.RedisCache"],
)
def test_with_redis_out_the_limit_is_counted_in_the_process(settings, caplog, backend):
    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with caplog.at_level(logging.WARNING, logger="common.ratelimit"):
        assert _hits(3, 5) == [False, False, False, True, True]
    assert caplog.text.count("counting in this process") == 1  # once per outage
