"""A real Celery worker on Redis sends a message while the provider is down: each attempt is
recorded, the task comes back after its backoff, and the message goes once the provider is up.

As in tests/evaluation/reports/test_report_worker.py: the worker reads this test's PostgreSQL
database (the test commits) and a Redis database and queue of its own.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

from activities.residents import services
from activities.residents.models import Message
from tests.conftest import need_postgres, need_redis
from tests.evaluation.reports.test_report_worker import (
    _database_url,
    _flush,
    _kill,
    _start_worker,
    _wait_for,
)

REDIS_DB = int(os.environ.get("SMS_TEST_REDIS_DB", "12"))
TASK = "activities.residents.services.message_deliver"


def _redis_url(base: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    db = REDIS_DB if parts.path.strip("/") != str(REDIS_DB) else (REDIS_DB + 1) % 16
    return urlunsplit(parts._replace(path=f"/{db}"))


def _worker_env(broker: str, outbox, **extra: str) -> dict[str, str]:
    """The worker's environment: this test's database and broker, the file SMS backend."""
    return {
        **os.environ,
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker,
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(outbox),
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_a_worker_retries_a_failing_provider_with_backoff_and_records_each_try(tmp_path):
    need_postgres()
    broker = _redis_url(need_redis())
    outbox = tmp_path / "provider" / "sms.jsonl"  # the directory is missing: the provider is down
    env = _worker_env(broker, outbox, SMS_RETRY_BACKOFF="1", SMS_MAX_ATTEMPTS="8")
    message = services.message_send(
        phone="13800138000",
        template="order_done",
        params={"code": "D2612070"},
        urgent=True,
    )
    log = tmp_path / "worker.log"
    queue = f"sms-test-{uuid.uuid4().hex[:8]}"
    _flush(broker)
    from celery import Celery

    # Not the current app: tasks queued later in this process must still find the portal's.
    sender = Celery("sms-test", broker=broker, set_as_current=False)
    worker = None
    try:
        worker = _start_worker(env, "sms", log, queue)
        sender.send_task(TASK, args=[message.pk], queue=queue)

        def failed_twice():
            return Message.objects.filter(pk=message.pk, attempts__gte=2).first()

        seen = _wait_for(failed_twice, 60, "two failed attempts", [log])
        assert seen.status in (Message.Status.QUEUED, Message.Status.SENDING)
        assert "No such file or directory" in seen.last_error
        outbox.parent.mkdir()  # the provider is back

        def sent():
            return Message.objects.filter(pk=message.pk, status=Message.Status.SENT).first()

        done = _wait_for(sent, 60, "the message to be sent", [log])
    finally:
        _kill(worker)
        _flush(broker)
        sender.close()
    assert 3 <= done.attempts <= 8 and done.sent_at is not None
    [line] = outbox.read_text().splitlines()
    assert json.loads(line)["params"] == {"code": "D2612070"}


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_a_burst_of_messages_due_now_with_one_task(tmp_path, monkeypatch):
    need_postgres()
    broker = _redis_url(need_redis())
    outbox = tmp_path / "sms.jsonl"
    env = _worker_env(broker, outbox)
    log = tmp_path / "worker.log"
    _flush(broker)
    from portal.celery import app
    from tests.portal.test_redis_faults import _fresh_pools

    # This process queues as a web process does: to the worker's broker, not eagerly.
    for name, value in {"broker_url": broker, "task_always_eager": False}.items():
        monkeypatch.setitem(app.conf, name, value)
    _fresh_pools(app)
    monkeypatch.setattr(services, "_rung_until", 0.0)
    worker = None
    try:
        worker = _start_worker(env, "sms-burst", log, "celery")
        made = [
            services.message_send(
                phone=f"1380000{i:04d}",
                template="order_done",
                params={"code": f"D{i}"},
                urgent=True,
            )
            for i in range(10)
        ]

        def all_sent():
            return Message.objects.filter(
                pk__in=[m.pk for m in made], status=Message.Status.SENT
            ).count() == len(made)

        _wait_for(all_sent, 60, "the ten messages to be sent", [log])
    finally:
        _kill(worker)
        _flush(broker)
        _fresh_pools(app)
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert sorted(m["params"]["code"] for m in lines) == sorted(f"D{i}" for i in range(10))
    # Made within a second of each other: one task sent them all (a slow machine may take two),
    # and no message had a task of its own.
    received = [line for line in log.read_text().splitlines() if "received" in line]
    assert 1 <= sum("messages_send_now[" in line for line in received) <= 2
    assert not any("message_deliver[" in line for line in received)
