"""Annual statistics, assessment schemes, scores, inspections and satisfaction.

Figures and scores are never overwritten silently: every change is kept in ``FigureChange`` or
``ScoreChange`` with who and when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from network.models import Hall


class ReportKind(models.TextChoices):
    SERVICE = "service", _("服务统计年报")
    ASSET = "asset", _("资产统计年报")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核")


class ReportingWindow(models.Model):
    """When a year's report of one kind may be filled in, and its deadline."""

    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("报表"), max_length=10, choices=ReportKind.choices)
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


class AnnualReport(models.Model):
    """Shared by both yearly reports: the workflow of entry, submission and approval."""

    hall = models.ForeignKey(Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("馆"))
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    # A parent hall may reopen a locked report until this moment.
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
    # Copies of the hall's place in the tree, so a roll-up groups the report table by a column of
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


def _count(verbose: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(verbose, default=0)


class ServiceReport(AnnualReport):
    """服务统计年报."""

    activities = _count(_("举办活动(场次)"))
    performances = _count(_("文艺演出(场次)"))
    exhibitions = _count(_("展览(个)"))
    lectures = _count(_("讲座(场次)"))
    trainings = _count(_("培训(班次)"))
    trainees = _count(_("培训人次"))
    mobile_services = _count(_("流动服务(次)"))
    participants = _count(_("参与人次"))
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

    FIGURES = [
        "activities",
        "performances",
        "exhibitions",
        "lectures",
        "trainings",
        "trainees",
        "mobile_services",
        "participants",
        "opening_hours_weekly",
        "teams",
        "volunteers",
        "orders_received",
        "orders_fulfilled",
    ]
    # Filled from the portal's own records (activities held, check-ins, orders), not typed in.
    AUTOFILLED = [
        "activities",
        "performances",
        "exhibitions",
        "lectures",
        "trainings",
        "mobile_services",
        "participants",
        "orders_received",
        "orders_fulfilled",
    ]

    class Meta:
        verbose_name = _("服务统计年报")
        verbose_name_plural = pgettext_lazy("复数", "服务统计年报")
        constraints = [
            models.UniqueConstraint(fields=["hall", "year"], name="service_report_hall_year")
        ]


class AssetReport(AnnualReport):
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
    AUTOFILLED: list[str] = []

    class Meta:
        verbose_name = _("资产统计年报")
        verbose_name_plural = pgettext_lazy("复数", "资产统计年报")
        constraints = [
            models.UniqueConstraint(fields=["hall", "year"], name="asset_report_hall_year")
        ]


class FigureChange(models.Model):
    """One changed field of a yearly report (or a status step), with who and when."""

    kind = models.CharField(_("报表"), max_length=10, choices=ReportKind.choices)
    report_id = models.PositiveBigIntegerField(_("报表编号"), db_index=True)
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


# --- Assessment -----------------------------------------------------------------------------------


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class AssessmentScheme(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    name = models.CharField(_("名称"), max_length=120)
    excellent_from = models.DecimalField(
        _("优秀分数线"), max_digits=5, decimal_places=1, default=90
    )
    good_from = models.DecimalField(_("良好分数线"), max_digits=5, decimal_places=1, default=75)
    pass_from = models.DecimalField(_("合格分数线"), max_digits=5, decimal_places=1, default=60)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = pgettext_lazy("复数", "考核方案")
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.name

    def grade_for(self, total) -> str:
        if total >= self.excellent_from:
            return Grade.EXCELLENT
        if total >= self.good_from:
            return Grade.GOOD
        if total >= self.pass_from:
            return Grade.PASS
        return Grade.FAIL


class Dimension(models.Model):
    """One of the 13 assessment dimensions of the second seed, with its points and criteria."""

    class Source(models.TextChoices):
        SCORED = "scored", _("上级评分")
        SATISFACTION = "satisfaction", _("群众满意度测评")

    scheme = models.ForeignKey(
        AssessmentScheme,
        on_delete=models.CASCADE,
        related_name="dimensions",
        verbose_name=_("方案"),
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    code = models.CharField(_("代码"), max_length=30)
    name = models.CharField(_("维度"), max_length=30)
    weight = models.DecimalField(
        _("权重(%)"), max_digits=5, decimal_places=1, validators=[MinValueValidator(0)]
    )
    max_points = models.DecimalField(
        _("满分"), max_digits=5, decimal_places=1, validators=[MinValueValidator(0)]
    )
    criteria = models.TextField(_("评分标准"), blank=True)
    source = models.CharField(
        _("分数来源"), max_length=15, choices=Source.choices, default=Source.SCORED
    )

    class Meta:
        verbose_name = _("考核维度")
        verbose_name_plural = pgettext_lazy("复数", "考核维度")
        ordering = ["scheme", "order"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="dimension_scheme_code"),
            models.UniqueConstraint(fields=["scheme", "order"], name="dimension_scheme_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Score(models.Model):
    """Points a hall got on one dimension, given by staff of an ancestor hall."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="scores", verbose_name=_("方案")
    )
    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="scores", verbose_name=_("维度")
    )
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("被考核馆")
    )
    points = models.DecimalField(
        _("得分"), max_digits=5, decimal_places=1, validators=[MinValueValidator(0)]
    )
    comment = models.CharField(_("评语"), max_length=500, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("评分人"),
    )
    scored_at = models.DateTimeField(_("评分时间"), auto_now=True)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = pgettext_lazy("复数", "评分")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "hall", "dimension"], name="score_scheme_hall_dimension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.dimension_id} {self.points}"


class ScoreChange(models.Model):
    score = models.ForeignKey(
        Score, on_delete=models.CASCADE, related_name="changes", verbose_name=_("评分")
    )
    old_points = models.DecimalField(_("原分"), max_digits=5, decimal_places=1, null=True)
    new_points = models.DecimalField(_("新分"), max_digits=5, decimal_places=1)
    comment = models.CharField(_("评语"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("评分人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评分修改记录")
        verbose_name_plural = pgettext_lazy("复数", "评分修改记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.score_id}: {self.old_points} → {self.new_points}"


class Inspection(models.Model):
    """A daily supervision visit (日常监督检查) by a higher hall; unresolved findings cost points."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("被检查馆")
    )
    inspector_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("检查馆")
    )
    inspected_on = models.DateField(_("检查日期"))
    findings = models.TextField(_("发现的问题"))
    dimension = models.ForeignKey(
        Dimension,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("计入维度"),
    )
    deduction = models.DecimalField(
        _("扣分"), max_digits=4, decimal_places=1, default=0, validators=[MinValueValidator(0)]
    )
    fix_by = models.DateField(_("整改期限"))
    fixed_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("监督检查")
        verbose_name_plural = pgettext_lazy("复数", "监督检查")
        ordering = ["-inspected_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.hall} {self.inspected_on}"


class SatisfactionResponse(models.Model):
    """A resident's short survey answer: one per phone per hall per quarter."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("被评价馆")
    )
    phone = models.CharField(_("手机号码"), max_length=11)
    quarter = models.CharField(_("季度"), max_length=6, help_text="2026Q3")
    rating = models.PositiveSmallIntegerField(
        _("满意度"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("意见建议"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("满意度测评")
        verbose_name_plural = pgettext_lazy("复数", "满意度测评")
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "phone", "quarter"], name="satisfaction_once_a_quarter"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="satisfaction_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.quarter} {self.rating}"


# --- Quarterly and annual reports, joint meetings ---------------------------------------------------


class ReportRun(models.Model):
    """One built report. The row for (kind, period, hall) claims the run: a second attempt finds
    it and finishes or returns it, never builds a duplicate."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("季度报告")
        ANNUAL = "annual", _("年度报告")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    period = models.CharField(_("期间"), max_length=7, help_text="2026Q3 / 2026")
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="report_runs", verbose_name=_("馆")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_by = models.CharField(_("执行进程"), max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    file = models.FileField(_("报告文件"), upload_to="reports/%Y/", blank=True)
    data = models.JSONField(_("报告数据"), default=dict, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("季度与年度报告")
        ordering = ["-period", "hall_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "hall"], name="report_run_kind_period_hall"
            )
        ]

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
