"""A real Celery worker on Redis is killed halfway through a report; a second worker finishes
it, exactly once.

The worker processes read this test's PostgreSQL database (the test commits: transaction=True)
and a Redis database of their own, emptied before and after. ``REPORT_BUILD_PAUSE`` holds the
first worker's build halfway so that it can be killed there.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.db import connection
from openpyxl import load_workbook

from evaluation.reports.models import ReportRun
from tests.conftest import need_postgres, need_redis

ROOT = Path(__file__).resolve().parents[3]
# A Redis database no one else uses: CI's own is 15, a developer's usually 0.
REDIS_DB = int(os.environ.get("REPORT_TEST_REDIS_DB", "13"))
VISIBILITY_TIMEOUT = 4
STALE_SECONDS = 3
TASK = "evaluation.reports.services.build_report"


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def _redis_url(base: str) -> str:
    """The same server as ``base``, another database: this test empties its own."""
    parts = urlsplit(base)
    db = REDIS_DB
    if parts.path.strip("/") == str(db):
        db = (db + 1) % 16
    return urlunsplit(parts._replace(path=f"/{db}"))


def _flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def _start_worker(env: dict, name: str, log: Path, queue: str) -> subprocess.Popen:
    # A session of its own: the worker's parent and its pool child die together on killpg.
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
            f"--queues={queue}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(worker: subprocess.Popen | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=30)


def _wait_for(condition, timeout: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")


@pytest.mark.django_db(transaction=True)
def test_a_report_whose_worker_is_killed_is_finished_once_by_the_next(cast, tmp_path, settings):
    need_postgres()
    broker = _redis_url(need_redis())
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {
        **os.environ,
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        # Should a worker die holding the lock of the sweep that restores lost messages.
        "CELERY_UNACKED_MUTEX_EXPIRE": "1",
        "REPORT_STALE_SECONDS": str(STALE_SECONDS),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    first_log, second_log = tmp_path / "worker1.log", tmp_path / "worker2.log"
    logs = [first_log, second_log]
    first = second = None
    # A queue of this run's own: nothing else sent to this Redis database reaches its workers.
    queue = f"report-test-{uuid.uuid4().hex[:8]}"
    _flush(broker)
    from celery import Celery

    sender = Celery("report-test", broker=broker, set_as_current=False)
    try:
        first = _start_worker({**env, "REPORT_BUILD_PAUSE": "60"}, "first", first_log, queue)
        sender.send_task(TASK, args=["quarterly", "2026Q3", cast.county.pk], queue=queue)

        def running():
            return ReportRun.objects.filter(status=ReportRun.Status.RUNNING).first()

        run = _wait_for(running, 60, "the first worker to claim the run", logs)
        assert run.attempts == 1 and run.claimed_by
        # Let it get past the first sections into the pause (it beats there).
        _wait_for(
            lambda: ReportRun.objects.filter(pk=run.pk, heartbeat_at__gt=run.heartbeat_at).exists(),
            30,
            "the first worker's heartbeat",
            logs,
        )
        _kill(first)
        assert first.returncode == -signal.SIGKILL
        assert ReportRun.objects.get(pk=run.pk).status == ReportRun.Status.RUNNING

        # The second worker sweeps for lost messages every second (the default is 100 s).
        second = _start_worker(
            {**env, "CELERY_UNACKED_RESTORE_INTERVAL": "1", "CELERY_UNACKED_RESTORE_THROTTLE": "1"},
            "second",
            second_log,
            queue,
        )

        def done():
            return ReportRun.objects.filter(pk=run.pk, status=ReportRun.Status.DONE).first()

        finished = _wait_for(done, 90, "the second worker to finish the run", logs)
        # Give a duplicate delivery, if there were one, the time to show itself.
        time.sleep(STALE_SECONDS + 2)
    finally:
        _kill(first)
        _kill(second)
        _flush(broker)
        sender.close()

    assert ReportRun.objects.count() == 1
    finished = ReportRun.objects.get(pk=run.pk)
    assert finished.status == ReportRun.Status.DONE
    assert finished.attempts == 2
    assert finished.claimed_by != run.claimed_by
    files = sorted((settings.MEDIA_ROOT / "reports").rglob("*"))
    files = [f for f in files if f.is_file()]
    assert [f.name for f in files] == [Path(finished.file.name).name]
    with finished.file.open("rb") as f:
        book = load_workbook(io.BytesIO(f.read()))
    assert book.sheetnames[0] == "概况"
    assert next(book["概况"].iter_rows(values_only=True))[0] == "官渡区文化馆 2026Q3 季度报告"
