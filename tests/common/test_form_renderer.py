"""``common.forms.QuickFormRenderer`` writes the same HTML as Django's own templates."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from common.forms import KeptSelect, QuickFormRenderer

CHOICES = [
    ("", _("全部类别")),
    ("a<b", "x & y"),
    (_("县(区)"), [(1, "一"), (2, _("首页"))]),
    (3, 'say "hi"'),
    (None, "none"),
    (4, 1234),
    (5, mark_safe("<i>safe</i>")),
    (6, _("首页") + "&"),
]
ATTRS = [
    None,
    {"id": "id_f"},
    {"id": "id_f", "aria-invalid": "true", "aria-describedby": "id_f_error"},
    {"id": "id_f", "required": True, "disabled": False, "data-x": "<&>", "min": 3},
    {"id": "id_f", "title": _("类别"), "data-safe": mark_safe("<b>"), "data-quote": "it's"},
]
WIDGETS = [
    (forms.Select(choices=CHOICES), [None, "", "a<b", 1, "2", 3, [3], "nothing like it"]),
    (forms.SelectMultiple(choices=CHOICES), [None, [], [1, 3], ["a<b", "2"]]),
    (forms.NullBooleanSelect(), [None, True, False, "unknown"]),
    (forms.TextInput(attrs={"autocomplete": "name"}), [None, "", "张三", 'a"<b>&']),
    (forms.NumberInput(), [None, 0, 12, 3.5]),
    (forms.EmailInput(), ["a@b.cn"]),
    (forms.URLInput(), ["https://example.cn/?a=1&b=2"]),
    (forms.PasswordInput(render_value=True), ["secret"]),
    (forms.HiddenInput(), [None, 7, "x<y"]),
    (forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), [None, "", date(2026, 6, 1)]),
    (forms.DateTimeInput(), [datetime(2026, 6, 1, 19, 30)]),
    (forms.TimeInput(), ["19:30"]),
    (forms.CheckboxInput(), [None, False, True, "on", ""]),
    (forms.FileInput(), [None]),
    (forms.Textarea(), ["lines\n<b>"]),
    (forms.RadioSelect(choices=CHOICES[:4]), [None, "a<b"]),
    (forms.CheckboxSelectMultiple(choices=CHOICES[:4]), [[1, "a<b"]]),
    (forms.SplitDateTimeWidget(), [datetime(2026, 6, 1, 19, 30)]),
]
CASES = [(w, v) for w, values in WIDGETS for v in values]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize(("widget", "value"), CASES)
def test_every_widget_renders_as_with_djangos_templates(language, attrs, widget, value):
    with translation.override(language):
        expected = widget.render("f&g", value, attrs, renderer=DjangoTemplates())
        assert widget.render("f&g", value, attrs, renderer=QuickFormRenderer()) == expected


class Filters(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=CHOICES[:4], required=False)
    day = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput)
    free = forms.BooleanField(label=_("只看有余位"), required=False)
    name = forms.CharField(label=_("姓名"), help_text=_("请填写姓名。"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "data",
    [
        {"kind": "a<b", "day": "2026-06-01", "free": "on", "name": "张三"},
        {"kind": "nope", "day": "not a day"},
        {},
    ],
)
def test_a_whole_form_renders_as_with_djangos_templates(language, data):
    with translation.override(language):
        quick = Filters(data, renderer=QuickFormRenderer())
        stock = Filters(data, renderer=DjangoTemplates())
        quick.is_valid(), stock.is_valid()
        for name in Filters.base_fields:
            assert str(quick[name]) == str(stock[name])
            assert str(quick[name].errors) == str(stock[name].errors)
        assert str(quick) == str(stock)
        assert str(quick.non_field_errors()) == str(stock.non_field_errors())


def test_the_portal_renders_its_forms_with_it():
    assert isinstance(Filters().renderer, QuickFormRenderer)


def test_a_kept_select_writes_what_a_select_writes_for_each_value_attrs_and_language():
    kept = KeptSelect(choices=CHOICES, choices_key="test.CHOICES")
    plain = forms.Select(choices=CHOICES)
    for _round in range(2):  # written, then kept
        for language in ("zh-hans", "en"):
            with translation.override(language):
                for value in [None, "", "a<b", 1, "2", "nothing like it"]:
                    for attrs in ATTRS[:3]:
                        expected = plain.render("f", value, attrs)
                        assert kept.render("f", value, attrs) == expected
                        assert kept.render("g", value, attrs) == plain.render("g", value, attrs)


def test_a_kept_select_renders_anew_when_its_choices_key_changes():
    select = KeptSelect(choices=[(1, "一")], choices_key=("counties", 1))
    assert ">一</option>" in select.render("county", None)
    select.choices, select.choices_key = [(1, "一"), (2, "二")], ("counties", 1, 2)
    assert ">二</option>" in select.render("county", None)
    assert ">二</option>" in KeptSelect(choices=[(2, "二")]).render("county", None)  # no key
