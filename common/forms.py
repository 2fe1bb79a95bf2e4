"""Form plumbing shared by the admin and the public pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
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


class QuickSelect(forms.Select):
    """A ``Select`` that writes its HTML in Python instead of through Django's widget templates:
    the same markup, attribute for attribute (``tests/portal/test_quick_select.py`` compares the
    two), for a fraction of the time. Those templates include one template per option and
    another per attribute list, and on a public list whose filters no cache has seen the area
    and category selects were about a fifth of the page's rendering (docs/BENCHMARKS.md). The
    choices, what is selected and the attributes still come from ``Select`` itself."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        html = [
            f'<select name="{conditional_escape(name)}"{_attrs(self.build_attrs(self.attrs, attrs))}>'
        ]
        for group_name, options, _index in self.optgroups(name, self.format_value(value), attrs):
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                html.append(
                    f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                    f"{conditional_escape(localize(option['label']))}</option>\n"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # every value and label above is escaped


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}``, escaped as a template escapes it."""
    return conditional_escape(value if isinstance(value, str) else f"{value}")


def _attrs(attrs: dict) -> str:
    """Django's ``django/forms/widgets/attrs.html``: ``False`` leaves an attribute out, ``True``
    writes its bare name."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
