"""Form plumbing shared by the admin and the public pages."""

from __future__ import annotations

import copy
import html

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .cache import ProcessMemory
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


class _QuickCopiedFields(dict):
    """A form's ``base_fields``, which ``BaseForm.__init__`` copies with ``copy.deepcopy``:
    copied field by field, each as Django's ``__deepcopy__`` methods copy it."""

    def __deepcopy__(self, memo):
        return {name: _copy_field(field, memo) for name, field in self.items()}


def _copy_field(field: forms.Field, memo) -> forms.Field:
    """What ``copy.deepcopy(field)`` makes of a field (``Field``, ``ChoiceField`` and
    ``Widget`` ``.__deepcopy__``), without deepcopy's walk over every choice and lazy label:
    the field, its widget (with its attributes and choices), error messages and validators
    copied, and the choices copied to the depth a choice list can change (a group's list of
    options); a (value, label) pair is a tuple of values that are never changed in place.
    A field that holds fields, or choices that are not a list, are deep-copied as before."""
    choices = getattr(field, "_choices", [])
    if isinstance(field, forms.MultiValueField) or not isinstance(choices, list):
        return copy.deepcopy(field, memo)
    if isinstance(field.widget, forms.MultiWidget):
        return copy.deepcopy(field, memo)
    if not isinstance(getattr(field.widget, "_choices", []), list):
        return copy.deepcopy(field, memo)
    result = shallow_copy(field)
    widget = result.widget = shallow_copy(field.widget)
    widget.attrs = field.widget.attrs.copy()
    if isinstance(widget, forms.widgets.ChoiceWidget):
        # The widget's setter would normalise choices that its own setter normalised already.
        widget._choices = _copy_choices(field.widget._choices)
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    if isinstance(field, forms.ChoiceField):
        result._choices = _copy_choices(choices)
    return result


def shallow_copy(obj):
    """``copy.copy`` of a form's field or widget, or a serializer's field: a new object of its
    class with its attributes, without ``copy``'s reduce protocol (a quarter of the time; a form
    copies two for each of its fields, ``common.api.Serializer`` one). An object that says how
    it is copied (``__copy__``) is copied so."""
    if hasattr(obj, "__copy__"):
        return copy.copy(obj)
    new = obj.__class__.__new__(obj.__class__)
    new.__dict__.update(obj.__dict__)
    return new


def _copy_choices(choices: list) -> list:
    """Normalised choices, copied to the depth a choice list can change (a group's list of
    options), as normalising them again copies them."""
    return [(value, list(label) if isinstance(label, list) else label) for value, label in choices]


def set_normal_choices(field: forms.ChoiceField, choices: list) -> None:
    """``field.choices = choices`` for choices already in the form Django normalises them to:
    a list of (value, label) pairs, and of (group, [(value, label), ...]) groups. Setting a
    field's choices normalises them, and setting its widget's normalises them a second time;
    the area filter's counties (a few hundred) were normalised twice on every request of a
    public list."""
    field._choices = choices
    field.widget._choices = _copy_choices(choices)


class _QuickCopyMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = _QuickCopiedFields(new_class.base_fields)
        return new_class


class QuickCopyForm(forms.Form, metaclass=_QuickCopyMetaclass):
    """A ``Form`` whose fields are copied for each instance without ``copy.deepcopy``'s walk
    over every choice: the same copies, a fifth of the work. The public lists' filter forms
    are built on every request; deep-copying their fields (the category choices with their
    lazy labels) was about as costly as the rest of building the form."""


class KeptSelect(forms.Select):
    """A ``<select>`` whose HTML each process keeps for each value, attribute set and language,
    under ``choices_key``: something that changes whenever the choices do (a name for choices
    fixed in the code, the counties a form was given). Without a key it renders as ``Select``.
    Building a select's options is Django's most expensive widget: the county and category
    selects were about a twentieth of a list page no cache had seen, on every request."""

    def __init__(self, attrs=None, choices=(), *, choices_key=None) -> None:
        super().__init__(attrs, choices)
        self.choices_key = choices_key

    def render(self, name, value, attrs=None, renderer=None):
        if self.choices_key is None or isinstance(value, (list, tuple)):
            return super().render(name, value, attrs, renderer)
        key = (self.choices_key, name, value, tuple((attrs or {}).items()), get_language())
        html = _kept_selects.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            _kept_selects.set(key, html)
        return html


# A few hundred selects at most: a value each (any the visitor typed), per language.
_kept_selects = ProcessMemory(seconds=3600, entries=1000)


class QuickFormRenderer(DjangoTemplates):
    """Django's default form renderer (``FORM_RENDERER``), with its commonest templates written
    in Python: a ``<select>`` with its options, an ``<input>`` of any type, an empty error list.
    They write the same HTML, character for character (tests/common/test_form_renderer.py holds
    each against Django's own template); anything else, or a widget whose options have
    templates of their own, is rendered from the templates as before. Django's templates
    include a template per option and another per attribute list: on a public list whose
    filters no cache has seen, the filter form's widgets were about a fifth of the page's
    rendering (docs/BENCHMARKS.md)."""

    def render(self, template_name, context, request=None):
        write = _WRITERS.get(template_name)
        written = write(context) if write is not None else None
        if written is None:
            return super().render(template_name, context, request)
        return written


def _select(context) -> SafeString | None:
    widget = context["widget"]
    parts = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_value(group_name)}">')
        for option in options:
            if option["template_name"] != SELECT_OPTION:
                return None
            parts.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_value(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # every name, value and label above is escaped


def _input(context) -> SafeString:
    widget = context["widget"]
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    return mark_safe(  # escaped as a template escapes
        f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _error_list(context) -> str | None:
    # Shown beside every field, and nearly always empty; a list with errors is left to Django.
    return None if context["errors"] else ""


def _value(value) -> str:
    """``{{ value }}``: localised, then escaped."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        value = localize(template_localtime(value))
    return _escape(value)


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}``, escaped as a template escapes it."""
    return _escape(value if isinstance(value, str) else f"{value}")


def _escape(value) -> str:
    """``conditional_escape``, except that a lazy translation is made a string first, rather
    than wrapped in another lazy object that translates it again."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: ``False`` leaves an attribute out, ``True`` writes
    its bare name."""
    return "".join(
        f" {_value(name)}" if value is True else f' {_value(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


SELECT_OPTION = "django/forms/widgets/select_option.html"
# Each of these Django templates is nothing but ``{% include "django/forms/widgets/input.html" %}``.
_INPUTS = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "file",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)
_WRITERS = {
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/input.html": _input,
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/errors/list/default.html": _error_list,
    "django/forms/errors/list/ul.html": _error_list,
}
