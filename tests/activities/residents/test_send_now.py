"""Messages due now go by one task a second per web process (``messages_send_now``), not a
task each: what the broker receives, what the task sends, and a failed first try that goes on
as ``message_deliver``'s retry. On a ``redis-server`` of the test's own (as the Redis fault
tests), with no worker: the queue is read as it is.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.utils import timezone

from activities.residents import services
from activities.residents.models import Message
from tests.portal.test_redis_faults import on_redis, redis_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)

SEND_NOW = "activities.residents.services.messages_send_now"
DELIVER = "activities.residents.services.message_deliver"


@pytest.fixture
def bell(monkeypatch, on_redis, settings, tmp_path):  # noqa: F811 - the fixture above
    """A bell never rung, a clock the test moves, and the file backend."""
    clock = {"now": 1000.0}
    monkeypatch.setattr(services, "_rung_until", 0.0)
    monkeypatch.setattr(services, "monotonic", lambda: clock["now"])
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms" / "out.jsonl")
    (tmp_path / "sms").mkdir()
    settings.SMS_QUIET_HOURS = ""
    return clock


def _queued(server) -> list[dict]:
    """The tasks on the broker's default queue: name, args, eta and retries of each."""
    out = []
    for raw in server.client.lrange("celery", 0, -1):
        message = json.loads(raw)
        headers = message["headers"]
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        out.append(
            {
                "task": headers["task"],
                "args": args,
                "eta": headers["eta"],
                "retries": headers["retries"],
            }
        )
    return out


def _send(phone: str) -> Message:
    return services.message_send(
        phone=phone, template="order_done", params={"code": "D2612070"}, urgent=True
    )


def test_the_messages_of_one_second_share_one_task_which_sends_them_all(bell, on_redis):  # noqa: F811
    made = [_send(f"1380000000{i}") for i in range(5)]

    [task] = _queued(on_redis)
    assert task["task"] == SEND_NOW and task["eta"] is not None
    assert {m.status for m in Message.objects.all()} == {Message.Status.QUEUED}

    assert services.messages_send_now() == 5
    sent = Message.objects.filter(pk__in=[m.pk for m in made], status=Message.Status.SENT)
    assert sent.count() == 5 and {m.attempts for m in sent} == {1}
    assert services.messages_send_now() == 0  # each goes once


def test_a_message_after_the_second_rings_again(bell, on_redis):  # noqa: F811
    _send("13800000001")
    bell["now"] += 0.5
    _send("13800000002")
    assert [t["task"] for t in _queued(on_redis)] == [SEND_NOW]
    bell["now"] += services.SEND_NOW_SECONDS
    _send("13800000003")
    assert [t["task"] for t in _queued(on_redis)] == [SEND_NOW, SEND_NOW]


def test_a_failed_first_try_goes_on_as_the_first_retry_of_its_own_task(
    bell,
    on_redis,  # noqa: F811
    settings,
    tmp_path,
):
    settings.SMS_FILE_PATH = str(tmp_path / "missing" / "out.jsonl")  # the provider is down
    settings.SMS_RETRY_BACKOFF = 30
    message = _send("13800000001")
    on_redis.client.delete("celery")

    assert services.messages_send_now() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)
    assert "No such file or directory" in message.last_error
    [retry] = _queued(on_redis)
    assert (retry["task"], retry["args"], retry["retries"]) == (DELIVER, [message.pk], 1)
    assert retry["eta"] is not None

    # Its retry is the task's business: the next batch leaves it alone.
    assert services.messages_send_now() == 0


def test_a_message_held_over_the_quiet_hours_is_not_the_batch_s(bell, on_redis, settings):  # noqa: F811
    settings.SMS_QUIET_HOURS = "22:00-08:00"
    tonight = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    held = services.message_send(
        phone="13800000001", template="order_done", params={"code": "D1"}, now=tonight
    )
    assert held.send_after > timezone.now()  # tomorrow at 8, by a task of its own
    [task] = _queued(on_redis)
    assert (task["task"], task["args"]) == (DELIVER, [held.pk])
    assert services.messages_send_now() == 0
    assert Message.objects.get(pk=held.pk).status == Message.Status.QUEUED
