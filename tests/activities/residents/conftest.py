from __future__ import annotations

import json

import pytest


class Outbox:
    """The file backend's JSON lines, as the tests read them."""

    def __init__(self, path) -> None:
        self.path = path

    def all(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def to(self, phone: str) -> list[dict]:
        return [m for m in self.all() if m["phone"] == phone]

    def templates(self, phone: str) -> list[str]:
        return [m["template"] for m in self.to(phone)]

    def code(self, phone: str) -> str:
        return [m for m in self.to(phone) if m["template"] == "verify_code"][-1]["params"]["code"]


@pytest.fixture
def outbox(settings, tmp_path, eager_tasks):
    """The ``file`` SMS backend writing to a fresh file, and no quiet hours (tests of the quiet
    hours set their own). Tasks run in the test's process (with REDIS_URL too): these tests are
    about what is sent, not about the broker."""
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    settings.SMS_QUIET_HOURS = ""
    return Outbox(tmp_path / "sms.jsonl")
