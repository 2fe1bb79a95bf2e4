"""Form plumbing shared by the admin and the public pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .privacy import CONSENT_REQUIRED
from .validators import mobile_validator

PHONE_ERRORS = {
    "required": _("请填写手机号码。"),
    "max_length": _("请填写 11 位中国大陆手机号码,如 13800138000。"),
}


def phone_field() -> forms.CharField:
    """A resident's mobile number, with the phone keyboard on a phone."""
    return forms.CharField(
        label=_("手机号码"),
        max_length=11,
        validators=[mobile_validator],
        error_messages=PHONE_ERRORS,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "tel", "pattern": "1[3-9][0-9]{9}"}
        ),
    )


def consent_field() -> forms.BooleanField:
    """The explicit agreement to the privacy notice (隐私政策), required at every form that
    collects a resident's name or phone; the form's view records ``privacy.notice_version()``
    with what it saves."""
    return forms.BooleanField(
        label=_("我已阅读并同意《隐私政策》"),
        required=True,
        error_messages={"required": CONSENT_REQUIRED},
    )


def name_field(label, *, max_length: int, required: str, too_long: str) -> forms.CharField:
    """A person's name, as the browser fills it in."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        error_messages={"required": required, "max_length": too_long},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names when the form has
    that field, otherwise above the form. Forms validate the shape of the input; the rules live
    in the services, and this is how their refusals reach the person who typed."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
