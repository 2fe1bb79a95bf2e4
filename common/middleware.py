"""Site-wide guards.

One guard for the whole site against input no person types: a NUL byte in the path, the
query string, a header or the credentials. PostgreSQL cannot store one in text, so without the
guard such a request reached a query and answered 500; now it is a 400 that says what is wrong
(in the API, a query parameter's error is named by the parameter, as every field error is),
before any view, session or login backend sees it.

And one for a database that does not answer: a 503 that says so (JSON under /api/, the 503
page elsewhere) with ``Retry-After``, never a 500.

And django-csp's middleware, with the ordinary policy built once."""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import sys

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)
NUL = "\x00"


def _bad_parameter(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return key.replace(NUL, "") or "query"
    return None


def _bad_elsewhere(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
        return True
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            return True
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:6].lower() == "basic ":
        try:
            return b"\x00" in base64.b64decode(auth[6:].strip())
        except (binascii.Error, ValueError):
            return False
    return False


class RejectMalformedRequests:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parameter = _bad_parameter(request)
        if parameter is None and not _bad_elsewhere(request):
            return self.get_response(request)
        message = _("请求中含有空字符(NUL),无法处理;请检查地址、参数或登录信息。")
        if is_api(request):
            if parameter is not None:
                return JsonResponse({parameter: [_("不能含有空字符(NUL)。")]}, status=400)
            return JsonResponse({"detail": message}, status=400)
        return HttpResponse(
            f'<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>400</title>'
            f"<h1>{escape(_('请求有误'))}</h1><p>{escape(message)}</p>"
            f'<p><a href="/">{escape(_("返回首页"))}</a></p></html>',
            status=400,
        )


# --- A database that does not answer -----------------------------------------------------------

RETRY_AFTER_SECONDS = 30


def _database_down(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The answer while the database is down (refused, unreachable, timed out): a 503 that says
    so and when to come back, in JSON under /api/ and as a page elsewhere. The page is
    templates/503.html, which reads nothing from the database."""
    message = _("数据库暂时无法连接,您的数据没有丢失,请稍后再试。")
    if is_api(request):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    """A view (or the API) that fails because the database does not answer gets the 503 of
    ``database_unavailable`` instead of a 500; ``portal.urls.handler500`` does the same for a
    failure outside the views (a session saved after the response)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not _database_down(exception):
            return None
        logger.error("database unavailable: %s: %s", type(exception).__name__, exception)
        return database_unavailable(request)


def is_api(request: HttpRequest) -> bool:
    """Whether ``request`` is for the API, whose every answer, an error's too, is JSON."""
    return request.path.startswith("/api/")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when what failed was the database, else a 500: JSON under /api/,
    Django's page elsewhere."""
    if _database_down(sys.exc_info()[1]):
        return database_unavailable(request)
    if is_api(request):
        return JsonResponse({"detail": _("服务器出错了,请稍后再试。")}, status=500)
    return defaults.server_error(request)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: for a path no route takes (``/api/v1/halls/0.5/``, a mistyped endpoint),
    JSON under /api/ as every other API answer is, the site's page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": _("未找到。")}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a request Django refuses before any view: a body past the size limit, a
    suspicious header): JSON under /api/, Django's page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": _("请求无效。")}, status=400)
    return defaults.bad_request(request, exception)


# --- The Content-Security-Policy header ---------------------------------------------------------

# What a view or decorator sets on an answer to change its policy (csp.decorators), or to go
# without one: any of them, and django-csp builds the header itself.
_POLICY_CHANGES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware, with the policy of an ordinary answer built once.

    django-csp builds the header from the settings for every answer; for an answer that changes
    nothing (no decorator, no nonce, which is every page and API answer here but the API's docs
    page) that string never changes, and building it was a few per cent of a booking's CPU.
    Anything else, and a setting it would have to read (a report-only policy, excluded prefixes,
    DEBUG's error pages), goes through django-csp as before.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            HEADER in response
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _POLICY_CHANGES)
            or _policy_settings_unusual()
        ):
            return super().process_response(request, response)
        response[HEADER] = _ordinary_policy()
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


@functools.cache
def _ordinary_policy() -> str:
    return build_policy()


def _policy_settings_unusual() -> bool:
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    return bool(
        settings.DEBUG
        or policy.get("EXCLUDE_URL_PREFIXES")
        or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
    )


@receiver(setting_changed)
def _policy_setting_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _ordinary_policy.cache_clear()
