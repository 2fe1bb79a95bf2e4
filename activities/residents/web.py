"""The verified phone of a browser: a signed, HttpOnly cookie holding the resident's token.

The signature stops a cookie being made up; the token inside is still looked up (hashed) on
every use, so an expired token, or one the database no longer has, is worth nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from common.redirects import safe_redirect_url

from . import selectors

COOKIE = "resident"
SALT = "residents.cookie"


def verification_required() -> bool:
    return settings.RESIDENT_VERIFICATION == "required"


def verified_phone(request: HttpRequest) -> str | None:
    """The browser's verified phone (read once per request), or None."""
    if not hasattr(request, "_resident_phone"):
        token = request.get_signed_cookie(COOKIE, default="", salt=SALT)
        request._resident_phone = selectors.phone_for_token(token) if token else None
    return request._resident_phone


def remember(response: HttpResponse, *, token: str) -> None:
    response.set_signed_cookie(
        COOKIE,
        token,
        salt=SALT,
        max_age=settings.RESIDENT_VERIFIED_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def safe_next(request: HttpRequest, url: str | None) -> str:
    """Where to send the resident back to: ``url`` when it is on this site, else home."""
    return safe_redirect_url(request, url, "/")


def verify_url(next_url: str) -> str:
    return f"{reverse('residents:verify')}?{urlencode({'next': next_url})}"


def unverified(request: HttpRequest) -> bool:
    """A resident write that must be refused: verification is required and the browser has no
    verified phone."""
    return verification_required() and verified_phone(request) is None


def may_act_for(request: HttpRequest, phone: str) -> bool:
    """May this browser act for ``phone`` (cancel its booking, rate its order)."""
    return not verification_required() or verified_phone(request) == phone


def bind_phone(form, request: HttpRequest, field: str = "phone") -> None:
    """The form's phone is the verified one: shown, not editable (a disabled field takes its
    initial value whatever the POST says)."""
    phone = verified_phone(request) if verification_required() else None
    if phone:
        form.fields[field].disabled = True
        form.fields[field].initial = phone
        form.fields[field].widget.attrs["readonly"] = True


def phone_context(request: HttpRequest) -> dict:
    """What ``residents/_phone.html`` needs to show the phone part of a resident's form."""
    required = verification_required()
    return {
        "verification_required": required,
        "verified_phone": verified_phone(request) if required else None,
        "verify_url": verify_url(request.get_full_path()),
        "days": settings.RESIDENT_VERIFIED_DAYS,
    }
