"""The OpenAPI schema, its offline docs page, and the API's shared error mapping."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.http import Http404
from rest_framework.test import APIRequestFactory

from common.api import exception_handler

SCHEMA = "/api/v1/schema/"
DOCS = "/api/v1/docs/"
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
ASSET = re.compile(r"""(?:src|href)="([^"]+)\"""")


def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/halls/" in out.read_text(encoding="utf-8")


@pytest.fixture
def schema(client):
    response = client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_describes_the_halls_endpoints(schema):
    paths = schema["paths"]
    assert set(paths["/api/v1/halls/"]) == {"get"}
    assert set(paths["/api/v1/halls/{id}/"]) - {"parameters"} == {"get", "patch"}
    listing = paths["/api/v1/halls/"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"kind", "status", "parent", "within", "q", "page", "page_size"} <= set(params)
    assert params["page_size"]["schema"]["maximum"] == 200
    assert "400" in params["within"]["description"]  # a missing hall is a 400, documented
    assert set(params["kind"]["schema"]["enum"]) == {"centre", "main", "branch", "point"}
    assert {"200", "400"} <= set(listing["responses"])
    paginated = schema["components"]["schemas"]["PaginatedHallList"]
    page = paginated["properties"]
    assert {"count", "count_capped", "next", "previous", "results"} <= set(page)
    # A search's count may stop at the cap; the schema says so and when.
    assert page["count_capped"]["type"] == "boolean" and "count_capped" in paginated["required"]
    assert "SEARCH_COUNT_CAP" in page["count"]["description"]
    # One or two characters count to a lower cap: the count's meaning for them is written down.
    assert "SEARCH_SHORT_COUNT_CAP" in page["count"]["description"]
    assert "SEARCH_SHORT_COUNT_CAP" in listing["description"]
    # Other lists count exactly and say nothing of a cap.
    assert (
        "count_capped" not in schema["components"]["schemas"]["PaginatedActivityList"]["properties"]
    )
    hall = schema["components"]["schemas"]["Hall"]
    assert {"id", "code", "name", "kind", "status", "parent", "children_count"} <= set(
        hall["required"]
    )


def test_schema_documents_public_reads_and_authenticated_writes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert "basicAuth" not in schemes
    assert schemes["tokenAuth"]["type"] == "apiKey"
    assert schemes["tokenAuth"]["name"] == "Authorization"
    assert schemes["cookieAuth"]["in"] == "cookie"
    detail = schema["paths"]["/api/v1/halls/{id}/"]
    assert {} in detail["get"]["security"]  # anyone may read
    assert {} not in detail["patch"]["security"]
    assert {"400", "401", "403", "404"} <= set(detail["patch"]["responses"])
    assert "Accept-Language" in schema["info"]["description"]


@pytest.fixture
def docs_html(client):
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_docs_page_references_no_outside_host(client, docs_html):
    # The page's start script is a file of its own (no inline script under the site's CSP).
    script = client.get(DOCS, {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    script = script.content.decode()
    for text in (docs_html, script):
        outside = [u for u in URL.findall(text) if urlsplit(u).hostname not in {"testserver"}]
        assert outside == []
    # Swagger UI would otherwise load a badge from the public validator.
    assert '"validatorUrl": null' in script
    assert '"/api/v1/schema/"' in script


def _static_assets(html: str) -> list[str]:
    return [u for u in ASSET.findall(html) if u.startswith(settings.STATIC_URL)]


def test_docs_page_assets_are_our_own_static_files(docs_html):
    assets = _static_assets(docs_html)
    names = {a.rsplit("/", 1)[-1] for a in assets}
    assert {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"} <= names
    for asset in assets:
        relative = asset.split(settings.STATIC_URL, 1)[1]
        found = finders.find(relative)
        assert found, f"{asset} is not among the static files"


def test_docs_page_and_its_assets_are_served(live_server):
    with urllib.request.urlopen(live_server.url + DOCS, timeout=10) as response:
        html = response.read().decode()
    assets = _static_assets(html)
    assert len(assets) >= 3
    for asset in assets:
        with urllib.request.urlopen(live_server.url + asset, timeout=10) as response:
            assert response.status == 200
            served = response.read()
        with open(finders.find(asset.split(settings.STATIC_URL, 1)[1]), "rb") as file:
            assert served == file.read(), asset
    with urllib.request.urlopen(live_server.url + SCHEMA, timeout=10) as response:
        assert b"/api/v1/halls/" in response.read()


# --- The shared error mapping ----------------------------------------------------------------------


def _handle(exc):
    request = APIRequestFactory().get("/api/v1/halls/")
    return exception_handler(exc, {"request": request, "view": None})


def test_a_django_validation_error_with_fields_is_a_400_per_field():
    response = _handle(DjangoValidationError({"code": ["重复"], "__all__": ["不能同时设置"]}))
    assert response.status_code == 400
    assert response.data == {"code": ["重复"], "non_field_errors": ["不能同时设置"]}


def test_a_django_validation_error_without_fields_is_a_non_field_400():
    response = _handle(DjangoValidationError(["人数已满", "请换一场"]))
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["人数已满", "请换一场"]}


def test_http404_does_not_leak_the_model_name():
    response = _handle(Http404("No Hall matches the given query."))
    assert response.status_code == 404
    assert "Hall" not in str(response.data["detail"])


def test_every_operation_documents_the_404_and_400_it_can_give(schema):
    """An operation on one object (or a page of a list) can answer 404, one with filters 400:
    each is in the schema, so a client checking answers against it finds them documented."""
    for url, path in schema["paths"].items():
        for method, operation in path.items():
            if method == "parameters":
                continue
            places = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            if any(where == "path" or name == "page" for where, name in places):
                assert "404" in operation["responses"], f"{method} {url}"
            if any(w == "query" and n not in {"page", "page_size"} for w, n in places):
                assert "400" in operation["responses"], f"{method} {url}"


def test_a_lookups_phone_and_the_idempotency_key_say_what_is_accepted(schema):
    """A client generating requests from the schema sent an empty phone and keys of control
    characters, which the API refuses: the schema now says the phone's pattern and the key's
    characters and length, as the checks in the code take them."""
    import re as regex

    from common.idempotency import HEADER, MAX_KEY_LENGTH
    from common.validators import MOBILE_PATTERN

    seen = {"phone": 0, HEADER: 0}
    for path in schema["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"] == "phone":
                    assert parameter["schema"]["pattern"] == MOBILE_PATTERN
                    seen["phone"] += 1
                elif parameter["name"] == HEADER:
                    key = parameter["schema"]
                    assert (key["minLength"], key["maxLength"]) == (1, MAX_KEY_LENGTH)
                    assert regex.fullmatch(key["pattern"].strip("^$"), "a-1 b")
                    assert not regex.fullmatch(key["pattern"].strip("^$"), "   ")
                    assert not regex.fullmatch(key["pattern"].strip("^$"), "a\x01")
                    seen[HEADER] += 1
    assert seen["phone"] >= 3 and seen[HEADER] >= 5
