"""What the benchmark scripts share: the machine's description, SQL on a scratch database's
server, and each measured step in a process of its own that reports one ``RESULT`` line.

The scripts run as ``python bench/<name>.py``, so this module is found beside them.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(**figures) -> None:
    """A phase's figures, as the one line ``run_phase`` reads back."""
    print("RESULT " + json.dumps(figures, default=str), flush=True)


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log growing through thousands of timed queries


def run_phase(script: str, name: str, env: dict, arguments: Sequence[str]) -> dict:
    """Run ``script --phase name *arguments`` in a process of its own (so its peak RSS is its
    own) and return the figures it emitted; stop the benchmark if it failed."""
    command = [sys.executable, script, "--phase", name, *arguments]
    print(f"… {name}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"phase {name} failed")
    print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


def admin_sql(url: str, *statements: str) -> list:
    """Run ``statements`` in autocommit (CREATE/DROP DATABASE need it); the rows of each that
    returns any."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    out = []
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            if cursor.description:
                out.append(cursor.fetchall())
    conn.close()
    return out


def scratch_database(name: str) -> tuple[str, str]:
    """Create the database ``name`` afresh on the server of ``DATABASE_URL``; its URL, and the
    URL of the server's ``postgres`` database (to drop it from when done)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the server to create the scratch db on)")
    parts = urlsplit(url)
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    server_url = urlunsplit(parts._replace(path="/postgres"))
    admin_sql(server_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    return bench_url, server_url


def machine() -> dict:
    mem_kb = int(
        next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]
    )
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
    }
