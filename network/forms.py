"""The area picker of the public lists (activities, teams and venues): a county, then one of its
townships, or ``within`` any hall, as the directory's pages link to it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import KeptSelect, QuickCopyForm, set_normal_choices

from .models import Hall

# Enough for a province's counties in one select; a bigger network narrows by ``within`` links
# from the hall directory instead.
COUNTY_CHOICES_MAX = 300


def county_choices(counties: list[Hall], blank: str) -> list:
    """The counties of a select, grouped under their city, after the ``blank`` choice: choices
    as Django normalises them (``set_normal_choices``)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for hall in counties:
        groups.setdefault(hall.parent.locality, []).append((hall.pk, hall.locality))
    return [("", blank), *groups.items()]


class AreaFilterForm(QuickCopyForm):
    """``counties`` fill the county select, grouped by city; ``townships`` are those of the
    county asked for (the view reads them once it knows it)."""

    county = forms.TypedChoiceField(
        label=_("县(区)"), required=False, coerce=int, empty_value=None, widget=KeptSelect
    )
    township = forms.TypedChoiceField(
        label=_("乡镇(街道)"), required=False, coerce=int, empty_value=None
    )
    within = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"invalid": _("区域编号不正确。"), "min_value": _("区域编号不正确。")},
    )

    def __init__(self, data=None, *, counties: list[Hall], townships: list[Hall]) -> None:
        super().__init__(data)
        self.county_by_id = {hall.pk: hall for hall in counties}
        self.township_by_id = {hall.pk: hall for hall in townships}
        set_normal_choices(self.fields["county"], county_choices(counties, _("全部县(区)")))
        # The select's HTML is kept while the counties are the same.
        self.fields["county"].widget.choices_key = tuple(
            (hall.pk, hall.locality, hall.parent.locality) for hall in counties
        )
        set_normal_choices(
            self.fields["township"],
            [("", _("全部乡镇(街道)")), *((hall.pk, hall.locality) for hall in townships)],
        )
        self.fields["county"].error_messages["invalid_choice"] = _("没有这个县(区),请重新选择。")
        self.fields["township"].error_messages["invalid_choice"] = _(
            "所选乡镇(街道)不在该县(区),请重新选择。"
        )

    @property
    def selected_county(self) -> Hall | None:
        return self.county_by_id.get(self.cleaned_data.get("county"))

    @property
    def selected_township(self) -> Hall | None:
        return self.township_by_id.get(self.cleaned_data.get("township"))
