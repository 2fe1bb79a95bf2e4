"""The big screen's secret link: one per hall, so a wall display in a meeting room opens that
hall's screen (大屏) without an account. The link is a signature of the hall and a random key;
resetting the link draws a new key, and the old link stops working."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from network.models import Hall


class ScreenLink(models.Model):
    hall = models.OneToOneField(
        Hall, on_delete=models.CASCADE, related_name="screen_link", verbose_name=_("馆")
    )
    key = models.CharField(_("密钥"), max_length=32, editable=False)
    reset_at = models.DateTimeField(_("生成时间"), auto_now=True)
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("生成人"),
    )

    class Meta:
        verbose_name = _("大屏链接")
        verbose_name_plural = pgettext_lazy("复数", "大屏链接")

    def __str__(self) -> str:
        return str(self.hall)
