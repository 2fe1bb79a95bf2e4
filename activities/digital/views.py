"""Public pages of the digital culture hall: browse and search, watch, listen, read; the media
files with range requests; the count of plays. Each page makes a fixed number of queries."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from activities.selectors import area_filter
from common.ratelimit import client_ip
from common.storage import serve_image, serve_stored
from network.forms import AreaFilterForm

from . import selectors, services
from .models import Kind, LiveState, Picture, Resource, Topic

PER_PAGE = 20


class DigitalFilterForm(AreaFilterForm):
    """The area, the kind of resource, the category and words to look for."""

    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", gettext_lazy("全部类型")), *Kind.choices],
        error_messages={"invalid_choice": gettext_lazy("没有这种类型,请重新选择。")},
    )
    topic = forms.ChoiceField(
        label=gettext_lazy("类别"),
        required=False,
        choices=[("", gettext_lazy("全部类别")), *Topic.choices],
        error_messages={"invalid_choice": gettext_lazy("没有这个类别,请重新选择。")},
    )
    q = forms.CharField(label=gettext_lazy("关键词"), required=False, max_length=40, strip=True)


@require_GET
def resource_list(request: HttpRequest) -> HttpResponse:
    form, area = area_filter(request, DigitalFilterForm, unknown=_("没有这个场馆,已显示全部区域。"))
    data = form.cleaned_data
    within = area.pk if area else None
    resources = selectors.resources_public(
        within=within,
        kind=data.get("kind") or None,
        topic=data.get("topic") or None,
        query=data.get("q") or "",
    )
    page = Paginator(resources, PER_PAGE).get_page(request.GET.get("page"))
    filtered = any(data.get(name) for name in ("kind", "topic", "q"))
    return render(
        request,
        "digital/resource_list.html",
        {
            "form": form,
            "page": page,
            "area": area,
            "live": [] if filtered else selectors.live_streams(within=within),
            "now": timezone.now(),
        },
    )


@require_GET
def resource_detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = selectors.resource_public(resource_id)
    if resource is None:
        raise Http404(_("没有这个数字资源,或它还没有发布。"))
    services.use_record(resource_id=resource.pk, play=False)
    pictures = list(resource.pictures.all()) if resource.kind == Kind.PICTURES else []
    return render(
        request,
        "digital/resource_detail.html",
        {
            "resource": resource,
            "pictures": pictures,
            "live_state": resource.live_state(),
            "LiveState": LiveState,
            "Kind": Kind,
        },
    )


@require_GET
def resource_file(request: HttpRequest, resource_id: int) -> HttpResponse:
    """The video, audio or PDF of a published resource, seekable (HTTP ranges)."""
    resource = selectors.resource_public(resource_id)
    if resource is None or not resource.file:
        raise Http404(_("没有这个文件。"))
    return serve_stored(
        request, resource.file, content_type=resource.content_type, missing=_("文件已不存在。")
    )


@require_GET
def resource_cover(request: HttpRequest, resource_id: int) -> HttpResponse:
    resource = selectors.resource_public(resource_id)
    if resource is None or not resource.cover:
        raise Http404(_("没有封面。"))
    return serve_image(request, resource.cover, missing=_("图片已不存在。"))


@require_GET
def picture_file(request: HttpRequest, picture_id: int) -> HttpResponse:
    picture = (
        Picture.objects.filter(pk=picture_id, resource__status="published").only("image").first()
    )
    if picture is None:
        raise Http404(_("没有这张图片。"))
    return serve_image(request, picture.image, missing=_("图片已不存在。"))


@require_POST
def resource_play(request: HttpRequest, resource_id: int) -> HttpResponse:
    """A play, sent once per page view by the page's script (``services.play_record``)."""
    try:
        services.play_record(resource_id=resource_id, address=client_ip(request))
    except Resource.DoesNotExist:
        raise Http404(_("没有这个数字资源。")) from None
    return HttpResponse(status=204)
