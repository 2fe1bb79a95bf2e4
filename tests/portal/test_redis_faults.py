"""Redis lost mid-run, and Redis hung: bookings, orders and the activity list still answer, in
time (DESIGN: a fault in Redis degrades one feature, never a 500 or a stalled site).

Each test starts a ``redis-server`` of its own on a free port and points the cache, the rate
limit and Celery's broker at it, then stops it (or freezes it with SIGSTOP, which is what a
hung Redis looks like from outside: connections are accepted, nothing answers).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis
from django.core.cache import caches

from activities.models import Activity, Booking
from activities.orders.models import Order
from activities.residents import services
from activities.residents.models import Message
from common.cache import Breaker
from tests.activities.factories import published_activity
from tests.conftest import _missing, build_cast

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/v1/activities/"
DEMANDS = "/api/v1/demands/"
# What a request may take with Redis gone: the cache's and the broker's socket timeouts below,
# once each, with room for a slow shared machine.
BOUND_SECONDS = 4.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, tmp_path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("needs redis-server on PATH (apt-get install redis-server)")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)

    def hang(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def on_redis(redis_server, settings):
    """The portal's cache and broker on ``redis_server``, with the timeouts of settings.py."""
    from portal.celery import app

    settings.CACHES = {
        **settings.CACHES,  # the layout's fragments stay in the process, as in settings.py
        "default": {
            "BACKEND": "common.cache.FaultTolerantRedisCache",
            "LOCATION": redis_server.url,
            "RETRY_AFTER": 5,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.RESIDENT_VERIFICATION = "off"
    saved = {
        name: app.conf[name]
        for name in ("broker_url", "task_always_eager", "broker_transport_options")
    }
    app.conf.broker_url = redis_server.url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {
        **saved["broker_transport_options"],
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
    }
    _fresh_pools(app)
    Breaker._open_until.clear()
    yield redis_server
    for name, value in saved.items():
        app.conf[name] = value
    _fresh_pools(app)
    Breaker._open_until.clear()


def _fresh_pools(app) -> None:
    # The broker connections Celery keeps are made from the URL at first use.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def within(seconds: float):
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    assert took < seconds, f"took {took:.1f} s"


def book(client, activity, i: int):
    return client.post(
        f"{LIST}{activity.pk}/bookings/",
        {"name": f"居民{i}", "phone": f"1380000{i:04d}", "seats": 1},
        content_type="application/json",
    )


def order(client, cast, i: int):
    return client.post(
        DEMANDS,
        {"point": cast.point.pk, "name": "王村长", "phone": f"1370000{i:04d}",
         "description": "村里想办一期广场舞培训"},
        content_type="application/json",
    )  # fmt: skip


def _use_everything(client, cast, activity, i: int) -> None:
    with within(BOUND_SECONDS):
        assert client.get(LIST).status_code == 200
    with within(BOUND_SECONDS):
        assert client.get("/activities/").status_code == 200
    with within(BOUND_SECONDS):
        response = book(client, activity, i)
    assert response.status_code == 201, response.content
    assert Booking.objects.filter(code=response.json()["code"]).exists()
    with within(BOUND_SECONDS):
        response = order(client, cast, i)
    assert response.status_code == 201, response.content
    assert Order.objects.filter(code=response.json()["code"]).exists()


def test_with_redis_stopped_mid_run_bookings_orders_and_the_list_answer(client, on_redis):
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=10)

    _use_everything(client, cast, activity, 1)
    # Redis was used: the list's page and the rate-limit counts are in it, the task that sends
    # the messages due now is on its queue (no worker runs here; one task for the messages a
    # process makes in a second).
    keys = on_redis.client.keys("*")
    assert any(b"api:activities:" in key for key in keys)
    assert any(b"rl:booking" in key for key in keys)
    assert 1 <= on_redis.client.llen("celery") <= Message.objects.count()
    assert Message.objects.count() >= 2

    on_redis.stop()
    # A second later: the messages of the first round's second went with its task (lost with
    # this Redis, left to the sweep); from here on no task can be queued.
    time.sleep(services.SEND_NOW_SECONDS)
    _use_everything(client, cast, activity, 2)
    for i in range(3, 6):  # after the first failure nobody waits on Redis at all
        with within(1):
            assert book(client, activity, i).status_code == 201
    assert Activity.objects.get(pk=activity.pk).seats_taken == 5
    # The messages whose task could not be queued were sent from the request (the console
    # backend here); none is lost.
    late = Message.objects.filter(phone__in=["13800000002", "13700000002"])
    assert late.count() >= 2 and {m.status for m in late} == {Message.Status.SENT}


def test_with_redis_hung_requests_answer_within_the_timeouts(client, on_redis):
    cast = build_cast()
    activity = published_activity(cast.branch, capacity=10)
    _use_everything(client, cast, activity, 1)

    on_redis.hang()
    try:
        _use_everything(client, cast, activity, 2)
        with within(1):
            assert book(client, activity, 3).status_code == 201
    finally:
        on_redis.stop()
    assert Booking.objects.filter(activity=activity).count() == 3


def test_the_cache_comes_back_after_its_pause(on_redis):
    cache = caches["default"]
    cache.set("k", "v")
    assert cache.get("k") == "v"
    on_redis.hang()
    try:
        with within(2):
            assert cache.get("k") is None  # a miss after the socket timeout
            assert cache.set("k", "w") is None
            assert cache.add("k", "w") is False
        assert cache.breaker.is_open
    finally:
        on_redis.process.send_signal(signal.SIGCONT)
    assert cache.get("k") is None  # still paused: Redis is not asked
    cache.breaker.reset()
    assert cache.get("k") == "v"


def test_with_the_broker_stopped_an_export_says_so_instead_of_failing(client, on_redis):
    from django.urls import reverse

    cast = build_cast()
    on_redis.stop()
    client.force_login(cast.county_official)
    with within(BOUND_SECONDS):
        response = client.post(
            reverse("admin:evaluation_export"),
            {"kind": "statistics", "year": 2025, "hall": cast.county.pk},
        )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["run"].status == "failed"
    assert "任务队列暂时不可用" in page.content.decode()
