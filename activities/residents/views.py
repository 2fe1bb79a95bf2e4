"""The verify page: a phone, then the code sent to it; the browser is then verified for
``RESIDENT_VERIFIED_DAYS`` and goes back where it came from."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from common import privacy
from common.forms import PHONE_ERRORS, add_service_errors, consent_field
from common.ratelimit import RateLimited
from common.validators import mobile_validator, normalize_mobile

from . import services, web

LIMITED_PAGE = "residents/rate_limited.html"


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,  # room for the ways people write one: +86, spaces, dashes
        error_messages=PHONE_ERRORS,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # Agreed before the phone is sent anywhere; recorded with the verified phone at the code.
    consent = consent_field()

    def clean_phone(self) -> str:
        phone = normalize_mobile(self.cleaned_data["phone"])
        mobile_validator(phone)
        return phone


class CodeForm(forms.Form):
    phone = forms.CharField(widget=forms.HiddenInput, max_length=20)
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        error_messages={
            "required": _("请填写短信里的 6 位验证码。"),
            "min_length": _("验证码是 6 位数字。"),
            "max_length": _("验证码是 6 位数字。"),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def verify(request: HttpRequest) -> HttpResponse:
    next_url = web.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context = {
        "next": next_url,
        "phone_form": PhoneForm(),
        "code_form": None,
        "shown_code": "",
        "days": settings.RESIDENT_VERIFIED_DAYS,
    }
    if request.method == "POST" and request.POST.get("step") == "code":
        return _check_code(request, context)
    if request.method == "POST":
        return _send_code(request, context)
    current = web.verified_phone(request)
    context["current"] = f"{current[:3]}****{current[-4:]}" if current else ""
    return render(request, "residents/verify.html", context)


def _send_code(request: HttpRequest, context: dict) -> HttpResponse:
    form = PhoneForm(request.POST)
    context["phone_form"] = form
    if not form.is_valid():
        return render(request, "residents/verify.html", context, status=400)
    phone = form.cleaned_data["phone"]
    limited = services.CODE_BUDGET.page(request, template=LIMITED_PAGE, phone=phone)
    if limited is not None:
        return limited
    try:
        _row, code = services.phone_code_request(phone=phone)
    except RateLimited as exc:
        context["notice"] = _("验证码已发送,请 %(s)d 秒后再重新获取。") % {"s": exc.retry_after}
        context["code_form"] = CodeForm(initial={"phone": phone})
        context["phone"] = phone
        return render(request, "residents/verify.html", context, status=429)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return render(request, "residents/verify.html", context, status=400)
    context["code_form"] = CodeForm(initial={"phone": phone})
    context["phone"] = phone
    # Development only: without an SMS provider the newcomer reads the code here.
    if settings.DEBUG and settings.SMS_BACKEND == "console":
        context["shown_code"] = code
    return render(request, "residents/verify.html", context)


def _check_code(request: HttpRequest, context: dict) -> HttpResponse:
    form = CodeForm(request.POST)
    context["code_form"] = form
    context["phone"] = request.POST.get("phone", "")
    limited = services.CHECK_BUDGET.page(request, template=LIMITED_PAGE)
    if limited is not None:
        return limited
    if form.is_valid():
        try:
            # The code step follows the phone step, where the notice was agreed to.
            issued = services.phone_token_create(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                consent_version=privacy.notice_version(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = redirect(context["next"])
            web.remember(response, token=issued.token)
            return response
    return render(request, "residents/verify.html", context, status=400)
