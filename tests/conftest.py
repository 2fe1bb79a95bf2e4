"""The cast every test shares, and the rule that CI never passes by skipping.

Tests that need a real PostgreSQL, Redis or Chromium call ``need_postgres()`` and friends. On a
machine without them they skip with the reason; with ``REQUIRE_REAL_SERVICES=1`` (set by
``.ci/run``) the same call fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import translation

# Helper modules the tests import (the browser's is a plugin as well): rewrite their asserts
# too, so a failing check in them says what it compared.
pytest.register_assert_rewrite("tests.api", "tests.browser")

REQUIRE_REAL = os.environ.get("REQUIRE_REAL_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_configure(config):
    from django.conf import settings

    # Real hashing costs a third of a second a user; the cast has eight.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The live server's threads must not keep connections open, or the test database cannot be
    # dropped at the end of a PostgreSQL run.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def _missing(reason: str) -> None:
    if REQUIRE_REAL:
        pytest.fail(f"REQUIRE_REAL_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def need_postgres() -> None:
    if connection.vendor != "postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


def need_redis() -> str:
    from django.conf import settings

    if not settings.REDIS_URL:
        _missing("needs Redis: set REDIS_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        _missing(f"Redis at {settings.REDIS_URL} does not answer: {exc}")
    return settings.REDIS_URL


def need_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _missing(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("needs the playwright package")
    return CHROMIUM


def build_cast():
    """A small network and one account of each kind.

    昆明市文化馆 (centre)
      官渡区文化馆 (main)      — county_official, county_director
        关上街道 (branch)       — branch_staff          · points 关上一社区, 关上二社区 (village_manager)
        太和街道 (branch)       — other_branch_staff    · point 太和一社区
      五华区文化馆 (main)      — other_county_director
        华山街道 (branch)                               · point 华山一社区
    """
    from django.contrib.auth import get_user_model

    from network import services
    from network.models import Role

    User = get_user_model()
    create = services.hall_create
    centre = create(parent=None, name="昆明市文化馆", locality="昆明市", code="530100")
    county = create(parent=centre, name="官渡区文化馆", locality="官渡区", code="530111")
    branch = create(parent=county, name="关上街道综合文化站", locality="关上街道", code="530111001")
    point = create(
        parent=branch, name="关上一社区服务中心", locality="关上一社区", code="530111001001"
    )
    point2 = create(
        parent=branch, name="关上二社区服务中心", locality="关上二社区", code="530111001002"
    )
    other_branch = create(
        parent=county, name="太和街道综合文化站", locality="太和街道", code="530111002"
    )
    other_branch_point = create(
        parent=other_branch, name="太和一社区服务中心", locality="太和一社区", code="530111002001"
    )
    other_county = create(parent=centre, name="五华区文化馆", locality="五华区", code="530102")
    other_county_branch = create(
        parent=other_county, name="华山街道综合文化站", locality="华山街道", code="530102001"
    )
    other_county_point = create(
        parent=other_county_branch,
        name="华山一社区服务中心",
        locality="华山一社区",
        code="530102001001",
    )

    def staff(username, hall, role):
        return services.staff_create(
            username=username, hall=hall, role=role, password="pw-12345678"
        )

    return SimpleNamespace(
        centre=centre,
        county=county,
        branch=branch,
        point=point,
        point2=point2,
        other_branch=other_branch,
        other_branch_point=other_branch_point,
        other_county=other_county,
        other_county_branch=other_county_branch,
        other_county_point=other_county_point,
        centre_director=staff("centre_director", centre, Role.DIRECTOR),
        county_director=staff("county_director", county, Role.DIRECTOR),
        county_official=staff("county_official", county, Role.OFFICIAL),
        branch_staff=staff("branch_staff", branch, Role.STAFF),
        other_branch_staff=staff("other_branch_staff", other_branch, Role.STAFF),
        other_county_director=staff("other_county_director", other_county, Role.DIRECTOR),
        village_manager=staff("village_manager", point, Role.VILLAGE_MANAGER),
        superuser=User.objects.create_superuser("root", "root@example.cn", "pw-12345678"),
        resident={"name": "张三", "phone": "13800138000"},
        password="pw-12345678",
    )


@pytest.fixture
def cast(db):
    return build_cast()


# What a deployment keeps the layout's fragments in (portal/settings.py, without DEBUG).
FRAGMENTS = "common.cache.FragmentCache"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from django.core.cache import cache, caches

    from common import ratelimit
    from common.cache import Breaker, ProcessMemory

    cache.clear()
    # The layout's fragments kept as a deployment keeps them (settings.py keeps none under DEBUG,
    # which is how the test settings were read).
    settings.CACHES = {
        **settings.CACHES,
        "layout": {**settings.CACHES["layout"], "BACKEND": FRAGMENTS},
    }
    caches["layout"].clear()
    ProcessMemory.clear_all()  # the pages, cards and area filter's counties each process keeps
    # What a Redis outage of an earlier test left: counts kept in the process, paused Redis.
    ratelimit._fallback.clear()
    ratelimit._falling_back = False
    Breaker._open_until.clear()
    # A page kept for a few seconds (common/pagecache.py) would show a test its own earlier
    # state; the page cache's tests turn it on.
    settings.PAGE_CACHE_SECONDS = 0
    _tokens.clear()  # each test's tokens are rolled back with its database
    # A request in English leaves English active in this thread (the locale middleware does not
    # put the default back); the next test starts in the site's language, as a process does.
    translation.activate(settings.LANGUAGE_CODE)
    yield


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the test's own process even when REDIS_URL points at a broker: for
    tests about what a task does, not about delivery (the worker tests cover delivery)."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup, django_db_blocker):
    """Threads of the concurrency and browser tests can leave a PostgreSQL session open on the
    test database; end them before pytest-django drops it, so the drop does not fail."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# --- Residents: verified phones ----------------------------------------------------------------


