"""Public pages of the resource catalogue: residents find the teams (文艺团队) and venues (场地)
of their area. Only public, active entries; each page makes a fixed number of queries."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.selectors import area_counties, area_townships
from network.forms import COUNTY_CHOICES_MAX, AreaFilterForm
from network.models import Hall

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
    counties = area_counties(limit=COUNTY_CHOICES_MAX)
    county_ids = {hall.pk for hall in counties}
    try:
        county_id = int(request.GET.get("county", ""))
    except ValueError:
        county_id = None
    townships = area_townships(county_id) if county_id in county_ids else []
    form = ResourceFilterForm(request.GET, counties=counties, townships=townships)
    form.is_valid()  # the errors are shown; the filters that are valid still apply
    data = form.cleaned_data

    area = form.selected_township or form.selected_county
    if area is None and data.get("within"):
        area = Hall.objects.filter(pk=data["within"]).only("pk", "name", "locality").first()
        if area is None:
            form.add_error("within", _("没有这个场馆,已显示全部区域。"))
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
