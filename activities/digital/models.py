"""The digital culture hall (数字文化馆): a hall's videos (recorded classes 慕课, performances),
audio, e-books, picture sets and live streams, for residents to watch, hear and read on a phone.

Uses are counted per resource and day (``Use``: views of the page and plays of the media),
never per person: the annual figure 线上服务人次 is the plays of a hall's resources in the year.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from network.models import Hall


class Kind(models.TextChoices):
    VIDEO = "video", _("视频")
    AUDIO = "audio", _("音频")
    BOOK = "book", _("电子书")
    PICTURES = "pictures", _("图集")
    LIVE = "live", _("直播")


class Topic(models.TextChoices):
    COURSE = "course", _("慕课与培训")
    PERFORMANCE = "performance", _("演出")
    LECTURE = "lecture", _("讲座")
    READING = "reading", _("数字阅读")
    HERITAGE = "heritage", _("非遗与民族文化")
    OTHER = "other", _("其他")


class Audience(models.TextChoices):
    ALL = "all", _("所有人")
    CHILDREN = "children", _("少儿")
    YOUTH = "youth", _("青少年")
    ADULTS = "adults", _("成年人")
    ELDERLY = "elderly", _("老年人")


class LiveState(models.TextChoices):
    UPCOMING = "upcoming", _("即将开播")
    LIVE = "live", _("直播中")
    ENDED = "ended", _("已结束")


class Resource(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="digital_resources", verbose_name=_("所属馆")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    topic = models.CharField(_("类别"), max_length=12, choices=Topic.choices, default=Topic.OTHER)
    audience = models.CharField(
        _("适合人群"), max_length=10, choices=Audience.choices, default=Audience.ALL
    )
    title = models.CharField(_("标题"), max_length=120)
    summary = models.TextField(_("简介"), blank=True)
    tags = models.CharField(_("标签"), max_length=200, blank=True, help_text=_("用逗号分隔"))
    duration = models.PositiveIntegerField(
        _("时长(秒)"), null=True, blank=True, help_text=_("视频、音频的时长")
    )
    licence = models.CharField(
        _("版权与授权"), max_length=120, blank=True, help_text=_("如 本馆原创、已获授权、CC BY-NC")
    )
    cover = models.ImageField(_("封面"), upload_to="digital/covers/%Y/", blank=True)
    # The video, audio or PDF; for a live stream, its replay once it has ended. Named by the
    # portal (a random name with the extension of the detected type), never by the uploader.
    file = models.FileField(_("文件"), upload_to="digital/files/%Y/%m/", blank=True)
    content_type = models.CharField(_("文件类型"), max_length=60, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("文件大小(字节)"), default=0, editable=False)
    stream_url = models.URLField(
        _("直播地址"), blank=True, help_text=_("直播平台提供的播放地址(如 .m3u8)")
    )
    live_start = models.DateTimeField(_("直播开始"), null=True, blank=True)
    live_end = models.DateTimeField(_("直播结束"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, editable=False)
    views = models.PositiveBigIntegerField(_("浏览次数"), default=0, editable=False)
    plays = models.PositiveBigIntegerField(_("播放/阅读次数"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
        editable=False,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("数字资源")
        verbose_name_plural = pgettext_lazy("复数", "数字资源")
        indexes = [models.Index(fields=["status", "kind", "-published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(live_end__isnull=True)
                | models.Q(live_start__isnull=True)
                | models.Q(live_end__gt=models.F("live_start")),
                name="digital_live_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def live_state(self, now: datetime | None = None) -> LiveState | None:
        """Where a live stream is now: upcoming, live or ended (None for other kinds)."""
        if self.kind != Kind.LIVE or self.live_start is None:
            return None
        now = now or timezone.now()
        if now < self.live_start:
            return LiveState.UPCOMING
        if self.live_end is None or now < self.live_end:
            return LiveState.LIVE
        return LiveState.ENDED

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace(",", ",").split(",") if t.strip()]


class Picture(models.Model):
    """One picture of a picture set (图集)."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="pictures", verbose_name=_("图集")
    )
    image = models.ImageField(_("图片"), upload_to="digital/pictures/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("图片")
        verbose_name_plural = pgettext_lazy("复数", "图片")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.caption or self.image.name


class Use(models.Model):
    """How often a resource was viewed and played on one day; nobody's identity is kept."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="uses", verbose_name=_("数字资源")
    )
    day = models.DateField(_("日期"))
    views = models.PositiveIntegerField(_("浏览次数"), default=0)
    plays = models.PositiveIntegerField(_("播放/阅读次数"), default=0)

    class Meta:
        verbose_name = _("使用记录")
        verbose_name_plural = pgettext_lazy("复数", "使用记录")
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="digital_use_resource_day")
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} · {self.day}"
