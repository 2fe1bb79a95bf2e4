from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_redis

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: a connection there is refused at once, as when a server is down.
DEAD_REDIS = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


def test_it_answers_ok_when_the_database_answers(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response.headers["Cache-Control"]


def test_it_checks_redis_when_one_is_configured(client, settings):
    settings.REDIS_URL = need_redis()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_it_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = DEAD_REDIS
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "redis": "error: ConnectionError",
    }


def run_cli(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL"}}
    environment.update(ENV_FILE=os.devnull, **env)
    return subprocess.run(
        [sys.executable, "-m", "portal.health"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_check_fails_when_the_database_is_unreachable(tmp_path):
    # A database file in a directory that does not exist cannot be opened; on PostgreSQL a port
    # nobody listens on does the same.
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:1/portal"
    else:
        url = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"
    result = run_cli(DATABASE_URL=url)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout) == {"status": "error", "database": "error: OperationalError"}


def test_the_command_line_check_passes_and_reports_redis(tmp_path):
    redis_url = need_redis()
    result = run_cli(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL=redis_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "ok", "database": "ok", "redis": "ok"}
