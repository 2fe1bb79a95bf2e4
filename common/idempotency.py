"""``Idempotency-Key`` on residents' POSTs: a retry after a lost answer gets that answer again.

A client sends any key of its own (a UUID, say) with a POST. The first request with that key
claims a row (unique on scope + key) in the same transaction as its work, and leaves the answer
(status and body) on the row when it commits. For 24 hours a request with the same key and the
same body gets that answer back without doing anything again; the same key with a different body
is a 422. Two requests with one key at the same moment cannot both act: the second one's insert
waits on the unique index until the first commits, then reads the first one's answer. A request
that fails with an error (a 400, a 401, a 429) leaves no row: it changed nothing, and a retry
runs again.

The scope of a key is the endpoint (method and path) and the resident's token, so one client's
key never answers for another's. Like ``common.jobs``, this module holds the abstract row and the
logic; the concrete model lives in the app that owns it (the residents' channel:
``activities.residents.models.IdempotentRequest``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    # What ``_key`` takes: printable ASCII, at least one character besides spaces.
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[ -~]*[!-~][ -~]*$",
    },
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "可选。客户端自定的唯一值(如 UUID,最长 200 个字符)。网络中断后用同一个值和同样的正文重试,"
        "24 小时内得到第一次的回答(状态码和正文),不会重复执行;同一个值配不同的正文返回 422。"
    ),
)

IDEMPOTENCY_MISMATCH = OpenApiResponse(
    description=_("这个 Idempotency-Key 已用于正文不同的另一个请求。"),
    examples=[
        OpenApiExample(
            "idempotency_mismatch",
            value={"detail": "这个 Idempotency-Key 已用于另一个请求(正文不同)。"},
            response_only=True,
            status_codes=["422"],
        )
    ],
)


class IdempotencyRecord(models.Model):
    scope = models.CharField(max_length=64)  # SHA-256 of the endpoint and the resident's token
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the request's body
    status = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        abstract = True


def _scope(request) -> str:
    token = request.headers.get("X-Resident-Token", "")
    return hashlib.sha256(f"{request.method} {request.path}\n{token}".encode()).hexdigest()


def _fingerprint(raw: bytes) -> str:
    """The body's digest; JSON is compared by content, not by its spacing or key order."""
    try:
        canonical = json.dumps(
            json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {
                HEADER: [
                    gettext("Idempotency-Key 须为 1–%(max)d 个可打印的 ASCII 字符。")
                    % {"max": MAX_KEY_LENGTH}
                ]
            }
        )
    return key


def _replay(record) -> Response:
    response = Response(json.loads(record.body) if record.body else None, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response


def _mismatch() -> Response:
    return Response(
        {
            "detail": gettext(
                "这个 Idempotency-Key 已用于另一个请求(正文不同)。重试请带原来的正文,"
                "新的请求请换一个新的 Idempotency-Key。"
            )
        },
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def idempotent(model: type[IdempotencyRecord]):
    """Decorates a DRF view method (``def post(self, request, ...)``) to honour the header,
    keeping its rows in ``model``."""

    def decorate(view_method):
        @functools.wraps(view_method)
        def wrapper(self, request, *args, **kwargs):
            key = _key(request)
            if key is None:
                return view_method(self, request, *args, **kwargs)
            scope, fingerprint = _scope(request), _fingerprint(request.body)
            with transaction.atomic():
                now = timezone.now()
                # Rows past their 24 hours count for nothing (the beat task deletes them).
                model.objects.filter(scope=scope, key=key, created_at__lte=now - TTL).delete()
                try:
                    with transaction.atomic():
                        record = model.objects.create(
                            scope=scope, key=key, fingerprint=fingerprint, created_at=now
                        )
                except IntegrityError:
                    # Taken, and committed (a concurrent claim waited on the index until then).
                    record = model.objects.filter(scope=scope, key=key).first()
                    if record is None:  # purged in between: a retry claims it afresh
                        return Response(
                            {"detail": gettext("请求冲突,请稍后用同一个 Idempotency-Key 重试。")},
                            status=status.HTTP_409_CONFLICT,
                        )
                    if record.fingerprint != fingerprint:
                        return _mismatch()
                    return _replay(record)
                response = view_method(self, request, *args, **kwargs)
                record.status = response.status_code
                record.body = json.dumps(response.data, cls=DjangoJSONEncoder, ensure_ascii=False)
                record.save(update_fields=["status", "body"])
            return response

        return wrapper

    return decorate


def idempotency_prune(model: type[IdempotencyRecord], *, now=None) -> int:
    """Deletes the rows older than 24 hours; how many."""
    now = now or timezone.now()
    deleted, _ = model.objects.filter(created_at__lte=now - TTL).delete()
    return deleted