def verify_phone(phone: str) -> str:
    """A token for ``phone`` the way a resident gets one: a code is sent (``phone_code_request``)
    and exchanged (``phone_token_create``). One per phone per test: the tokens of a test are
    kept, since a phone gets one code a minute."""
    from activities.residents import services

    token = _tokens.get(phone)
    if token is None:
        _row, code = services.phone_code_request(phone=phone)
        token = _tokens[phone] = services.phone_token_create(phone=phone, code=code).token
    return token


_tokens: dict[str, str] = {}


def resident_cookie(token: str) -> str:
    """The value of the verify page's signed cookie for ``token``."""
    from django.core import signing

    from activities.residents import web

    return signing.get_cookie_signer(salt=web.COOKIE + web.SALT).sign(token)


def verify_client(client, phone: str) -> str:
    """Verify ``phone`` in ``client`` as the verify page would (its signed cookie); the token."""
    from activities.residents import web

    token = verify_phone(phone)
    client.cookies[web.COOKIE] = resident_cookie(token)
    return token


def _phone_in(data, content_type) -> str:
    import json

    if isinstance(data, (bytes, str)) and "json" in (content_type or ""):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to be a body
            return ""
    if isinstance(data, dict):
        phone = data.get("phone")
        return phone if isinstance(phone, str) else ""
    return ""


def _with_consent(data, content_type, extra):
    """``data`` with the agreement to the privacy notice that every resident form and API write
    now requires (``consent``), unless the test set it itself."""
    import json

    is_json = "json" in (content_type or "") or extra.get("format") == "json"
    if isinstance(data, dict):
        return data if "consent" in data else {**data, "consent": True if is_json else "on"}
    if isinstance(data, (bytes, str)) and is_json:
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            return data
        if isinstance(body, dict) and "consent" not in body:
            return json.dumps({**body, "consent": True}, ensure_ascii=False)
    return data


class ResidentClient:
    """Django's test client whose resident writes come from a verified phone.

    ``RESIDENT_VERIFICATION=required`` is the default, so the tests written before it (a POST
    with a ``phone`` in its JSON or form body) would all stop at the 401. Here such a POST
    first verifies that phone through the residents' services, as the resident would have
    on the verify page, and carries the token: as ``X-Resident-Token`` and as the verify page's
    cookie (which then stays, as in a browser). A phone the validator refuses is not verified,
    so the request goes on unverified. ``verify_phones = False`` sends every request as typed.

    Each POST body (a dict, or a JSON object) also carries ``consent`` (the agreement to the
    privacy notice) unless it has one; ``send_consent = False`` leaves it out.
    """

    verify_phones = True
    send_consent = True

    def post(self, path, data=None, content_type=None, **extra):
        from django.core.exceptions import ValidationError

        from activities.residents import web

        if self.send_consent:
            data = _with_consent(data, content_type, extra)
        phone = _phone_in(data, content_type) if self.verify_phones else ""
        if phone:
            try:
                token = verify_phone(phone)
            except ValidationError:
                token = ""
            if token:
                extra.setdefault("HTTP_X_RESIDENT_TOKEN", token)
                self.cookies[web.COOKIE] = resident_cookie(token)
        if content_type is None:
            return super().post(path, data, **extra)
        return super().post(path, data, content_type=content_type, **extra)


@pytest.fixture
def client():
    from django.test import Client

    return type("Client", (ResidentClient, Client), {})()


def consenting_client(**kwargs):
    """A plain test client (phones as typed) whose POSTs agree to the privacy notice."""
    from django.test import Client

    return type("Client", (ResidentClient, Client), {"verify_phones": False})(**kwargs)
