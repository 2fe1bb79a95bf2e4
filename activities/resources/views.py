"""Public pages of the resource catalogue: residents find the teams (文艺团队) and venues (场地)
of their area. Only public, active entries; each page makes a fixed number of queries."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.selectors import area_filter
from network.forms import AreaFilterForm

from .models import ResourceKind
from .selectors import PUBLIC_RESOURCE_KINDS, resources_public

RESOURCES_PER_PAGE = 20


class ResourceFilterForm(AreaFilterForm):
    """The area, and the kind: teams or venues."""

    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        required=False,
        choices=[
            ("", gettext_lazy("团队和场地")),
            *((k.value, k.label) for k in PUBLIC_RESOURCE_KINDS),
        ],
        error_messages={"invalid_choice": gettext_lazy("只能查看文艺团队或场地,请重新选择。")},
    )


def resource_list(request: HttpRequest) -> HttpResponse:
    form, area = area_filter(
        request, ResourceFilterForm, unknown=_("没有这个场馆,已显示全部区域。")
    )
    data = form.cleaned_data
    resources = resources_public(within=area.pk if area else None, kind=data.get("kind") or None)
    page = Paginator(resources, RESOURCES_PER_PAGE).get_page(request.GET.get("page"))
    kind = data.get("kind")
    return render(
        request,
        "resources/resource_list.html",
        {
            "form": form,
            "page": page,
            "area": area,
            "kind_label": ResourceKind(kind).label if kind else None,
        },
    )
