"""The service menus, the orders placed from them (点单) and every step of each order.

An order's states and the steps between them are declared once, in ``Order.TRANSITIONS``; the
services, the admin and the API ask ``order.can(step)`` / ``order.next_steps()``. Which orders
count as fulfilled, answered on time or overdue is declared once too, as ``Q`` builders on
``Order`` (for aggregates) and the queryset methods built on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import Activity, Category
from common.privacy import consent_fields
from common.validators import mobile_validator
from network.models import Hall


class MenuItem(models.Model):
    """A service a hall offers to be ordered (服务菜单)."""

    class Orderers(models.TextChoices):
        ANYONE = "anyone", _("群众和服务点均可")
        RESIDENTS = "residents", _("仅限群众")
        POINTS = "points", _("仅限基层服务点")

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="menu_items", verbose_name=_("提供馆")
    )
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    title = models.CharField(_("服务名称"), max_length=120)
    description = models.TextField(_("服务内容"), blank=True)
    orderers = models.CharField(
        _("可点单对象"), max_length=12, choices=Orderers.choices, default=Orderers.ANYONE
    )
    lead_days = models.PositiveSmallIntegerField(
        _("提前天数"), default=7, help_text=_("至少提前多少天点单")
    )
    monthly_limit = models.PositiveSmallIntegerField(
        _("每月限量"), null=True, blank=True, help_text=_("每个服务点每月最多点单次数;留空不限")
    )
    active = models.BooleanField(_("开放点单"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务菜单项")
        verbose_name_plural = _("服务菜单")
        ordering = ["hall_id", "category", "title"]

    def __str__(self) -> str:
        return self.title


class OrderQuerySet(models.QuerySet):
    def fulfilled(self) -> OrderQuerySet:
        return self.filter(Order.fulfilled_q())

    def answered_on_time(self) -> OrderQuerySet:
        return self.filter(Order.answered_on_time_q())

    def overdue(self, now: datetime | None = None) -> OrderQuerySet:
        return self.filter(Order.overdue_q(now))


class Order(models.Model):
    """A village's order (点单): a menu item, or a free request that goes to the branch above."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        ACCEPTED = "accepted", _("已受理")
        SCHEDULED = "scheduled", _("已排期")
        DONE = "done", _("已完成")
        RATED = "rated", _("已评价")
        REJECTED = "rejected", _("未受理")

    class Step(models.TextChoices):
        ACCEPT = "accept", _("受理")
        REJECT = "reject", _("不予受理")
        SCHEDULE = "schedule", _("排期")
        COMPLETE = "complete", _("完成")
        RATE = "rate", _("评价")
        ESCALATE = "escalate", _("逾期上报")

    # The state machine: each step, the statuses it may be taken from and the status it leads
    # to. Escalation hands an unanswered order to the hall above and leaves its status as it is.
    TRANSITIONS = {
        Step.ACCEPT: ((Status.SUBMITTED,), Status.ACCEPTED),
        Step.REJECT: ((Status.SUBMITTED, Status.ACCEPTED), Status.REJECTED),
        # A scheduled order whose activity was cancelled is scheduled again (``can``).
        Step.SCHEDULE: ((Status.ACCEPTED, Status.SCHEDULED), Status.SCHEDULED),
        # An accepted order may be completed too: the activity was held without being scheduled
        # here, and the service then asks for a note that says when and where.
        Step.COMPLETE: ((Status.SCHEDULED, Status.ACCEPTED), Status.DONE),
        Step.RATE: ((Status.DONE,), Status.RATED),
        Step.ESCALATE: ((Status.SUBMITTED,), Status.SUBMITTED),
    }
    # The steps the handler hall's staff take (the admin's buttons, the staff API's actions).
    STAFF_STEPS = (Step.ACCEPT, Step.REJECT, Step.SCHEDULE, Step.COMPLETE)
    # Delivered, whether the orderer has rated it yet or not.
    FULFILLED = (Status.DONE, Status.RATED)

    code = models.CharField(_("订单号"), max_length=12, unique=True)
    point = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="orders", verbose_name=_("点单服务点")
    )
    item = models.ForeignKey(
        MenuItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("服务菜单项"),
    )
    # The hall that must answer: the menu's hall, or the branch above the village; escalation
    # moves it up the tree.
    handler = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="handled_orders", verbose_name=_("承办馆")
    )
    name = models.CharField(_("联系人"), max_length=40)
    phone = models.CharField(_("手机号码"), max_length=11, validators=[mobile_validator])
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务点工作人员"),
    )
    description = models.TextField(_("需求说明"), max_length=1000)
    preferred_date = models.DateField(_("希望日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=Status.choices,
        default=Status.SUBMITTED,
        db_index=True,
    )
    respond_by = models.DateTimeField(_("答复期限"), db_index=True)
    escalations = models.PositiveSmallIntegerField(_("上报次数"), default=0)
    reject_reason = models.CharField(_("未受理原因"), max_length=200, blank=True)
    activity = models.OneToOneField(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
        verbose_name=_("排期活动"),
    )
    rating = models.PositiveSmallIntegerField(
        _("评分"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(_("首次答复时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    consent_version, consented_at = consent_fields()

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("点单")
        verbose_name_plural = pgettext_lazy("复数", "点单")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["handler", "status", "created_at"], name="order_inbox")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="order_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return self.code

    # --- The state machine ------------------------------------------------------------------

    @classmethod
    def step_sources(cls, step: str) -> tuple[str, ...]:
        """The statuses ``step`` may be taken from."""
        return cls.TRANSITIONS[step][0]

    @classmethod
    def step_target(cls, step: str) -> str:
        """The status ``step`` leads to."""
        return cls.TRANSITIONS[step][1]

    def can(self, step: str, now: datetime | None = None) -> bool:
        if self.status not in self.step_sources(step):
            return False
        if self.status == self.Status.SCHEDULED:
            if step == self.Step.SCHEDULE:
                # Scheduled again only when the activity it was scheduled as was cancelled.
                return self.activity_cancelled()
            if step == self.Step.COMPLETE:
                # Done means delivered: not before the scheduled activity has ended; when it
                # was cancelled, only as held some other way (with a note, the service asks).
                return self.activity_cancelled() or self.activity_ended(now)
        return True

    def next_steps(
        self, steps: Iterable[str] = STAFF_STEPS, now: datetime | None = None
    ) -> list[Order.Step]:
        """The steps of ``steps`` (the staff's, unless told) this order may take now, in order."""
        return [self.Step(step) for step in steps if self.can(step, now)]

    def activity_ended(self, now: datetime | None = None) -> bool:
        """Whether the activity this order was scheduled as has ended (true without one)."""
        return self.activity_id is None or self.activity.end <= (now or timezone.now())

    def activity_cancelled(self) -> bool:
        """Whether the activity this order was scheduled as was cancelled (false without one)."""
        return self.activity_id is not None and self.activity.status == Activity.Status.CANCELLED

    def completes_with_note(self) -> bool:
        """Completing an order with no activity held on the platform (never scheduled here, or
        its activity cancelled) needs a note saying when and where it was held."""
        return self.activity_id is None or self.activity_cancelled()

    # --- Rules the reports, the dashboard and the pages share --------------------------------

    @classmethod
    def fulfilled_q(cls) -> Q:
        """Delivered: done, rated or not yet."""
        return Q(status__in=cls.FULFILLED)

    @staticmethod
    def answered_on_time_q() -> Q:
        """Answered by its deadline by the hall it first went to: an escalated order was not."""
        return Q(answered_at__isnull=False, escalations=0, answered_at__lte=F("respond_by"))

    @classmethod
    def overdue_q(cls, now: datetime | None = None) -> Q:
        """Still waiting for an answer after its deadline: the next escalation takes it up."""
        return Q(
            status__in=cls.step_sources(cls.Step.ESCALATE),
            respond_by__lt=now or timezone.now(),
        )

    def is_overdue(self, now: datetime | None = None) -> bool:
        """``overdue_q`` for one order in hand."""
        return self.can(self.Step.ESCALATE) and self.respond_by < (now or timezone.now())


class OrderEvent(models.Model):
    """Every step of an order: who, when, and what changed."""

    # What each recorded ``action`` is called to people (the order page and the admin).
    ACTION_LABELS = {
        "submitted": _("提交点单"),
        "accepted": _("受理"),
        "scheduled": _("排期"),
        "done": _("服务完成"),
        "rated": _("评价"),
        "rejected": _("不予受理"),
        "escalated": _("逾期上报"),
    }

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("点单")
    )
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    action = models.CharField(_("操作"), max_length=40)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    by_phone = models.CharField(_("操作手机号"), max_length=11, blank=True)
    hall = models.ForeignKey(
        Hall,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承办馆"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("点单记录")
        verbose_name_plural = pgettext_lazy("复数", "点单记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))
