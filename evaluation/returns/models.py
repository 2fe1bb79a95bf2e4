"""The yearly statistics returns a hall fills in (服务统计年报, 资产统计年报): their windows, the
workflow of entry, submission and approval, and every change kept with who and when
(``FigureChange``)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from network.models import Hall


class ReturnKind(models.TextChoices):
    SERVICE = "service", _("服务统计年报")
    ASSET = "asset", _("资产统计年报")


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核")


class ReturnWindow(models.Model):
    """When a year's return of one kind may be filled in, and its deadline."""

    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("报表"), max_length=10, choices=ReturnKind.choices)
    opens_at = models.DateTimeField(_("开始填报"))
    deadline = models.DateTimeField(_("报送截止"))

    class Meta:
        verbose_name = _("填报期限")
        verbose_name_plural = pgettext_lazy("复数", "填报期限")
        constraints = [
            models.UniqueConstraint(fields=["year", "kind"], name="window_year_kind_unique"),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opens_at")), name="window_deadline_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_kind_display()}"


class Rollup(models.TextChoices):
    """How a figure adds up over a subtree. A count adds up; a weekly opening time does not (two
    halls open 40 hours a week are not open 80), so it is the mean over the halls that reported."""

    SUM = "sum", _("合计")
    MEAN = "mean", _("报送馆平均")
    MAX = "max", _("报送馆最大值")
    NONE = "none", _("不汇总")


# What a figure rolled up over halls that did not report shows: never a zero that looks real.
NOT_REPORTED = _("未报送")


class AnnualReturn(models.Model):
    """Shared by both yearly returns: the workflow of entry, submission and approval."""

    hall = models.ForeignKey(Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("馆"))
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT
    )
    # A parent hall may reopen a locked return until this moment.
    reopened_until = models.DateTimeField(_("重新开放至"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("报送人"),
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    review_comment = models.CharField(_("审核意见"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Copies of the hall's place in the tree, so a roll-up groups the return table by a column of
    # its own instead of joining the (much wider) hall table. Kept in step when a hall moves.
    tree_id = models.PositiveIntegerField(editable=False, default=0)
    main_id = models.BigIntegerField(_("所属总馆编号"), editable=False, null=True)
    branch_id = models.BigIntegerField(_("所属分馆编号"), editable=False, null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.hall} {self.year}"

    def save(self, *args, **kwargs) -> None:
        if not self.tree_id:
            self.tree_id, self.main_id, self.branch_id = Hall.objects.filter(
                pk=self.hall_id
            ).values_list("tree_id", "main_hall_id", "branch_hall_id")[0]
        super().save(*args, **kwargs)

    @classmethod
    def rollup_of(cls, name: str) -> Rollup:
        return cls.ROLLUP.get(name, Rollup.SUM)

    @classmethod
    def figure_label(cls, name: str) -> str:
        """The figure's name as a rolled-up column shows it: a mean says it is one
        ("每周开放时长(小时,报送馆平均)")."""
        label = str(cls._meta.get_field(name).verbose_name)
        rollup = cls.rollup_of(name)
        if rollup == Rollup.SUM:
            return label
        if label.endswith((")", "）")):
            return f"{label[:-1]},{rollup.label}{label[-1]}"
        return f"{label}({rollup.label})"


def _count(verbose: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(verbose, default=0)


class ServiceReturn(AnnualReturn):
    """服务统计年报."""

    activities = _count(_("举办活动(场次)"))
    performances = _count(_("文艺演出(场次)"))
    exhibitions = _count(_("展览(个)"))
    lectures = _count(_("讲座(场次)"))
    trainings = _count(_("培训(班次)"))
    trainees = _count(_("培训人次"))
    mobile_services = _count(_("流动服务(次)"))
    participants = _count(_("参与人次"))
    online_services = _count(_("线上服务人次"))
    opening_hours_weekly = models.DecimalField(
        _("每周开放时长(小时)"),
        max_digits=5,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    teams = _count(_("文艺团队(支)"))
    volunteers = _count(_("文化志愿者(人)"))
    orders_received = _count(_("收到点单(个)"))
    orders_fulfilled = _count(_("完成点单(个)"))
    venue_open_hours = _count(_("场馆开放时长(小时)"))
    venue_sessions = _count(_("场馆使用场次"))
    venue_people = _count(_("场馆服务人次"))

    FIGURES = [
        "activities",
        "performances",
        "exhibitions",
        "lectures",
        "trainings",
        "trainees",
        "mobile_services",
        "participants",
        "online_services",
        "opening_hours_weekly",
        "teams",
        "volunteers",
        "orders_received",
        "orders_fulfilled",
        "venue_open_hours",
        "venue_sessions",
        "venue_people",
    ]
    # How each figure rolls up a subtree; a figure not named here is a count and adds up.
    ROLLUP = {"opening_hours_weekly": Rollup.MEAN}
    # Filled from the portal's own records (activities held, their recorded attendance or else
    # check-ins, courses completed, orders, plays of the digital hall's resources, the use of
    # its venues), not typed in.
    AUTOFILLED = [
        "activities",
        "performances",
        "exhibitions",
        "lectures",
        "trainings",
        "trainees",
        "mobile_services",
        "participants",
        "online_services",
        "orders_received",
        "orders_fulfilled",
        "venue_open_hours",
        "venue_sessions",
        "venue_people",
    ]

    class Meta:
        verbose_name = _("服务统计年报")
        verbose_name_plural = pgettext_lazy("复数", "服务统计年报")
        constraints = [
            models.UniqueConstraint(fields=["hall", "year"], name="service_report_hall_year")
        ]


class AssetReturn(AnnualReturn):
    """资产统计年报."""

    floor_area = models.DecimalField(
        _("建筑面积(平方米)"), max_digits=10, decimal_places=1, default=0,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    equipment_count = _count(_("设备(台件)"))
    equipment_value = models.DecimalField(
        _("设备价值(万元)"), max_digits=12, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    funding = models.DecimalField(
        _("年度经费(万元)"), max_digits=12, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    staff = _count(_("在编人员(人)"))
    public_welfare_posts = _count(_("公益岗位(个)"))

    FIGURES = [
        "floor_area",
        "equipment_count",
        "equipment_value",
        "funding",
        "staff",
        "public_welfare_posts",
    ]
    ROLLUP: dict[str, Rollup] = {}
    AUTOFILLED: list[str] = []

    class Meta:
        verbose_name = _("资产统计年报")
        verbose_name_plural = pgettext_lazy("复数", "资产统计年报")
        constraints = [
            models.UniqueConstraint(fields=["hall", "year"], name="asset_report_hall_year")
        ]


class FigureChange(models.Model):
    """One changed field of a yearly return (or a status step), with who and when."""

    kind = models.CharField(_("报表"), max_length=10, choices=ReturnKind.choices)
    # The column keeps its first name: renaming it would rewrite the whole change log.
    return_id = models.PositiveBigIntegerField(_("报表编号"), db_index=True, db_column="report_id")
    hall = models.ForeignKey(Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("馆"))
    year = models.PositiveSmallIntegerField(_("年度"))
    field = models.CharField(_("项目"), max_length=40)
    old_value = models.CharField(_("原值"), max_length=200, blank=True)
    new_value = models.CharField(_("新值"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("数据修改记录")
        verbose_name_plural = pgettext_lazy("复数", "数据修改记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.year} {self.field}"
