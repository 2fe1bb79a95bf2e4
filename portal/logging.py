"""One JSON object a line, for log collectors (Loki, ELK, journald) to read without a parser.

Stdlib only. Used for Django's, Celery's and gunicorn's logs in production.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# gunicorn hands its access-log atoms as the record's args; these are the ones worth a field.
_ACCESS_ATOMS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}
_NUMBERS = {"status", "bytes", "duration_ms"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            for atom, field in _ACCESS_ATOMS.items():
                value = record.args.get(atom)
                if value not in (None, "-", ""):
                    entry[field] = (
                        int(value) if field in _NUMBERS and str(value).isdigit() else value
                    )
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = _plain(key, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _plain(key: str, value: object) -> object:
    # django.request passes the request itself; its method and path are what a reader wants.
    if key == "request" and hasattr(value, "path"):
        return {"method": getattr(value, "method", None), "path": value.path}
    return value


_FORMAT_KEYS = re.compile(r"%\((.+?)\)")


@functools.lru_cache(maxsize=16)
def _shown_atoms(access_log_format: str) -> tuple[str, ...]:
    """The atoms a gunicorn access line shows: those of its format and the JSON fields."""
    return tuple(dict.fromkeys([*_FORMAT_KEYS.findall(access_log_format), *_ACCESS_ATOMS]))


class MaskPhones(logging.Filter):
    """Masks every mainland mobile number in a record's message (138****1234): logs carry no
    resident's full number, whichever code logged it (个人信息保护法)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Imported here: this module is read by gunicorn's config before Django is set up.
        from common.privacy import mask_phones_in

        if isinstance(record.args, Mapping):
            # gunicorn's access log: its atoms (the query string among them) stay a mapping,
            # which the JSON formatter reads field by field. Only the atoms a line can show are
            # kept: gunicorn hands every request header and environ entry too (57 of them), and
            # masking them all cost each request more than writing its log line.
            args = record.args
            record.args = {}
            for key in _shown_atoms(str(record.msg)):
                try:
                    value = args[key]
                except KeyError:
                    continue
                record.args[key] = mask_phones_in(value) if isinstance(value, str) else value
            return True
        message = record.getMessage()
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
