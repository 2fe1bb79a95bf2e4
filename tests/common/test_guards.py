"""Abuse and bad input, tried from outside: a made-up X-Forwarded-For, a lockout aimed at
someone else's account, NUL bytes, JSON nested thousands deep, a formula in an exported CSV.

The abuse tests speak HTTP to the live server from different loopback source addresses
(127.0.0.2, 127.0.0.3), which is how two real clients differ."""

from __future__ import annotations

import base64
import csv
import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory

from activities.digital.models import Resource
from common.ratelimit import client_ip
from network import services as network_services
from network.exchange import export_network, import_network
from network.models import Hall
from tests.activities.digital.factories import published

pytestmark = pytest.mark.django_db


def _request(live_server, method, path, *, source, headers=None, body=None):
    url = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(
        url.hostname, url.port, timeout=10, source_address=(source, 0)
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_client_address_believes_forwarded_headers_only_from_trusted_proxies(settings):
    factory = RequestFactory()
    forged = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    settings.TRUSTED_PROXIES = []
    assert client_ip(factory.get("/", **forged)) == "203.0.113.9"
    # Through the deployment's proxy: the rightmost address that is not a proxy is the client,
    # whatever the client wrote to the left of it.
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    proxied = factory.get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.0.0.9"
    )
    assert client_ip(proxied) == "198.51.100.7"
    # A client that is not the proxy cannot pretend to be behind it.
    assert client_ip(factory.get("/", **forged)) == "203.0.113.9"
    # Garbage in the header is never taken as an address.
    odd = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip, 10.0.0.9")
    assert client_ip(odd) == "10.0.0.5"


@pytest.mark.django_db(transaction=True)
def test_a_made_up_forwarded_header_does_not_reset_the_rate_limit(live_server, cast, settings):
    settings.TRUSTED_PROXIES = []
    settings.DIGITAL_PLAYS_PER_IP = 3
    resource = published(cast.branch, title="限流测试")
    path = f"/api/v1/digital/{resource.pk}/plays/"
    for n in range(6):
        forged = {"X-Forwarded-For": f"10.9.{n}.{n}"}
        status, _body = _request(live_server, "POST", path, source="127.0.0.2", headers=forged)
        assert status == 204
    assert Resource.objects.get(pk=resource.pk).plays == 3
    # Another machine has its own budget.
    _request(live_server, "POST", path, source="127.0.0.3")
    assert Resource.objects.get(pk=resource.pk).plays == 4


@pytest.mark.django_db(transaction=True)
def test_nobody_elsewhere_can_lock_an_account_out(live_server, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login = "/admin/login/"

    def attempt(source: str, password: str) -> int:
        # A fresh session each time: fetch the form for the CSRF cookie and token.
        url = urlsplit(live_server.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, source_address=(source, 0))
        conn.request("GET", login)
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        body = f"csrfmiddlewaretoken={token}&username=centre_director&password={password}"
        conn.request(
            "POST",
            login,
            body=body,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status

    for _ in range(4):
        attempt("127.0.0.2", "wrong-password")
    # Locked from the attacker's address (axes answers with its lockout page) ...
    assert attempt("127.0.0.2", cast.password) in (403, 429)
    # ... but the director still signs in from the office.
    assert attempt("127.0.0.3", cast.password) == 302


def test_nul_bytes_anywhere_are_a_400_that_says_so(client, cast):
    response = client.get("/api/v1/bookings/A%00/cancel/")
    assert response.status_code == 400 and "空字符" in response.json()["detail"]
    response = client.get("/activities/", {"county": "1\x00"})
    assert response.status_code == 400 and "空字符" in response.content.decode()
    basic = base64.b64encode(b"ad\x00min:secret").decode()
    response = client.get("/api/v1/halls/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 400
    response = client.get("/", HTTP_USER_AGENT="x\x00y")
    assert response.status_code == 400


def test_json_nested_thousands_deep_is_a_400(client, cast):
    body = "[" * 5000 + "]" * 5000
    response = client.post("/api/v1/demands/", body, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套" in json.dumps(response.json(), ensure_ascii=False)


def test_an_exported_csv_runs_no_formula_and_imports_back(cast, tmp_path):
    network_services.hall_update(
        hall=cast.point, address='=HYPERLINK("http://evil.example","点我")'
    )
    path = tmp_path / "halls.csv"
    export_network(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    result = import_network(path)
    assert (result.created, result.updated, result.moved) == (0, 0, 0)
    assert Hall.objects.get(pk=cast.point.pk).address.startswith("=HYPERLINK(")


def test_json_nested_thousands_deep_to_a_staff_endpoint_is_a_400(client, cast):
    # Staff endpoints parse with the project's default parsers, not the residents' own.
    client.force_login(cast.branch_staff)
    body = "[" * 5000 + "]" * 5000
    response = client.patch(
        f"/api/v1/halls/{cast.point.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "嵌套" in json.dumps(response.json(), ensure_ascii=False)
    response = client.post("/api/v1/dispatches/", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["//other.host/", "https://evil.example/", "/\\evil"])
def test_the_language_switch_goes_back_only_to_this_site(client, target):
    # The header's language buttons post the page's own address as ``next``.
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/halls/?q=1"})
    assert response["Location"] == "/halls/?q=1"
