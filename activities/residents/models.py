"""A verified phone, its codes and tokens, and the messages sent to it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.idempotency import IdempotencyRecord
from common.privacy import consent_fields
from common.validators import mobile_validator


class Resident(models.Model):
    """A phone that has proved itself once with an SMS code. Nothing else about the person."""

    phone = models.CharField(
        _("手机号码"), max_length=11, unique=True, validators=[mobile_validator]
    )
    verified_at = models.DateTimeField(_("最近验证时间"))
    created_at = models.DateTimeField(_("首次验证时间"), auto_now_add=True)
    consent_version, consented_at = consent_fields()

    class Meta:
        verbose_name = _("已验证手机")
        verbose_name_plural = pgettext_lazy("复数", "已验证手机")

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]}"


class PhoneCode(models.Model):
    """One SMS code sent to a phone. Only a keyed hash of the code is kept."""

    phone = models.CharField(_("手机号码"), max_length=11)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    tries = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("验证码")
        verbose_name_plural = pgettext_lazy("复数", "验证码")
        indexes = [models.Index(fields=["phone", "-created_at"], name="phonecode_latest")]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class ResidentToken(models.Model):
    """What a verified browser or app carries (cookie or ``X-Resident-Token``). Only its hash
    is kept, so a copy of the database lets nobody act as a resident."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))

    class Meta:
        verbose_name = _("居民凭证")
        verbose_name_plural = pgettext_lazy("复数", "居民凭证")

    def __str__(self) -> str:
        return f"{self.resident} → {self.expires_at:%Y-%m-%d}"


class Message(models.Model):
    """One SMS and its delivery record: every attempt counts, the provider's id and the last
    error stay, so staff can see what reached whom."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    phone = models.CharField(_("手机号码"), max_length=11, db_index=True)
    template = models.CharField(_("模板"), max_length=40)
    params = models.JSONField(_("参数"), default=dict)
    text = models.CharField(_("内容"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    provider_id = models.CharField(_("服务商回执号"), max_length=100, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    # What the message is about, when at most one may exist (``reminder:booking:42``).
    key = models.CharField(_("用途"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    send_after = models.DateTimeField(_("最早发送时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = pgettext_lazy("复数", "短信")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="message_one_per_key"
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"], name="message_due")]

    def __str__(self) -> str:
        return f"{self.template} → {self.phone[:3]}****{self.phone[-4:]}"


class ErasureRequest(models.Model):
    """A resident's request, from a verified phone, to remove what is kept about it. What no
    longer needs the phone is anonymised at once; what an open booking still needs waits until
    that ends, and the nightly run finishes it (``portal.privacy``). The phone is kept only
    until then."""

    phone = models.CharField(_("手机号码"), max_length=11, db_index=True)
    requested_at = models.DateTimeField(_("申请时间"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("删除个人信息申请")
        verbose_name_plural = pgettext_lazy("复数", "删除个人信息申请")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.requested_at:%Y-%m-%d}"


class PersonalDataAccess(models.Model):
    """One look at a resident's full phone number, or one export with full numbers: who, when,
    which record (or which export), and why."""

    class Reason(models.TextChoices):
        SHOW = "show", _("查看完整号码")
        EXPORT = "export", _("导出完整号码")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("查看人"),
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录类型")
    )
    object_id = models.PositiveBigIntegerField(_("记录编号"))
    reason = models.CharField(_("用途"), max_length=10, choices=Reason.choices)
    rows = models.PositiveIntegerField(_("号码数"), default=1)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = pgettext_lazy("复数", "个人信息查看记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="pd_access_record")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_reason_display()} {self.content_type_id}:{self.object_id}"


class IdempotentRequest(IdempotencyRecord):
    """The answer to a resident's POST that carried an ``Idempotency-Key``, kept 24 hours
    (``common.idempotency``)."""

    class Meta:
        verbose_name = _("幂等请求")
        verbose_name_plural = pgettext_lazy("复数", "幂等请求")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotent_request_once")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"
