"""The generated quarterly and annual reports, and the joint meetings that discuss them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.jobs import FileJob
from network.models import Hall


class ReportRun(FileJob):
    """One built report. The row for (kind, period, hall) claims the run (``common.jobs``): a
    second attempt finds it and finishes or returns it, never builds a duplicate."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("季度报告")
        ANNUAL = "annual", _("年度报告")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    period = models.CharField(_("期间"), max_length=7, help_text="2026Q3 / 2026")
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="report_runs", verbose_name=_("馆")
    )
    file = models.FileField(_("报告文件"), upload_to="reports/%Y/", blank=True)
    data = models.JSONField(_("报告数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("季度与年度报告")
        ordering = ["-period", "hall_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "hall"], name="report_run_kind_period_hall"
            )
        ]

    def built_before(self, end) -> bool:
        """Finished before its period ended (built early, before that was refused): not the
        period's report, so the first build after the end replaces it."""
        return self.status == self.Status.DONE and bool(self.finished_at) and self.finished_at < end

    def __str__(self) -> str:
        return f"{self.hall} {self.period} {self.get_kind_display()}"


class JointMeeting(models.Model):
    """The quarterly joint meeting of a county's hall directors (总分馆馆长联席会议)."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="joint_meetings", verbose_name=_("召集馆")
    )
    quarter = models.CharField(_("季度"), max_length=6, help_text="2026Q3")
    held_on = models.DateField(_("召开日期"))
    place = models.CharField(_("地点"), max_length=120, blank=True)
    attendees = models.TextField(_("参会人员"), help_text=_("每行一人:姓名、所在馆、职务"))
    agenda = models.TextField(_("议程"))
    minutes = models.TextField(_("会议纪要"), blank=True)
    report = models.ForeignKey(
        ReportRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("季度报告"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("联席会议")
        verbose_name_plural = pgettext_lazy("复数", "联席会议")
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.hall} {self.quarter}"


class MeetingDecision(models.Model):
    meeting = models.ForeignKey(
        JointMeeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("会议")
    )
    decision = models.CharField(_("决定事项"), max_length=300)
    owner = models.CharField(_("责任人"), max_length=60)
    owner_hall = models.ForeignKey(
        Hall,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("责任馆"),
    )
    due_on = models.DateField(_("完成期限"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("会议决定")
        verbose_name_plural = pgettext_lazy("复数", "会议决定")
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.decision
