"""What spans the evaluation's rooms: the runs of the spreadsheet exports."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.jobs import FileJob
from network.models import Hall


class ExportRun(FileJob):
    """One spreadsheet asked for in the admin and built in the background: its row is its state
    (status, progress, heartbeat), so the progress page and the download read it, and a restart
    loses nothing."""

    # Not a counter: the id is in the progress page's address, and says nothing of other runs.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("表格"), max_length=30)
    year = models.PositiveSmallIntegerField(_("年度"))
    within = models.ForeignKey(
        Hall,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("范围"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("发起人"),
    )
    file = models.FileField(_("文件"), upload_to="exports/", blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = pgettext_lazy("复数", "导出任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}"

    @property
    def filename(self) -> str:
        return PurePosixPath(self.file.name).name if self.file else ""
