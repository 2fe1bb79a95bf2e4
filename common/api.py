"""Pieces every app's API shares: pagination, the error mapping and the documented error shapes.

Services raise ``django.core.exceptions.ValidationError``; ``exception_handler`` turns it into the
same ``400 {field: [message, ...]}`` body that serializer and filter errors have, so a client sees
one error shape whichever layer caught the problem.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from . import ratelimit
from .forms import shallow_copy
from .parsers import JSONParser
from .validators import MOBILE_PATTERN


def _django_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): list(
                messages
            )
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]):
    """DRF's handler, plus: a service's Django ``ValidationError`` is a 400 with field errors, and
    a spent rate budget (``common.ratelimit``) a 429 that says when to try again."""
    if isinstance(exc, ratelimit.RateLimited):
        retry_after = exc.retry_after
        exc = Throttled(
            detail=gettext("操作太频繁,请 %(minutes)d 分钟后再试。") % {"minutes": exc.minutes}
        )
        exc.wait = retry_after  # becomes the Retry-After header
    elif isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=_django_error_detail(exc))
    elif isinstance(exc, Http404):
        # get_object_or_404's message is untranslated English naming the model; say "not found"
        # in the request's language instead.
        exc = NotFound()
    response = drf_exception_handler(exc, context)
    # A 401 that no authentication class answered for (a resident without a verified phone)
    # still says how to authenticate.
    auth_header = getattr(exc, "auth_header", None)
    if response is not None and auth_header:
        response["WWW-Authenticate"] = auth_header
    return response


def _clean_int(field: forms.IntegerField, name: str, raw: str) -> int:
    # Django's form fields carry messages already translated into Chinese and English.
    try:
        return field.clean(raw)
    except DjangoValidationError as exc:
        raise ValidationError({name: exc.messages}) from exc


def validated(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data; a 400 with the field errors otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Serializer(serializers.Serializer):
    """DRF's ``Serializer``, each instance with shallow copies of the declared fields.

    DRF deep-copies every declared field for every serializer it builds, which runs each
    field's ``__init__`` again (its validators, messages and choices): for a booking, the two
    serializers' copies cost about as much CPU as the SQL they wrap. A shallow copy still gives
    each instance field objects of its own to bind; what the copies share (validators, choices,
    messages) is built with the class and never changed afterwards. A field that holds other
    fields (a list's or dict's child, a nested serializer, a many-related field) is deep-copied
    as DRF does, because its children are bound to it. Every plain serializer of the project
    derives from this one; a ``ModelSerializer`` builds its fields afresh anyway.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _field_copy(field) for name, field in self._declared_fields.items()}


def _field_copy(field: serializers.Field) -> serializers.Field:
    if (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
    ):
        return copy.deepcopy(field)
    return shallow_copy(field)


def enum_field(choices, description: str):
    """Marks a serializer field class as an inline enum of ``choices`` in the schema."""
    # Inline enums: several models have a "status", and a named component per model would need
    # an ENUM_NAME_OVERRIDES entry in the settings for each.
    return extend_schema_field(
        {"type": "string", "enum": [value for value, _label in choices], "description": description}
    )


class ResidentEndpoint:
    """No authentication (residents have no account, so no CSRF either), JSON bodies only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]


class Pagination(PageNumberPagination):
    """50 a page; ``page_size`` up to 200. A malformed ``page`` or ``page_size`` is a 400 with
    the parameter named, rather than being silently replaced by a default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    page_query_description = _("页码,从 1 开始。超出最后一页时返回 404。")
    page_size_query_description = _("每页条数,1–200,默认 50。")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        field = forms.IntegerField(min_value=1, max_value=self.max_page_size)
        return _clean_int(field, self.page_size_query_param, raw)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw in (None, ""):
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return _clean_int(forms.IntegerField(min_value=1), self.page_query_param, raw)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"]["minimum"] = 1
            elif param["name"] == self.page_size_query_param:
                param["schema"].update(
                    {"minimum": 1, "maximum": self.max_page_size, "default": self.page_size}
                )
        return params


# --- Documented error responses, for ``extend_schema(responses=...)`` ---------------------------

Detail = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})

# A phone given as a query parameter (a lookup's), as the body's phone fields show it: their
# ``mobile_validator`` is a RegexValidator, whose pattern drf-spectacular writes out itself.
MOBILE_SCHEMA = {"type": "string", "pattern": MOBILE_PATTERN, "example": "13800138000"}

FIELD_ERRORS = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=_(
        "输入有误:正文是 {字段或参数名: [错误信息, …]},非字段错误在 non_field_errors 下。"
        "信息按请求的 Accept-Language 给出(默认简体中文,可选 en)。"
    ),
    examples=[
        OpenApiExample(
            "field_errors",
            value={"kind": ["选择一个有效的选项。 castle 不在可用的选项中。"]},
            response_only=True,
            status_codes=["400"],
        )
    ],
)
NOT_AUTHENTICATED = OpenApiResponse(
    response=Detail,
    description=_("未登录:需要会话(Cookie + CSRF)或接口令牌(Authorization: Token …)。"),
)
FORBIDDEN = OpenApiResponse(response=Detail, description=_("已登录,但该账号无权执行此操作。"))
NOT_FOUND = OpenApiResponse(response=Detail, description=_("对象不存在,或不在该账号的管辖范围内。"))
RATE_LIMITED = OpenApiResponse(
    response=Detail,
    description=_("请求太频繁(按来源 IP 和手机号码分别计数)。响应头 Retry-After 给出秒数。"),
    examples=[
        OpenApiExample(
            "rate_limited",
            value={"detail": "操作太频繁,请 10 分钟后再试。"},
            response_only=True,
            status_codes=["429"],
        )
    ],
)
UNSUPPORTED = OpenApiResponse(
    response=Detail, description=_("正文不是 JSON:请用 Content-Type: application/json。")
)


# ``@action(**STEP)``: a staff step is a POST on one object, with no list filters or pages.
STEP = {"detail": True, "methods": ["post"], "filterset_class": None, "pagination_class": None}


def step_schema(summary, description, request, response, example=None):
    """The schema of a staff step on one object (a POST to ``<id>/<step>/``)."""
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={
            200: response,
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            415: UNSUPPORTED,
        },
        examples=[example] if example else None,
    )


# Query parameters that only page a list: a page past the end is a 404, never a 400.
_PAGING = {"page", "page_size", "format"}


def document_errors(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular's postprocessing hook (``SPECTACULAR_SETTINGS``): the errors every
    endpoint can give, where its own ``extend_schema`` has not said them. An operation on one
    object, or a page of a list, can answer 404; one that takes filters can answer 400 with the
    field errors. A client checking answers against the schema then finds each documented."""
    schemas = result.get("components", {}).get("schemas", {})
    detail = (
        {"$ref": "#/components/schemas/ErrorDetail"}
        if "ErrorDetail" in schemas
        else {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        }
    )
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            places = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
            responses = operation["responses"]
            if "404" not in responses and any(
                where == "path" or name == "page" for where, name in places
            ):
                responses["404"] = {
                    "description": gettext("对象不存在、不在该账号的管辖范围内,或页码超出范围。"),
                    "content": {"application/json": {"schema": detail}},
                }
            if "400" not in responses and any(
                where == "query" and name not in _PAGING for where, name in places
            ):
                responses["400"] = {
                    "description": str(FIELD_ERRORS.description),
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "additionalProperties": {}}
                        }
                    },
                }
    return result
