"""``common.forms.QuickSelect`` writes the same HTML as Django's own ``Select``."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from common.forms import QuickSelect

CHOICES = [
    ("", _("全部类别")),
    ("a<b", "x & y"),
    (_("县(区)"), [(1, "一"), (2, _("首页"))]),
    (3, 'say "hi"'),
    (None, "none"),
]
ATTRS = [
    None,
    {"id": "id_f"},
    {"id": "id_f", "aria-invalid": "true", "aria-describedby": "id_f_error"},
    {"id": "id_f", "required": True, "disabled": False, "data-x": "<&>"},
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("value", [None, "", "a<b", 1, "2", 3, [3], "nothing like it"])
@pytest.mark.parametrize("attrs", ATTRS)
def test_it_renders_what_djangos_select_renders(language, value, attrs):
    with translation.override(language):
        expected = forms.Select(choices=CHOICES).render("f&g", value, attrs)
        assert QuickSelect(choices=CHOICES).render("f&g", value, attrs) == expected


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_bound_field_renders_as_with_djangos_select_errors_included(language):
    def form_class(widget):
        return type(
            "F",
            (forms.Form,),
            {
                "kind": forms.TypedChoiceField(
                    label=_("类别"), choices=CHOICES[:4], coerce=str, widget=widget
                ),
            },
        )

    with translation.override(language):
        for data in ({"kind": "a<b"}, {"kind": "nope"}, {}):
            quick, stock = form_class(QuickSelect)(data), form_class(forms.Select)(data)
            quick.is_valid(), stock.is_valid()
            assert str(quick["kind"]) == str(stock["kind"])


def test_a_multiple_select_is_left_to_django():
    class Multiple(QuickSelect):
        allow_multiple_selected = True

    assert Multiple(choices=CHOICES).render("f", [1, 3]) == forms.SelectMultiple(
        choices=CHOICES
    ).render("f", [1, 3])
