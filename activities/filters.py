"""Query-string filters of the activities API.

The FilterSet only validates the parameters; the filtering itself is
``activities.selectors.activities_public``, so the API and the public pages share one rule for
"within an area", "at a hall" and the date range.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from network.filters import HallIdFilter

from .models import Activity, Category
from .selectors import activities_public


class DateOrDateTimeField(forms.DateTimeField):
    """``2026-12-01`` stays a date (the selector reads it as that whole day); anything else must
    be an ISO datetime, taken in Asia/Shanghai when it carries no offset."""

    default_error_messages = {
        "invalid": _("请填写日期(如 2026-12-01)或日期时间(如 2026-12-01T19:30:00+08:00)。")
    }

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            try:
                day = parse_date(value)
            except ValueError:  # well-formed but impossible, e.g. 2026-02-30
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
            if day is not None:
                return day
        return super().to_python(value)


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); anything else is an error rather than "no filter"."""

    default_error_messages = {"invalid": _("请填写 true 或 false。")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


def _bound(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.max if end else time.min))


class ActivityFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start is not None and end is not None:
            if _bound(end, end=True) < _bound(start, end=False):
                self.add_error("to", _("结束时间不能早于开始时间。"))
        return data


def _date_param(description: str):
    return extend_schema_field(
        {
            "type": "string",
            "description": description,
            "example": "2026-12-01",
        }
    )


class ActivityFilter(django_filters.FilterSet):
    within = extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _(
                "某馆的 id:列出在它整棵子树(含它自己)内举办的活动。该馆不存在时返回 400。"
            ),
        }
    )(HallIdFilter())
    hall = extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _(
                "某馆的 id:该馆主办或在该馆举办的活动(流动服务也列在举办的服务点下)。"
                "该馆不存在时返回 400。"
            ),
        }
    )(HallIdFilter())
    category = django_filters.ChoiceFilter(choices=Category.choices, help_text=_("类别"))
    # ``from`` and ``to`` are Python keywords: declared under other names, renamed below.
    date_from = _date_param(
        _(
            "只列出在此之后结束的活动:日期(当天 0 点起)或带时区的日期时间。"
            "不填时从现在起,已结束的活动不列出;填了则也列出已结束的活动。"
        )
    )(DateOrDateTimeFilter())
    date_to = _date_param(
        _("只列出在此之前开始的活动:日期(到当天结束)或带时区的日期时间。不能早于 from。")
    )(DateOrDateTimeFilter())
    seats_available = extend_schema_field(
        {"type": "boolean", "description": _("为 true 时只列出还有空位或无需预约的活动。")}
    )(StrictBooleanFilter())

    class Meta:
        model = Activity
        fields: list[str] = []
        form = ActivityFilterForm

    def filter_queryset(self, queryset: QuerySet[Activity]) -> QuerySet[Activity]:
        # The selector builds the list from the cleaned values, rather than each filter narrowing
        # ``queryset`` in its own way.
        return activities_public(**self.selector_kwargs())

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        within, hall, date_from = data.get("within"), data.get("hall"), data.get("from")
        return {
            "within": within.pk if within else None,
            "hall": hall.pk if hall else None,
            "category": data.get("category") or None,
            "date_from": date_from,
            "date_to": data.get("to"),
            "seats_available": bool(data.get("seats_available")),
            # Without ``from`` the list starts now; with it, finished activities count too.
            "include_past": date_from is not None,
        }


ActivityFilter.base_filters["from"] = ActivityFilter.base_filters.pop("date_from")
ActivityFilter.base_filters["to"] = ActivityFilter.base_filters.pop("date_to")
