"""Production settings, exercised in a fresh interpreter with DEBUG=0 as a deployment runs them.

Settings are read once per process, so each case starts ``python`` with the environment a
production host would give it (and ``ENV_FILE=/dev/null`` so a developer's ``.env`` cannot help).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from portal.logging import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
HOST = "portal.example.cn"


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "LOG_FORMAT", "STATIC_ROOT", "REDIS_URL"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        ENV_FILE=os.devnull,
        DJANGO_SETTINGS_MODULE="portal.settings",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_production_settings_pass_check_deploy_without_a_warning():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_production_refuses_to_start_without_a_secret_key(secret):
    env = production_env()
    del env["SECRET_KEY"]
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_development_needs_no_environment_at_all():
    env = production_env()
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"):
        del env[key]
    result = run(["manage.py", "check"], env)
    assert result.returncode == 0, result.stderr


# Runs in the child: the WSGI application as gunicorn would load it, driven by Django's client.
PAGES = """
import json, logging
from django.core.wsgi import get_wsgi_application
from django.templatetags.static import static
from django.test import Client
get_wsgi_application()
c = Client()
out = {}
r = c.get("/health/", HTTP_HOST="%(host)s")
out["health"] = [r.status_code, r.json()]
r = c.get("/", HTTP_HOST="%(host)s")
out["plain_http"] = [r.status_code, r.headers.get("Location")]
for name, url in [("home", "/"), ("login", "/admin/login/"), ("docs", "/api/v1/docs/"),
                  ("missing", "/no-such-page/")]:
    out[name] = c.get(url, HTTP_HOST="%(host)s", secure=True).status_code
css = static("admin/css/base.css")
r = c.get(css, HTTP_HOST="%(host)s", secure=True)
out["css"] = [css, r.status_code, r.headers.get("Content-Type"), r.headers.get("Cache-Control")]
logging.getLogger("portal.audit").warning("馆 %%s 已更新", "官渡区", extra={"hall_id": 7})
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("portal.audit").exception("失败")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):
    """collectstatic and migrate into scratch space, then load a few pages in production mode."""
    tmp = tmp_path_factory.mktemp("production")
    env = production_env(
        STATIC_ROOT=str(tmp / "static"), DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}"
    )
    for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
        done = run(["manage.py", *command], env)
        assert done.returncode == 0, done.stdout + done.stderr
    result = run(["-c", "import django; django.setup()\n" + PAGES % {"host": HOST}], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_health_answers_over_plain_http_behind_the_ssl_redirect(production_site):
    pages, _ = production_site
    assert pages["health"] == [200, {"status": "ok", "database": "ok"}]
    assert pages["plain_http"] == [301, f"https://{HOST}/"]


def test_pages_render_with_the_hashed_static_files_of_collectstatic(production_site):
    pages, _ = production_site
    # A template naming a static file that collectstatic did not hash is a 500 in production.
    assert (pages["home"], pages["login"], pages["docs"], pages["missing"]) == (200, 200, 200, 404)
    url, status, content_type, cache = pages["css"]
    assert url.startswith("/static/admin/css/base.") and url != "/static/admin/css/base.css"
    assert status == 200
    assert content_type.startswith("text/css")
    assert "immutable" in cache


def test_production_logs_are_json_lines(production_site):
    _, stderr = production_site
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    by_message = {entry["message"]: entry for entry in entries}
    audit = by_message["馆 官渡区 已更新"]
    assert (audit["level"], audit["logger"], audit["hall_id"]) == ("WARNING", "portal.audit", 7)
    assert "ZeroDivisionError" in by_message["失败"]["exc_info"]
    not_found = by_message["Not Found: /no-such-page/"]
    assert not_found["status_code"] == 404
    assert not_found["request"] == {"method": "GET", "path": "/no-such-page/"}


def test_gunicorn_access_lines_carry_the_request_as_fields():
    atoms = {"h": "10.0.0.9", "m": "GET", "U": "/halls/", "q": "q=官渡", "s": "200", "B": 5120}
    atoms |= {"M": 12, "a": "Mozilla/5.0", "r": "GET /halls/?q=官渡 HTTP/1.1", "b": "-"}
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', (atoms,), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == '10.0.0.9 "GET /halls/?q=官渡 HTTP/1.1" 200'
    assert {k: entry[k] for k in ("method", "path", "query", "status", "bytes", "duration_ms")} == {
        "method": "GET",
        "path": "/halls/",
        "query": "q=官渡",
        "status": 200,
        "bytes": 5120,
        "duration_ms": 12,
    }


def test_the_worker_finds_every_scheduled_task():
    # Tasks sit in the services modules; the worker discovers them there (portal/celery.py).
    from django.conf import settings

    from portal.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= set(app.tasks)
