"""``{% field_row %}`` writes the same HTML as the template each form field was included through."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from activities.forms import ActivityFilterForm, BookingForm
from tests.activities.factories import published_activity

# activities/_field.html as it was, included once a field.
INCLUDED = (
    '<div class="field{% if cls %} {{ cls }}{% endif %}{% if field.errors %} has-error{% endif %}">\n'
    '  <label for="{{ field.id_for_label }}">{{ field.label }}</label>\n'
    "  {{ field }}\n"
    "  {{ field.errors }}\n"
    '  {% if help %}<p class="help">{{ help }}</p>{% endif %}\n'
    "</div>\n"
)


class Odd(forms.Form):
    lazy = forms.CharField(label=_("类别"), help_text=_("首页"))
    marked = forms.CharField(label=mark_safe("<b>粗</b>"), required=False)
    quoted = forms.CharField(label='a "<b>" & c', initial='x"<y>', required=False)
    shown = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=date(2026, 6, 1)
    )
    hidden = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(widget=forms.Textarea, required=False)
    pick = forms.ChoiceField(choices=[("", "—"), ("a<b", "x & y")], required=False)
    many = forms.MultipleChoiceField(
        choices=[(1, "一"), (2, "二")], widget=forms.CheckboxSelectMultiple, required=False
    )
    nolabel = forms.CharField(label="", required=False, widget=forms.TextInput(attrs={"id": ""}))


ROWS = [
    {},
    {"cls": "span"},
    {"cls": 'a"<b>'},
    {"help": "用于查询,不会公开。"},
    {"help": _("首页")},
    {"help": mark_safe("<i>安全</i>")},
    {"help": "a & <b>", "cls": "span"},
    {"help": ""},
]


def _forms(cast):
    activity = published_activity(cast.branch, capacity=20)
    bad = {"lazy": "", "shown": "2026-13-40", "pick": "nope", "many": ["9"], "hidden": "x"}
    return [
        Odd(),
        Odd(bad),
        Odd({"lazy": "<x>", "quoted": "q&", "shown": "2026-06-02", "many": ["1", "2"]}),
        ActivityFilterForm(counties=[], townships=[]),
        ActivityFilterForm({"county": "9", "date_from": "x"}, counties=[], townships=[]),
        BookingForm(activity=activity),
        BookingForm({"name": "", "phone": "123", "seats": "99"}, activity=activity),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_field_row_writes_what_the_included_template_wrote(cast, language):
    included = Template(INCLUDED)
    tag = Template("{% load form_rows %}{% field_row field cls=cls help=help %}")
    compared = 0
    with translation.override(language):
        for form in _forms(cast):
            form.is_valid()
            for field in form:
                for row in ROWS:
                    context = {"field": field, **row}
                    assert tag.render(Context(context)) == included.render(Context(context))
                    compared += 1
    assert compared > 100


def test_field_row_without_cls_or_help(cast):
    form = Odd({"lazy": ""})
    form.is_valid()
    html = Template("{% load form_rows %}{% field_row form.lazy %}").render(Context({"form": form}))
    assert html.startswith('<div class="field has-error">\n  <label for="id_lazy">')
    assert html.endswith("\n  \n</div>\n")
