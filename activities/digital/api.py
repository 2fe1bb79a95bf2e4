"""The digital culture hall in the API: ``GET digital/`` lists the published resources (an
exchange feed for the provincial and national clouds) and ``POST digital/{id}/plays/`` counts a
play. Both are public."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import FIELD_ERRORS, NOT_FOUND, enum_field
from common.ratelimit import client_ip
from network.api import OPTIONAL_AUTH
from network.filters import OwnedByHallFilter

from . import selectors, services
from .models import Audience, Kind, Resource, Topic


@enum_field(Kind.choices, _("类型:video 视频、audio 音频、book 电子书、pictures 图集、live 直播"))
class KindField(serializers.CharField):
    pass


@enum_field(
    Topic.choices,
    _(
        "类别:course 慕课与培训、performance 演出、lecture 讲座、reading 数字阅读、heritage 非遗、other 其他"
    ),
)
class TopicField(serializers.CharField):
    pass


@enum_field(Audience.choices, _("适合人群"))
class AudienceField(serializers.CharField):
    pass


class DigitalSerializer(serializers.ModelSerializer):
    kind = KindField(read_only=True)
    topic = TopicField(read_only=True)
    audience = AudienceField(read_only=True)
    hall_name = serializers.CharField(source="hall.name", read_only=True)
    tags = serializers.ListField(
        source="tag_list", child=serializers.CharField(), read_only=True, help_text=_("标签")
    )
    url = serializers.SerializerMethodField(help_text=_("资源页面的地址"))
    file_url = serializers.SerializerMethodField(
        help_text=_("视频、音频或 PDF 的地址(支持 HTTP Range);没有文件时为 null")
    )
    cover_url = serializers.SerializerMethodField(help_text=_("封面图片的地址;没有时为 null"))
    stream_url = serializers.SerializerMethodField(
        label=_("直播地址"), help_text=_("直播平台提供的播放地址(如 .m3u8);没有时为 null")
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "hall",
            "hall_name",
            "kind",
            "topic",
            "audience",
            "title",
            "summary",
            "tags",
            "duration",
            "licence",
            "url",
            "file_url",
            "cover_url",
            "content_type",
            "stream_url",
            "live_start",
            "live_end",
            "views",
            "plays",
            "published_at",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(serializers.URLField())
    def get_url(self, resource: Resource) -> str:
        return self._absolute(reverse("digital:resource_detail", args=[resource.pk]))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, resource: Resource) -> str | None:
        if not resource.file:
            return None
        return self._absolute(reverse("digital:resource_file", args=[resource.pk]))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_cover_url(self, resource: Resource) -> str | None:
        if not resource.cover:
            return None
        return self._absolute(reverse("digital:resource_cover", args=[resource.pk]))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_stream_url(self, resource: Resource) -> str | None:
        # Blank in the database when there is none: null here, as the other addresses are.
        return resource.stream_url or None


class DigitalFilter(OwnedByHallFilter):
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text=_("类型"))
    topic = django_filters.ChoiceFilter(choices=Topic.choices, help_text=_("类别"))
    q = django_filters.CharFilter(
        method="filter_q", max_length=40, help_text=_("按标题、简介或标签查找(包含即可)。")
    )

    class Meta:
        model = Resource
        fields = ["kind", "topic", "hall", "within", "q"]

    def filter_q(self, queryset: QuerySet[Resource], name: str, value: str):
        return selectors.search(queryset, value)


@extend_schema(tags=["digital"])
class DigitalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """数字文化馆:已发布的视频、音频、电子书、图集和直播。公开,无需登录。"""

    serializer_class = DigitalSerializer
    filterset_class = DigitalFilter
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> QuerySet[Resource]:
        return selectors.resources_public()

    @extend_schema(
        summary=_("记一次播放"),
        auth=OPTIONAL_AUTH,
        description=_(
            "视频或音频开始播放、电子书或图集被打开时记一次(计入年度线上服务人次);不记录是谁。"
            "同一地址每小时超过上限的播放照常返回 204,但不计数。"
        ),
        request=None,
        responses={204: None, 400: FIELD_ERRORS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="plays")
    def plays(self, request: Request, pk=None) -> Response:
        try:
            services.play_record(resource_id=int(pk), address=client_ip(request))
        except (TypeError, ValueError, Resource.DoesNotExist):
            raise NotFound(_("没有这个数字资源。")) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
