"""A long job that makes a file, kept as a row: claimed, beating, finished exactly once.

The row is the job's only state, so a restart loses nothing and two workers never both do the
work (healthchecks' way: a conditional ``UPDATE … WHERE`` claims it). A worker claims the row
with one conditional update, beats (and reports progress) while it works, and finishes or fails
it only while the claim is still its own. A worker killed halfway leaves a ``running`` row whose
heartbeat goes stale; the next attempt takes it over. Concrete models add what the job is about
(its kind, period, hall, …) and their own ``file`` field with an ``upload_to``.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from django.core.files import File
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClaimLost(Exception):
    """Another worker took the job over (this one was too slow to beat)."""


def worker_name(task_id: str | None = None) -> str:
    """Who holds a claim: host, process and task, so a log line leads to the worker."""
    return f"{socket.gethostname()}/{os.getpid()}/{task_id or uuid.uuid4().hex[:12]}"


class FileJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    progress = models.PositiveIntegerField(_("进度"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    claimed_by = models.CharField(_("执行进程"), max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    file = models.FileField(_("文件"), blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        return int(100 * self.progress / self.total) if self.total else 0

    def _mine(self, worker: str):
        return type(self)._default_manager.filter(
            pk=self.pk, status=self.Status.RUNNING, claimed_by=worker
        )

    def claim(
        self,
        *,
        worker: str,
        stale_after: timedelta,
        force: bool = False,
        now: datetime | None = None,
    ) -> bool:
        """Whether ``worker`` now holds the job: a pending or failed one, or a running one whose
        heartbeat is older than ``stale_after``; a finished one only when ``force``. The row is
        reread either way."""
        now = now or timezone.now()
        claimable = Q(status__in=[self.Status.PENDING, self.Status.FAILED]) | Q(
            status=self.Status.RUNNING, heartbeat_at__lt=now - stale_after
        )
        if force:
            claimable |= Q(status=self.Status.DONE)
        claimed = (
            type(self)
            ._default_manager.filter(claimable, pk=self.pk)
            .update(
                status=self.Status.RUNNING,
                attempts=F("attempts") + 1,
                claimed_by=worker,
                heartbeat_at=now,
                started_at=now,
                progress=0,
                total=0,
                error="",
            )
        )
        self.refresh_from_db()
        return bool(claimed)

    def beat(self, *, worker: str, progress: int | None = None, total: int | None = None) -> None:
        """Still working (and how far); raises ``ClaimLost`` when the job is no longer ours."""
        changes: dict = {"heartbeat_at": timezone.now()}
        if progress is not None:
            changes["progress"] = progress
        if total is not None:
            changes["total"] = total
        if not self._mine(worker).update(**changes):
            raise ClaimLost(self.pk)

    def finish(self, *, worker: str, name: str, content: File, **fields) -> bool:
        """Store the file, then mark the job done in one conditional update, only while
        ``worker`` still holds it; otherwise the stored file is removed and nothing changes. A
        file of an earlier run (a forced rebuild) is replaced."""
        storage = self.file.storage
        stored = storage.save(self.file.field.generate_filename(self, name), content)
        old = type(self)._default_manager.filter(pk=self.pk).values_list("file", flat=True).first()
        now = timezone.now()
        done = self._mine(worker).update(
            status=self.Status.DONE,
            file=stored,
            finished_at=now,
            heartbeat_at=now,
            progress=F("total"),
            **fields,
        )
        if not done:
            storage.delete(stored)
            return False
        if old and old != stored:
            storage.delete(old)
        self.refresh_from_db()
        return True

    def fail(self, *, worker: str, error: str) -> bool:
        return bool(
            self._mine(worker).update(
                status=self.Status.FAILED, error=error[:4000], heartbeat_at=timezone.now()
            )
        )
