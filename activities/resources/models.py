"""The resource catalogue and dispatch (资源分类编目与调配).

Halls catalogue what they can lend (venues, equipment, the mobile stage truck, teams, talents,
works) and ask each other for it. A dispatch moves through the steps declared once here, in
``Dispatch.TRANSITIONS``; the services, the admin and the API all ask the model.

The tables were created by the ``network`` app (its migrations 0003 and 0004) and renamed to this
app's names when the models moved here; see ``migrations/0001_initial.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from network.models import Hall


class ResourceKind(models.TextChoices):
    """The one classification scheme of the catalogue; the two-digit code prefixes every
    catalogue number."""

    VENUE = "venue", _("场地")
    EQUIPMENT = "equipment", _("设备")
    STAGE_TRUCK = "stage_truck", _("流动舞台车")
    TEAM = "team", _("文艺团队")
    TALENT = "talent", _("文化人才")
    WORK = "work", _("文艺作品")
    DIGITAL = "digital", _("数字资源")


RESOURCE_KIND_CODES = {
    ResourceKind.VENUE: "01",
    ResourceKind.EQUIPMENT: "02",
    ResourceKind.STAGE_TRUCK: "03",
    ResourceKind.TEAM: "04",
    ResourceKind.TALENT: "05",
    ResourceKind.WORK: "06",
    ResourceKind.DIGITAL: "07",
}


class Condition(models.TextChoices):
    GOOD = "good", _("完好")
    FAIR = "fair", _("一般")
    DAMAGED = "damaged", _("损坏待修")


class Resource(models.Model):
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="resources", verbose_name=_("所属馆")
    )
    kind = models.CharField(_("类别"), max_length=20, choices=ResourceKind.choices)
    catalogue_no = models.CharField(_("编目号"), max_length=40, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    quantity = models.PositiveIntegerField(_("数量"), default=1, validators=[MinValueValidator(1)])
    unit = models.CharField(_("单位"), max_length=10, blank=True, help_text=_("如 台、套、人、支"))
    condition = models.CharField(
        _("状况"), max_length=10, choices=Condition.choices, default=Condition.GOOD
    )
    value = models.DecimalField(
        _("价值(万元)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    contact = models.CharField(_("联系人及电话"), max_length=80, blank=True)
    public = models.BooleanField(
        _("向群众公开"), default=True, help_text=_("文艺团队和场地会显示在公开页面上")
    )
    dispatchable = models.BooleanField(_("可调配"), default=True)
    active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资源")
        verbose_name_plural = _("资源目录")
        ordering = ["catalogue_no"]
        indexes = [models.Index(fields=["kind", "hall"], name="resource_kind_hall")]

    def __str__(self) -> str:
        return f"{self.catalogue_no} {self.name}"


class Dispatch(models.Model):
    """A hall asks for a resource for a period (调配/配送). Approved by the owner hall, or by the
    lowest common ancestor when the resource crosses counties.

    On PostgreSQL an exclusion constraint, ``dispatch_no_overlap``, refuses two live dispatches
    of one resource whose periods overlap. It is raw SQL (network migration 0004, kept on the
    table through the rename to ``resources_dispatch``), not part of the migration state: SQLite
    has no such constraint, and Django would otherwise validate it in Python with range lookups
    SQLite cannot run."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("申请中")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        HANDED_OVER = "handed_over", _("已交接")
        RETURNED = "returned", _("已归还")
        CANCELLED = "cancelled", _("已撤回")

    class Step(models.TextChoices):
        APPROVE = "approve", _("批准")
        REJECT = "reject", _("不批准")
        CANCEL = "cancel", _("撤回")
        HAND_OVER = "hand_over", _("交接")
        RETURN = "return", _("归还")
        ADD_STOP = "add_stop", _("添加巡演站点")

    # The state machine, declared once: from each status, the steps allowed and the status each
    # leads to. Adding a tour stop keeps the status. Rejected, returned and cancelled are final.
    TRANSITIONS = {
        Status.REQUESTED: {
            Step.APPROVE: Status.APPROVED,
            Step.REJECT: Status.REJECTED,
            Step.CANCEL: Status.CANCELLED,
        },
        Status.APPROVED: {
            Step.CANCEL: Status.CANCELLED,
            Step.HAND_OVER: Status.HANDED_OVER,
            Step.ADD_STOP: Status.APPROVED,
        },
        Status.HANDED_OVER: {
            Step.RETURN: Status.RETURNED,
            Step.ADD_STOP: Status.HANDED_OVER,
        },
    }
    # Whose staff take each step (a path from the dispatch to a hall): the approving hall
    # decides, the requesting hall withdraws and plans the tour, the owner lends and takes back.
    STEP_HALL = {
        Step.APPROVE: "approver_hall",
        Step.REJECT: "approver_hall",
        Step.CANCEL: "requesting_hall",
        Step.HAND_OVER: "resource__hall",
        Step.RETURN: "resource__hall",
        Step.ADD_STOP: "requesting_hall",
    }
    # The statuses that hold the resource: what the exclusion constraint and the overlap checks
    # look at.
    LIVE = (Status.APPROVED, Status.HANDED_OVER)

    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="dispatches", verbose_name=_("资源")
    )
    requesting_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请馆")
    )
    approver_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("审批馆")
    )
    purpose = models.CharField(_("用途"), max_length=255)
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=255, blank=True)
    handed_over_at = models.DateTimeField(_("交接时间"), null=True, blank=True)
    handover_condition = models.CharField(
        _("交接时状况"), max_length=10, choices=Condition.choices, blank=True
    )
    handover_note = models.CharField(_("交接说明"), max_length=255, blank=True)
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    return_condition = models.CharField(
        _("归还时状况"), max_length=10, choices=Condition.choices, blank=True
    )
    return_note = models.CharField(_("归还说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("资源调配")
        verbose_name_plural = pgettext_lazy("复数", "资源调配")
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["resource", "status", "start"], name="dispatch_busy")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="dispatch_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} → {self.requesting_hall}"

    def next_steps(self) -> list[str]:
        """The steps the dispatch allows now, in the order of ``Step``."""
        allowed = self.TRANSITIONS.get(self.status, {})
        return [step for step in self.Step if step in allowed]

    def can(self, step: str) -> bool:
        return step in self.TRANSITIONS.get(self.status, {})

    def status_after(self, step: str) -> str:
        """The status ``step`` leads to; raises ``KeyError`` for a step the status forbids."""
        return self.TRANSITIONS[self.status][step]

    @classmethod
    def statuses_allowing(cls, step: str) -> list[str]:
        """The statuses from which ``step`` can be taken: e.g. what waits for an approval."""
        return [status for status, steps in cls.TRANSITIONS.items() if step in steps]

    def step_hall(self, step: str) -> Hall:
        """The hall whose scope may take ``step``."""
        hall = self
        for name in self.STEP_HALL[step].split("__"):
            hall = getattr(hall, name)
        return hall


class DispatchStop(models.Model):
    """One stop of a tour (e.g. the mobile stage truck): an activity at a village point."""

    dispatch = models.ForeignKey(
        Dispatch, on_delete=models.CASCADE, related_name="stops", verbose_name=_("调配")
    )
    point = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("服务点")
    )
    activity = models.OneToOneField(
        "activities.Activity",
        on_delete=models.PROTECT,
        related_name="dispatch_stop",
        verbose_name=_("活动"),
    )
    order = models.PositiveSmallIntegerField(_("站序"))

    class Meta:
        verbose_name = _("巡演站点")
        verbose_name_plural = pgettext_lazy("复数", "巡演站点")
        ordering = ["dispatch", "order"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "order"], name="dispatch_stop_order")
        ]

    def __str__(self) -> str:
        return f"{self.dispatch_id} #{self.order}"
