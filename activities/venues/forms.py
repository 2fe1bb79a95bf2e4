"""Forms of the public venue pages. They check the shape of the input; the rules of booking
(hours, closures, slots, capacity, taken) stay in ``activities.venues.services``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.codes import CODE_LENGTH, normalize_code
from common.forms import consent_field, name_field, phone_field

from .models import Venue
from .services import NAME_MAX, PURPOSE_MAX


def time_choices(venue: Venue) -> list[tuple[str, str]]:
    """Every step of the grid from the earliest opening to the latest closing of the week."""
    hours = list(venue.hours.all())
    if not hours:
        return []
    step = timedelta(minutes=venue.step_minutes)
    moment = datetime.combine(date.min, min(h.opens for h in hours))
    last = datetime.combine(date.min, max(h.closes for h in hours))
    choices = []
    while moment <= last:
        label = f"{moment:%H:%M}"
        choices.append((label, label))
        moment += step
    return choices


class ReservationForm(forms.Form):
    day = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("请选择日期。"),
            "invalid": _("请填写正确的日期,如 2026-12-15。"),
        },
    )
    start = forms.ChoiceField(
        label=_("开始时间"),
        error_messages={
            "required": _("请选择开始时间。"),
            "invalid_choice": _("请从列表中选择开始时间。"),
        },
    )
    end = forms.ChoiceField(
        label=_("结束时间"),
        error_messages={
            "required": _("请选择结束时间。"),
            "invalid_choice": _("请从列表中选择结束时间。"),
        },
    )
    name = name_field(
        _("姓名"),
        max_length=NAME_MAX,
        required=_("请填写姓名。"),
        too_long=_("姓名最多 %(limit_value)d 个字。"),
    )
    phone = phone_field()
    purpose = forms.CharField(
        label=_("用途"),
        max_length=PURPOSE_MAX,
        error_messages={
            "required": _("请填写用途,如 合唱排练。"),
            "max_length": _("用途最多 %(limit_value)d 个字。"),
        },
    )
    party_size = forms.IntegerField(
        label=_("人数"),
        min_value=1,
        error_messages={
            "required": _("请填写人数。"),
            "invalid": _("人数必须是整数。"),
            "min_value": _("人数至少为 1。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    consent = consent_field()

    def __init__(self, *args, venue: Venue, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = time_choices(venue)
        self.fields["start"].choices = choices[:-1]
        self.fields["end"].choices = choices[1:]
        # The capacity is the service's rule; the browser is told it too.
        self.fields["party_size"].widget.attrs["max"] = venue.capacity

    def clean(self):
        data = super().clean()
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day and start and end:
            data["start_at"] = timezone.make_aware(datetime.combine(day, time.fromisoformat(start)))
            data["end_at"] = timezone.make_aware(datetime.combine(day, time.fromisoformat(end)))
            if data["end_at"] <= data["start_at"]:
                self.add_error("end", _("结束时间必须晚于开始时间。"))
        return data


class LookupForm(forms.Form):
    phone = phone_field()
    code = forms.CharField(
        label=_("预约码"),
        max_length=CODE_LENGTH + 4,
        error_messages={
            "required": _("请填写预约码。"),
            "max_length": _("预约码是 %(n)d 位字母和数字。") % {"n": CODE_LENGTH},
        },
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data["code"]).replace(" ", "")
