"""The aliyun and tencent backends, through their SDKs, against a local stand-in for each
provider's endpoint that answers as the provider documents (and records what it was sent)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from activities.residents import services
from activities.residents.models import Message
from activities.residents.providers import param_names

PHONE = "13800138000"
PARAMS = {"activity": "花灯戏", "start": "12-09 19:30", "seats": 2, "code": "K7QH3M2X"}


class StandIn:
    """One provider's endpoint on 127.0.0.1: each request is kept, each answer is ``reply``."""

    def __init__(self, reply) -> None:
        self.requests: list[dict] = []
        self.reply = reply
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                stand_in.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": raw,
                        "query": parse_qs(urlsplit(self.path).query),
                    }
                )
                status, body = stand_in.reply(stand_in.requests[-1])
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    made = []

    def make(reply):
        made.append(StandIn(reply))
        return made[-1]

    yield make
    for server in made:
        server.close()


def send(django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send(
            phone=PHONE, template="booking_confirmed", params=PARAMS, urgent=True
        )
    message.refresh_from_db()
    return message


@pytest.fixture
def aliyun(settings, eager_tasks):
    settings.SMS_BACKEND = "aliyun"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "test-key"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-secret"
    settings.SMS_TEMPLATE_IDS = {"booking_confirmed": "SMS_465300001"}
    settings.SMS_SIGNATURE = "官渡区文化馆"
    return settings


def _aliyun_fields(request) -> dict:
    fields = {k: v[0] for k, v in request["query"].items()}
    fields.update({k: v[0] for k, v in parse_qs(request["body"]).items()})
    return fields


def test_aliyun_sends_the_template_id_signature_and_parameters(
    db, aliyun, stand_in, django_capture_on_commit_callbacks
):
    server = stand_in(
        lambda request: (
            200,
            {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r1"},
        )
    )
    aliyun.ALIYUN_SMS_ENDPOINT = server.url
    message = send(django_capture_on_commit_callbacks)
    assert message.status == Message.Status.SENT and message.provider_id == "900619746936498440^0"
    [request] = server.requests
    fields = _aliyun_fields(request)
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-acs-action"] == "SendSms" and headers["x-acs-version"] == "2017-05-25"
    assert fields["PhoneNumbers"] == PHONE
    assert fields["SignName"] == "官渡区文化馆"
    assert fields["TemplateCode"] == "SMS_465300001"
    assert json.loads(fields["TemplateParam"]) == {k: str(v) for k, v in PARAMS.items()}
    assert headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=test-key,")


def test_aliyun_refusals_are_retried_and_recorded(
    db, aliyun, stand_in, django_capture_on_commit_callbacks
):
    server = stand_in(
        lambda request: (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "r2"},
        )
    )
    aliyun.ALIYUN_SMS_ENDPOINT = server.url
    message = send(django_capture_on_commit_callbacks)
    assert message.status == Message.Status.FAILED
    assert message.attempts == aliyun.SMS_MAX_ATTEMPTS == len(server.requests)
    assert "isv.BUSINESS_LIMIT_CONTROL" in message.last_error


@pytest.fixture
def tencent(settings, eager_tasks):
    settings.SMS_BACKEND = "tencent"
    settings.TENCENT_SMS_SECRET_ID = "test-id"
    settings.TENCENT_SMS_SECRET_KEY = "test-key"
    settings.TENCENT_SMS_APP_ID = "1400000001"
    settings.SMS_TEMPLATE_IDS = {"booking_confirmed": "2000001"}
    settings.SMS_SIGNATURE = "官渡区文化馆"
    return settings


def test_tencent_sends_the_parameters_in_the_templates_order(
    db, tencent, stand_in, django_capture_on_commit_callbacks
):
    def reply(request):
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": "5000:1045710669157053657849499619",
                        "PhoneNumber": f"+86{PHONE}",
                        "Fee": 1,
                        "SessionContext": "",
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
            }
        }

    server = stand_in(reply)
    tencent.TENCENT_SMS_ENDPOINT = server.url
    message = send(django_capture_on_commit_callbacks)
    assert message.status == Message.Status.SENT
    assert message.provider_id == "5000:1045710669157053657849499619"
    [request] = server.requests
    assert request["headers"]["X-TC-Action"] == "SendSms"
    assert request["headers"]["X-TC-Version"] == "2021-01-11"
    assert request["headers"]["Authorization"].startswith("TC3-HMAC-SHA256")
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == [f"+86{PHONE}"]
    assert (body["SmsSdkAppId"], body["SignName"], body["TemplateId"]) == (
        "1400000001",
        "官渡区文化馆",
        "2000001",
    )
    assert param_names("booking_confirmed") == ["activity", "start", "seats", "code"]
    assert body["TemplateParamSet"] == ["花灯戏", "12-09 19:30", "2", "K7QH3M2X"]


def test_tencent_errors_and_a_missing_template_id_are_recorded(
    db, tencent, stand_in, django_capture_on_commit_callbacks
):
    server = stand_in(
        lambda request: (
            200,
            {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                    "RequestId": "r3",
                }
            },
        )
    )
    tencent.TENCENT_SMS_ENDPOINT = server.url
    message = send(django_capture_on_commit_callbacks)
    assert message.status == Message.Status.FAILED and "AuthFailure" in message.last_error
    tencent.SMS_TEMPLATE_IDS = {}
    message = send(django_capture_on_commit_callbacks)
    assert "SMS_TEMPLATE_IDS" in message.last_error


def test_a_provider_that_does_not_answer_is_an_error_not_a_hang(
    db, aliyun, django_capture_on_commit_callbacks
):
    aliyun.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:9"  # nothing listens on the discard port
    aliyun.SMS_TIMEOUT_SECONDS = 2
    message = send(django_capture_on_commit_callbacks)
    assert message.status == Message.Status.FAILED and message.last_error
