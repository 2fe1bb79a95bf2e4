"""Query-string filters of the halls API (django-filter).

A parameter that names a hall (``parent``, ``within``) must name one that exists: a typo in an
id is reported as a 400 instead of looking like an empty subtree.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from .models import Hall, HallKind, HallStatus, subtree_q
from .search import MATCHES_IN_TREE_ORDER, SEARCH_FIELDS, name_search_q


class HallIdField(forms.IntegerField):
    """An id of an existing hall; cleans to the hall (only its tree numbers are loaded)."""

    default_error_messages = {"missing": _("没有 id 为 %(value)s 的文化馆。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)

    def clean(self, value):
        hall_id = super().clean(value)
        if hall_id is None:
            return None
        hall = Hall.objects.filter(pk=hall_id).only("pk", "tree_id", "lft", "rght").first()
        if hall is None:
            raise forms.ValidationError(
                self.error_messages["missing"], code="missing", params={"value": hall_id}
            )
        return hall


class HallIdFilter(django_filters.Filter):
    field_class = HallIdField


class HallFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=HallKind.choices, help_text=_("层级"))
    status = django_filters.ChoiceFilter(choices=HallStatus.choices, help_text=_("状态"))
    parent = HallIdFilter(method="filter_parent")
    within = HallIdFilter(method="filter_within")
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=100,
        help_text=_(
            "按名称、统一标识、所在地名或编码查找(包含即可;“第一”与“第1”、全角与半角均可)。"
        ),
    )

    class Meta:
        model = Hall
        fields = ["kind", "status", "parent", "within", "q"]

    @extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("上级馆的 id:只列出它的直接下级。该馆不存在时返回 400。"),
        }
    )
    def filter_parent(self, queryset: QuerySet[Hall], name: str, hall: Hall) -> QuerySet[Hall]:
        return queryset.filter(parent_id=hall.pk)

    @extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("某馆的 id:列出它的整棵子树(含它自己)。该馆不存在时返回 400。"),
        }
    )
    def filter_within(self, queryset: QuerySet[Hall], name: str, hall: Hall) -> QuerySet[Hall]:
        return queryset.filter(subtree_q(hall))

    def filter_q(self, queryset: QuerySet[Hall], name: str, value: str) -> QuerySet[Hall]:
        condition = name_search_q(value, (*SEARCH_FIELDS, "code"))
        if condition is None:
            return queryset
        return queryset.filter(condition).order_by(*MATCHES_IN_TREE_ORDER)


class OwnedByHallFilter(django_filters.FilterSet):
    """``hall`` and ``within`` for a list of things a hall owns (through a ``hall`` field):
    the hall's own, or those of its whole subtree. Subclass it with a ``Meta``."""

    hall = HallIdFilter(method="filter_hall")
    within = HallIdFilter(method="filter_within")

    @extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("所属馆的 id:只列出该馆自己的。该馆不存在时返回 400。"),
        }
    )
    def filter_hall(self, queryset: QuerySet, name: str, hall: Hall) -> QuerySet:
        return queryset.filter(hall_id=hall.pk)

    @extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("某馆的 id:列出它及其全部下级馆的。该馆不存在时返回 400。"),
        }
    )
    def filter_within(self, queryset: QuerySet, name: str, hall: Hall) -> QuerySet:
        return queryset.filter(subtree_q(hall, through="hall"))
