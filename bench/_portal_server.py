"""A portal under gunicorn on a scratch PostgreSQL database, for the page and mixed-load benches:
the settings a deployment has (``DEBUG=0``, collected static files served by WhiteNoise, the
cache in Redis shared by every worker), the booking rate limits off (every request comes from
one address), and ``booking_bench``'s seed (a small hall tree, a page of published activities,
verified phones with their tokens).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import booking_bench as bb

HOST = bb.HOST
# As a browser asks: pages compressed by GZipMiddleware, static files by WhiteNoise ahead.
HEADERS = {"Accept-Encoding": "gzip"}


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, float]:
    """One GET on a fresh connection (gunicorn's sync workers close after each answer)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={**HEADERS, **(headers or {})})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response.status, time.perf_counter() - started


def get_cached(port: int, path: str) -> tuple[int, float, bool]:
    """``get``, and whether the answer was a kept page (``X-Page-Cache: hit``)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    kept = response.getheader("X-Page-Cache") == "hit"
    return response.status, time.perf_counter() - started, kept


def post_json(port: int, path: str, body: dict, token: str) -> tuple[int, bytes, float]:
    return bb.request(port, "POST", path, body, token=token)


@contextlib.contextmanager
def portal(
    *,
    db_name: str,
    redis_url: str,
    workers: int,
    list_size: int,
    verify: list[str],
    keep: bool = False,
    extra_env: dict | None = None,
):
    """Yield (port, seeded, env): the server up, the database seeded; all of it stopped and
    dropped (unless ``keep``) on the way out."""
    url = bb.database_url(db_name)
    if not db_name.replace("_", "").isalnum():
        sys.exit("--db-name: letters, digits and _ only")
    static_root = tempfile.mkdtemp(prefix="bench_static_")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "BOOKING_RATE_LIMIT_IP": "0",
        "BOOKING_RATE_LIMIT_PHONE": "0",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "ENV_FILE": "/dev/null",
        **(extra_env or {}),
    }
    env.pop("REDIS_URL", None)
    if redis_url != "none":
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        client.ping()
        client.flushdb()  # the bench's own db number: no page of an earlier run is served
        env["REDIS_URL"] = redis_url
    bb.admin_sql(url, f'DROP DATABASE IF EXISTS "{db_name}"', f'CREATE DATABASE "{db_name}"')
    process = None
    log = tempfile.TemporaryFile()
    try:
        bb.run([bb.PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        bb.run([bb.PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        seeded = json.loads(
            bb.run(
                [
                    bb.PYTHON,
                    str(Path(bb.__file__)),
                    "--phase",
                    "seed",
                    "--list-size",
                    str(list_size),
                    "--seats",
                    "100",
                    "--verify",
                    ",".join(verify),
                ],
                env,
            )
        )
        port = bb.free_port()
        process = bb.start_gunicorn(env, port, workers, log)
        yield port, seeded, env
    finally:
        if process is not None:
            bb.stop_gunicorn(process)
        log.seek(0)
        errors = [
            line for line in log.read().decode(errors="replace").splitlines() if "ERROR" in line
        ]
        if errors:
            print("gunicorn logged errors:\n" + "\n".join(errors[-20:]))
        log.close()
        if not keep:
            bb.admin_sql(url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(static_root, ignore_errors=True)
