"""``common.cache.FragmentCache``, the ``layout`` cache of rendered template fragments: a
cache in the process's memory that keeps values as given, shared by the process's threads."""

from __future__ import annotations

import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from common.cache import FragmentCache


def fresh(name="test-fragments", **options) -> FragmentCache:
    cache = FragmentCache(name, {"TIMEOUT": None, "OPTIONS": options})
    cache.clear()
    return cache


def test_a_value_is_kept_as_given_until_it_expires(monkeypatch):
    cache = fresh()
    value = "<nav>…</nav>"
    cache.set("nav", value)
    assert cache.get("nav") is value  # neither pickled nor copied
    assert cache.get("other") is None and cache.get("other", "x") == "x"
    cache.set("short", "s", timeout=10)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 11)
    assert cache.get("short") is None and not cache.has_key("short")
    assert cache.get("nav") is value  # no timeout: kept
    cache.set("zero", "z", timeout=0)
    assert cache.get("zero") is None


def test_add_touch_delete_clear_and_versions():
    cache = fresh()
    assert cache.add("k", "a") is True
    assert cache.add("k", "b") is False and cache.get("k") == "a"
    assert cache.touch("k", 100) is True and cache.get("k") == "a"
    assert cache.touch("missing") is False
    cache.set("k", "v2", version=2)
    assert cache.get("k") == "a" and cache.get("k", version=2) == "v2"
    assert cache.delete("k") is True and cache.delete("k") is False
    assert cache.get("k", version=2) == "v2"
    cache.set("none", None, DEFAULT_TIMEOUT)
    assert cache.has_key("none")  # a kept None is kept
    cache.clear()
    assert not cache.has_key("none") and cache.get("k", version=2) is None


def test_a_full_cache_forgets_and_fills_again():
    cache = fresh(MAX_ENTRIES=3)
    for key in "abc":
        cache.set(key, key)
    cache.set("d", "d")
    assert [cache.get(k) for k in "abcd"] == [None, None, None, "d"]


def test_the_threads_of_a_process_share_it():
    fresh("shared").set("fragment", "kept")
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(FragmentCache("shared", {}).get("fragment"))
    )
    thread.start()
    thread.join()
    assert seen == ["kept"]


def test_the_layout_cache_is_one(settings):
    # The tests keep the layout's fragments as a deployment does (tests/conftest.py).
    assert isinstance(caches["layout"], FragmentCache)
