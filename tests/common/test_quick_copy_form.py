"""``common.forms.QuickCopyForm``: each instance's fields are the copies ``copy.deepcopy`` made
(the same fields, widgets, attributes, choices, messages and validators), independent of the
class's and of each other's, without deepcopy's walk over every choice."""

from __future__ import annotations

import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.forms import ActivityFilterForm
from common.forms import KeptSelect, QuickCopyForm
from network.forms import AreaFilterForm


class Sample(QuickCopyForm):
    plain = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"class": "x"}))
    kind = forms.ChoiceField(
        choices=[("", _("全部")), ("a", _("甲")), (_("一组"), [("b", "乙"), ("c", "丙")])],
        widget=KeptSelect(choices_key="sample"),
        error_messages={"invalid_choice": _("没有这个。")},
    )
    typed = forms.TypedChoiceField(coerce=int, choices=[(1, "一"), (2, "二")], required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    split = forms.SplitDateTimeField(required=False)  # a field that holds fields
    flag = forms.BooleanField(required=False)


def state(field: forms.Field) -> tuple:
    widget = field.widget
    return (
        type(field),
        type(widget),
        field.label,
        field.required,
        field.error_messages,
        field.validators,
        widget.attrs,
        getattr(field, "choices", None),
        getattr(widget, "choices", None),
        getattr(widget, "choices_key", None),
        getattr(field, "coerce", None),
    )


def test_the_copies_are_those_deepcopy_makes():
    for form_class in (Sample, AreaFilterForm, ActivityFilterForm):
        deep = {name: copy.deepcopy(field) for name, field in form_class.base_fields.items()}
        quick = copy.deepcopy(form_class.base_fields)
        assert list(quick) == list(deep)
        for name, field in quick.items():
            assert state(field) == state(deep[name]), (form_class, name)


def test_an_instance_changes_nothing_of_the_class_or_of_another():
    first, second = Sample(), Sample()
    for name in Sample.base_fields:
        assert first.fields[name] is not Sample.base_fields[name]
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].widget is not Sample.base_fields[name].widget
    first.fields["plain"].widget.attrs["class"] = "changed"
    first.fields["kind"].error_messages["invalid_choice"] = "改了"
    first.fields["kind"].validators.append(lambda value: None)
    first.fields["kind"].choices[2][1].append(("d", "丁"))
    first.fields["kind"].widget.choices[2][1].append(("d", "丁"))
    first.fields["typed"].choices = [(3, "三")]
    first.fields["split"].fields[0].error_messages["invalid"] = "改了"
    for form in (second, Sample()):
        assert form.fields["plain"].widget.attrs == {"class": "x", "maxlength": "5"}
        assert form.fields["kind"].error_messages["invalid_choice"] == "没有这个。"
        assert form.fields["kind"].validators == Sample.base_fields["kind"].validators
        assert form.fields["kind"].choices[2][1] == [("b", "乙"), ("c", "丙")]
        assert form.fields["kind"].widget.choices[2][1] == [("b", "乙"), ("c", "丙")]
        assert form.fields["typed"].choices == [(1, "一"), (2, "二")]
        assert form.fields["split"].fields[0].error_messages["invalid"] != "改了"


def test_the_form_validates_and_renders_as_a_form_does():
    data = {"plain": "abc", "kind": "c", "typed": "2", "day": "2026-06-01", "flag": "on"}
    form = Sample(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["typed"] == 2 and form.cleaned_data["kind"] == "c"
    assert not Sample({"plain": "abcdef", "kind": "z"}).is_valid()
    html = str(Sample(data)["kind"])
    assert '<option value="c" selected>丙</option>' in html
