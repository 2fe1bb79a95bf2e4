"""The database down: the API answers a JSON 503 and the pages a Chinese 503 page, both with
Retry-After, and a database host that accepts connections but never answers costs a request
the connect timeout, not a stalled worker.

The portal runs as in production (gunicorn, DEBUG=0) in a process of its own, pointed at a
PostgreSQL address where nothing answers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(database_url: str, tmp_path, **env: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    environment.update(
        ENV_FILE=os.devnull,
        DEBUG="0",
        SECRET_KEY="a-test-only-secret-key-that-is-long-enough-0123456789abcdef",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        LOG_FORMAT="plain",
        MEDIA_ROOT=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
        **env,
    )
    # As a deployment does before it starts: with DEBUG=0 the pages name their static files
    # through the manifest that collectstatic writes (the 503 page too).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=300,
    )
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - closed with the process below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("gunicorn did not start:\n" + (tmp_path / "web.log").read_text())
            time.sleep(0.1)
    return process, base


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _post(url: str, body: bytes):
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def portal_without_database(tmp_path):
    # Nothing listens on port 1: a connection there is refused at once, as when the server is
    # down or restarting.
    process, base = _serve("postgres://postgres@127.0.0.1:1/portal", tmp_path)
    yield base
    process.terminate()
    process.wait(30)


def test_the_api_answers_a_json_503_and_the_pages_a_chinese_503_page(portal_without_database):
    base = portal_without_database
    for path in ("/api/v1/activities/", "/api/v1/halls/", "/api/v1/statistics/?hall=1&year=2025"):
        status, headers, body = _get(base + path)
        assert status == 503, (path, body)
        assert headers["Content-Type"] == "application/json"
        assert headers["Retry-After"] == "30"
        assert json.loads(body) == {"detail": "数据库暂时无法连接,您的数据没有丢失,请稍后再试。"}
    status, body = _post(
        base + "/api/v1/activities/1/bookings/",
        b'{"name": "\\u5f20\\u4e09", "phone": "13800138000", "seats": 1}',
    )
    assert status == 503, body
    assert "detail" in json.loads(body)

    for path in ("/", "/activities/", "/halls/"):
        status, headers, body = _get(base + path)
        assert status == 503, (path, body)
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Retry-After"] == "30"
        assert "服务暂时不可用" in body and "数据库暂时无法连接" in body
    # In English for a browser that asks for it.
    status, _headers, body = _get(base + "/activities/", **{"Accept-Language": "en"})
    assert status == 503

    # The health check says which part is down.
    status, _headers, body = _get(base + "/health/")
    assert status == 503 and '"database": "error: OperationalError"' in body


def test_a_database_that_never_answers_costs_the_connect_timeout(tmp_path):
    # A listener that accepts connections and says nothing: a hung server, or a firewall that
    # swallows packets.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/portal"
    process, base = _serve(url, tmp_path, DATABASE_CONNECT_TIMEOUT="2")
    try:
        start = time.monotonic()
        status, headers, body = _get(base + "/api/v1/activities/")
        took = time.monotonic() - start
        assert status == 503, body
        assert headers["Retry-After"] == "30"
        assert took < 10, f"took {took:.1f} s"
    finally:
        process.terminate()
        process.wait(30)
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        silent.close()
