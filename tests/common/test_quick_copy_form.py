"""``common.forms.QuickCopyForm``: each instance's fields are the copies ``copy.deepcopy`` made
(the same fields, widgets, attributes, choices, messages and validators), independent of the
class's and of each other's, without deepcopy's walk over every choice."""

from __future__ import annotations

import copy

from django import forms
from django.utils.choices import normalize_choices
from django.utils.translation import gettext_lazy as _

from activities.forms import ActivityFilterForm
from common.forms import KeptSelect, QuickCopyForm, set_normal_choices
from network.forms import AreaFilterForm
from network.models import Hall


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


def grouped_choices() -> list:
    return [("", _("全部")), ("a", "甲"), (_("一组"), [(1, "乙"), (2, "丙")])]


def test_choices_set_normalised_are_those_the_setter_sets():
    by_setter, quick = forms.TypedChoiceField(coerce=int), forms.TypedChoiceField(coerce=int)
    by_setter.choices = grouped_choices()
    set_normal_choices(quick, grouped_choices())
    assert quick.choices == by_setter.choices
    assert quick.widget.choices == by_setter.widget.choices
    # The widget's list is its own, as the setter makes it.
    quick.widget.choices[2][1].append((3, "丁"))
    assert quick.choices[2][1] == [(1, "乙"), (2, "丙")]
    assert quick.clean("2") == 2


def test_the_area_filter_sets_the_choices_the_setter_would():
    city = Hall(pk=1, locality="昆明市")
    other = Hall(pk=9, locality="曲靖市")
    counties = [
        Hall(pk=2, locality="五华区", parent=city),
        Hall(pk=3, locality="盘龙区", parent=city),
        Hall(pk=10, locality="麒麟区", parent=other),
    ]
    townships = [Hall(pk=4, locality="华山街道"), Hall(pk=5, locality="护国街道")]
    form = AreaFilterForm({"county": "2", "township": "5"}, counties=counties, townships=townships)
    expected = {
        "county": [
            ("", _("全部县(区)")),
            ("昆明市", [(2, "五华区"), (3, "盘龙区")]),
            ("曲靖市", [(10, "麒麟区")]),
        ],
        "township": [("", _("全部乡镇(街道)")), (4, "华山街道"), (5, "护国街道")],
    }
    for name, choices in expected.items():
        assert form.fields[name].choices == normalize_choices(choices)
        assert form.fields[name].widget.choices == normalize_choices(choices)
    assert form.is_valid(), form.errors
    assert (form.selected_county, form.selected_township) == (counties[0], townships[1])
    assert not AreaFilterForm({"county": "9"}, counties=counties, townships=[]).is_valid()
