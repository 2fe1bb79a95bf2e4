"""Logs and error reports carry no resident's full phone number or name."""

from __future__ import annotations

import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from activities.residents.sms import ConsoleBackend, Outgoing
from portal.logging import MaskPhones


def test_the_console_sms_backend_logs_a_masked_phone(caplog):
    caplog.set_level(logging.INFO)
    ConsoleBackend().send(
        Outgoing(phone="13800138000", text="验证码 123456", template="code", params={})
    )
    assert "138****8000" in caplog.text
    assert "13800138000" not in caplog.text


def test_the_log_filter_masks_every_mobile_number_in_a_message():
    record = logging.makeLogRecord(
        {"msg": "booking by %s failed (%s)", "args": ("13800138000", "13912345678")}
    )
    assert MaskPhones().filter(record)
    assert record.getMessage() == "booking by 138****8000 failed (139****5678)"
    other = logging.makeLogRecord({"msg": "order 12345678901234 at %s", "args": ("x",)})
    MaskPhones().filter(other)
    assert other.getMessage() == "order 12345678901234 at x"


def test_the_console_handler_masks_phones(settings):
    assert "mask_phones" in settings.LOGGING["handlers"]["console"]["filters"]


def test_gunicorns_access_log_masks_the_query_and_keeps_its_fields():
    import json

    from portal.logging import JsonFormatter

    record = logging.makeLogRecord(
        {
            "name": "gunicorn.access",
            "msg": '%(h)s "%(r)s" %(s)s',
            "args": {
                "h": "10.0.0.1",
                "r": "GET /api/v1/bookings/ABC/?phone=13800138000 HTTP/1.1",
                "U": "/api/v1/bookings/ABC/",
                "q": "phone=13800138000",
                "s": "200",
            },
        }
    )
    assert MaskPhones().filter(record)
    line = JsonFormatter().format(record)
    assert "13800138000" not in line
    entry = json.loads(line)
    assert entry["query"] == "phone=138****8000" and entry["status"] == 200


def test_gunicorns_access_log_keeps_only_the_atoms_a_line_shows_each_masked():
    from gunicorn.config import Config

    msg = Config().access_log_format  # gunicorn's default: %(h)s %(l)s … "%(f)s" "%(a)s"
    record = logging.makeLogRecord(
        {
            "name": "gunicorn.access",
            "msg": msg,
            "args": {
                "h": "10.0.0.1", "l": "-", "u": "-", "t": "[07/Dec/2026:10:00:00 +0800]",
                "r": "GET /api/v1/bookings/ABC/?phone=13800138000 HTTP/1.1", "s": "200",
                "b": "12", "f": "https://example.cn/?tel=13912345678", "a": "Mozilla",
                "q": "phone=13800138000", "U": "/api/v1/bookings/ABC/",
                "{x-resident-phone}i": "13800138000", "HTTP_X_RESIDENT_PHONE": "13800138000",
            },
        }
    )  # fmt: skip
    assert MaskPhones().filter(record)
    assert "{x-resident-phone}i" not in record.args and "HTTP_X_RESIDENT_PHONE" not in record.args
    line = record.getMessage()
    assert "13800138000" not in line and "13912345678" not in line
    assert "?phone=138****8000" in line and "tel=139****5678" in line and line.startswith("10.0")


def test_gunicorn_logs_through_the_same_filter():
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))
    handler = conf["logconfig_dict"]["handlers"]["console"]
    assert handler["filters"] == ["mask_phones"]


def test_an_error_report_hides_what_the_resident_typed(settings):
    settings.DEBUG = False
    request = RequestFactory().post(
        "/activities/1/book/", {"name": "张三", "phone": "13800138000", "seats": "2"}
    )
    try:
        raise ValueError("boom")
    except ValueError:
        text = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "13800138000" not in text
    assert "张三" not in text
    assert "seats" in text
