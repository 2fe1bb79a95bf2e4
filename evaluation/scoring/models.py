"""Assessment schemes (the 13 dimensions), scores, inspections and the residents' satisfaction.

Scores are never overwritten silently: every change is kept in ``ScoreChange`` with who and when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.privacy import consent_fields
from network.models import Hall

# --- Assessment -----------------------------------------------------------------------------------


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class MissingRule(models.TextChoices):
    """How a total counts the dimensions with no data (缺项) of an assessed hall."""

    SCALE = "scale", _("按有数据的维度折算")
    ZERO = "zero", _("缺项按 0 分计")


class AssessmentScheme(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    name = models.CharField(_("名称"), max_length=120)
    excellent_from = models.DecimalField(
        _("优秀分数线"), max_digits=5, decimal_places=1, default=90
    )
    good_from = models.DecimalField(_("良好分数线"), max_digits=5, decimal_places=1, default=75)
    pass_from = models.DecimalField(_("合格分数线"), max_digits=5, decimal_places=1, default=60)
    missing_rule = models.CharField(
        _("缺项计分规则"),
        max_length=10,
        choices=MissingRule.choices,
        default=MissingRule.SCALE,
        help_text=_(
            "折算:总分 = 有数据维度的得分之和 × 全部维度满分之和 ÷ 有数据维度满分之和;"
            "按 0 分计:缺项不得分。两种规则下缺项都会标出。"
        ),
    )

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
    consent_version, consented_at = consent_fields()

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
