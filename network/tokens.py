"""API tokens of staff accounts: how another system signs in to ``/api/v1/``.

A browser uses the admin's session (its writes carry the CSRF token); another system sends
``Authorization: Token <key>``. The token acts as the account that made it, with that account's
scope, read-only where the account is. HTTP Basic is refused with a 401 that says what to use
instead, before any password is looked at (so it neither checks passwords nor counts towards a
login lockout)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from .models import ApiToken

KEYWORD = "Token"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token of ``user``, and its key (never stored; shown once)."""
    key = secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=_digest(key))
    return token, key


@transaction.atomic
def api_token_revoke(*, tokens) -> int:
    """Revokes the live tokens among ``tokens`` (a queryset); how many it revoked."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``. Basic credentials are a 401, not an anonymous request."""

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words:
            return None
        scheme = words[0].lower()
        if scheme == b"basic":
            raise AuthenticationFailed(
                _(
                    "接口不接受 HTTP Basic 认证。其他系统请使用接口令牌"
                    "(请求头 Authorization: Token <令牌>),浏览器请先登录后台。"
                )
            )
        if scheme != KEYWORD.lower().encode():
            return None
        if len(words) != 2:
            raise AuthenticationFailed(_("令牌格式不正确:应为 Authorization: Token <令牌>。"))
        try:
            key = words[1].decode("ascii")
        except UnicodeDecodeError:
            key = ""
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=_digest(key), revoked_at__isnull=True)
            .first()
            if key
            else None
        )
        if token is None or not token.user.is_active:
            raise AuthenticationFailed(_("令牌无效或已撤销。"))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return KEYWORD


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _("工作人员在后台“接口令牌”中创建令牌,请求时带请求头 Authorization: Token <令牌>。")
            ),
        }
