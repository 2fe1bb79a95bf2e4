"""The residents' API: a code by SMS, a token for the code, and the token on resident writes.

A resident write (booking, cancelling, ordering) carries ``X-Resident-Token``; with
``RESIDENT_VERIFICATION=required`` the phone it acts for is the token's, whatever the body says,
and without a live token it is refused with 401 before anything is read or written.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common import ratelimit
from common.api import (
    FIELD_ERRORS,
    RATE_LIMITED,
    UNSUPPORTED,
    Detail,
    ResidentEndpoint,
    Serializer,
    validated,
)
from common.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_MISMATCH, idempotent
from common.privacy import CONSENT_REQUIRED, notice_version
from common.validators import mobile_validator

from . import selectors, services
from .models import IdempotentRequest
from .web import verification_required

# Residents' POSTs take an ``Idempotency-Key`` (common.idempotency); the schema names the header.
resident_idempotent = idempotent(IdempotentRequest)

HEADER = "X-Resident-Token"

RESIDENT_TOKEN = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "手机号码验证后得到的凭证(POST phone-tokens/)。RESIDENT_VERIFICATION=required(默认)"
        "时必填,所用手机号码以凭证为准;为 off 时不需要。"
    ),
)
UNVERIFIED = OpenApiResponse(
    response=Detail,
    description=_("缺少有效的 X-Resident-Token:请先验证手机号码。不保存任何内容。"),
    examples=[
        OpenApiExample(
            "unverified",
            value={
                "detail": "请先验证手机号码:获取短信验证码,换取凭证后放在请求头 X-Resident-Token 中。"
            },
            response_only=True,
            status_codes=["401"],
        )
    ],
)


class ResidentUnverified(APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("请先验证手机号码:获取短信验证码,换取凭证后放在请求头 X-Resident-Token 中。")
    default_code = "resident_unverified"
    # ``common.api.exception_handler`` sends it as the WWW-Authenticate header of the 401.
    auth_header = "ResidentToken"


def token_phone(request: Request) -> str | None:
    return selectors.phone_for_token(request.headers.get(HEADER, "").strip())


def verified_or_401(request: Request) -> str | None:
    """The token's phone when verification is required, checked before anything else is read
    (a 401 without a live token); None when verification is off."""
    if not verification_required():
        return None
    phone = token_phone(request)
    if phone is None:
        raise ResidentUnverified()
    return phone


def resident_phone(verified: str | None, data: dict) -> str:
    """The phone a resident write acts for: the verified one, else (verification off) the
    body's, which is then required."""
    if verified:
        return verified
    if not data.get("phone"):
        raise ValidationError({"phone": [_("请填写手机号码。")]})
    return data["phone"]


class PhoneSerializer(Serializer):
    phone = serializers.CharField(
        max_length=11, validators=[mobile_validator], help_text=_("预约时填写的手机号码")
    )


class ResidentPhoneSerializer(Serializer):
    """A resident write's phone: the token's when one is carried, so then it may be left out."""

    phone = serializers.CharField(
        max_length=11,
        validators=[mobile_validator],
        required=False,
        help_text=_("预约时填写的手机号码;带 X-Resident-Token 时以凭证的号码为准,可不填"),
    )


class ConsentField(serializers.BooleanField):
    """``consent``: the resident agreed to the privacy notice (/privacy/). Every resident write
    that gives a name or phone must carry ``true``; the record keeps the notice's version."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            _("已阅读并同意隐私政策(/privacy/),必须为 true;记录中保存所同意的隐私政策版本"),
        )
        super().__init__(required=True, error_messages={"required": CONSENT_REQUIRED}, **kwargs)

    def to_internal_value(self, data) -> bool:
        if super().to_internal_value(data) is not True:
            raise ValidationError(CONSENT_REQUIRED)
        return True


class PhoneCodeSerializer(Serializer):
    phone = serializers.CharField(max_length=20, help_text=_("中国大陆手机号码,11 位"))
    consent = ConsentField()


class PhoneTokenSerializer(Serializer):
    phone = serializers.CharField(max_length=20, help_text=_("接收验证码的手机号码"))
    code = serializers.CharField(max_length=10, help_text=_("短信里的 6 位验证码"))


class CodeSentSerializer(Serializer):
    phone = serializers.CharField()
    expires_in = serializers.IntegerField(help_text=_("验证码有效秒数"))
    resend_after = serializers.IntegerField(help_text=_("多少秒后可以重新获取"))
    debug_code = serializers.CharField(
        required=False,
        help_text=_("仅开发环境(DEBUG 且 SMS_BACKEND=console)返回验证码本身,生产环境没有此字段"),
    )


class TokenSerializer(Serializer):
    token = serializers.CharField(help_text=_("放在写请求的 X-Resident-Token 头里"))
    expires = serializers.DateTimeField(help_text=_("凭证失效时间"))


class PhoneCodeView(ResidentEndpoint, APIView):
    @extend_schema(
        summary=_("获取短信验证码"),
        description=_(
            "向手机号码发送 6 位验证码,5 分钟内有效,最多试 5 次;同一号码 60 秒后才能重发,"
            "按来源 IP 和手机号码分别限流(429 的 Retry-After 给出秒数)。"
        ),
        auth=[],
        request=PhoneCodeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: CodeSentSerializer,
            400: FIELD_ERRORS,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
            429: RATE_LIMITED,
        },
        examples=[
            OpenApiExample(
                "request", value={"phone": "13800138000", "consent": True}, request_only=True
            )
        ],
    )
    @resident_idempotent
    def post(self, request: Request) -> Response:
        services.CODE_BUDGET.charge_address(ratelimit.client_ip(request))
        data = validated(PhoneCodeSerializer, request.data)
        phone = services.valid_phone(data["phone"])
        services.CODE_BUDGET.charge_phone(phone)
        _row, code = services.phone_code_request(phone=phone)
        body = {
            "phone": phone,
            "expires_in": settings.PHONE_CODE_TTL_SECONDS,
            "resend_after": settings.PHONE_CODE_RESEND_SECONDS,
        }
        # Development only, as on the verify page: without a provider the code is shown.
        if settings.DEBUG and settings.SMS_BACKEND == "console":
            body["debug_code"] = code
        return Response(CodeSentSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class PhoneTokenView(ResidentEndpoint, APIView):
    @extend_schema(
        summary=_("用验证码换取居民凭证"),
        description=_(
            "验证码正确时返回凭证,RESIDENT_VERIFIED_DAYS 天(默认 30 天)内有效。"
            "验证码错误、过期、已用过或错误次数太多时返回 400,code 字段说明原因。"
        ),
        auth=[],
        request=PhoneTokenSerializer,
        responses={201: TokenSerializer, 400: FIELD_ERRORS, 415: UNSUPPORTED, 429: RATE_LIMITED},
        examples=[
            OpenApiExample(
                "request", value={"phone": "13800138000", "code": "123456"}, request_only=True
            ),
            OpenApiExample(
                "wrong_code",
                value={"code": ["验证码不正确,还可以再试 4 次。"]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        services.CHECK_BUDGET.charge_address(ratelimit.client_ip(request))
        data = validated(PhoneTokenSerializer, request.data)
        # The code was sent only to a phone whose holder agreed to the notice (phone-codes/).
        issued = services.phone_token_create(
            phone=data["phone"], code=data["code"], consent_version=notice_version()
        )
        return Response(
            TokenSerializer({"token": issued.token, "expires": issued.expires}).data,
            status=status.HTTP_201_CREATED,
        )
