"""Venue booking (场馆预约): a hall's rooms that residents and registered amateur teams reserve
by the time slot.

A venue is open in weekly ranges (several a day), closed on the public holidays of
``common.workdays`` and in its closures. A reservation holds its venue for a range while it is
live (``Reservation.LIVE``); on PostgreSQL an exclusion constraint, ``reservation_no_overlap``,
refuses two live reservations of one venue whose ranges overlap (raw SQL in migration 0002, not
part of the migration state, as dispatch's is). Nothing is deleted: reservations are cancelled.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.privacy import consent_fields
from common.validators import mobile_validator
from network.models import Hall

WEEKDAYS = [
    (0, _("星期一")),
    (1, _("星期二")),
    (2, _("星期三")),
    (3, _("星期四")),
    (4, _("星期五")),
    (5, _("星期六")),
    (6, _("星期日")),
]


class Venue(models.Model):
    class Kind(models.TextChoices):
        REHEARSAL = "rehearsal", _("排练厅")
        MULTI_PURPOSE = "multi_purpose", _("多功能厅")
        DANCE = "dance", _("舞蹈室")
        CALLIGRAPHY = "calligraphy", _("书画室")
        OTHER = "other", _("其他")

    class Access(models.TextChoices):
        ANYONE = "anyone", _("所有居民")
        TEAMS = "teams", _("仅限登记的文艺团队")

    class Status(models.TextChoices):
        OPEN = "open", _("开放预约")
        CLOSED = "closed", _("暂停预约")

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="venues", verbose_name=_("所属馆")
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    capacity = models.PositiveIntegerField(
        _("容纳人数"), validators=[MinValueValidator(1), MaxValueValidator(5000)]
    )
    equipment = models.TextField(_("设施设备"), blank=True, help_text=_("如 钢琴、音响、把杆"))
    rules = models.TextField(_("使用须知"), blank=True)
    photo = models.ImageField(_("照片"), upload_to="venues/%Y/%m/", blank=True)
    access = models.CharField(
        _("谁可以预约"), max_length=10, choices=Access.choices, default=Access.ANYONE
    )
    needs_approval = models.BooleanField(
        _("需工作人员审核"), default=False, help_text=_("勾选后,预约须由工作人员批准才生效")
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("时段长度(分钟)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(15), MaxValueValidator(480)],
        help_text=_("留空则可在开放时间内自由选择起止时间(按整半小时)"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("场馆")
        verbose_name_plural = pgettext_lazy("复数", "场馆")
        ordering = ["hall", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("venues:venue_detail", args=[self.pk])

    @property
    def step_minutes(self) -> int:
        """The grid's step: the slot length, or half an hour where ranges are free."""
        return self.slot_minutes or 30


class OpeningHours(models.Model):
    """One opening range of a weekday; a day may have several (morning, evening)."""

    venue = models.ForeignKey(
        Venue, on_delete=models.CASCADE, related_name="hours", verbose_name=_("场馆")
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=WEEKDAYS)
    opens = models.TimeField(_("开始"))
    closes = models.TimeField(_("结束"))

    class Meta:
        verbose_name = _("开放时间")
        verbose_name_plural = pgettext_lazy("复数", "开放时间")
        ordering = ["venue", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="venue_hours_close_after_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """Days a venue is closed (maintenance, an event of the hall), both ends included."""

    venue = models.ForeignKey(
        Venue, on_delete=models.CASCADE, related_name="closures", verbose_name=_("场馆")
    )
    first_day = models.DateField(_("起始日期"))
    last_day = models.DateField(_("截止日期"))
    reason = models.CharField(_("原因"), max_length=120)

    class Meta:
        verbose_name = _("闭馆安排")
        verbose_name_plural = pgettext_lazy("复数", "闭馆安排")
        ordering = ["venue", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="venue_closure_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day}–{self.last_day} {self.reason}"


class Team(models.Model):
    """A registered amateur team (文艺团队) of a hall; teams-only venues are booked by teams."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="teams", verbose_name=_("所属馆")
    )
    name = models.CharField(_("团队名称"), max_length=80)
    leader_name = models.CharField(_("负责人"), max_length=40)
    leader_phone = models.CharField(_("负责人手机"), max_length=11, validators=[mobile_validator])
    members = models.PositiveIntegerField(_("成员人数"), validators=[MinValueValidator(1)])
    active = models.BooleanField(_("活跃"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("文艺团队")
        verbose_name_plural = pgettext_lazy("复数", "文艺团队")
        ordering = ["hall", "name"]
        constraints = [models.UniqueConstraint(fields=["hall", "name"], name="team_name_per_hall")]

    def __str__(self) -> str:
        return self.name


class ReservationSeries(models.Model):
    """A recurring reservation: every week on a weekday, one time range, over a date span.
    Saved whole or not at all; its reservations point back here."""

    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, related_name="series", verbose_name=_("场馆")
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=WEEKDAYS)
    starts_at = models.TimeField(_("开始时间"))
    ends_at = models.TimeField(_("结束时间"))
    first_day = models.DateField(_("起始日期"))
    last_day = models.DateField(_("截止日期"))
    name = models.CharField(_("预约人"), max_length=40)
    phone = models.CharField(_("手机号码"), max_length=11, validators=[mobile_validator])
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="series",
        verbose_name=_("文艺团队"),
    )
    purpose = models.CharField(_("用途"), max_length=120)
    party_size = models.PositiveIntegerField(_("人数"), validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )

    class Meta:
        verbose_name = _("周期预约")
        verbose_name_plural = pgettext_lazy("复数", "周期预约")
        ordering = ["-first_day", "-pk"]

    def __str__(self) -> str:
        return (
            f"{self.venue} {self.get_weekday_display()} "
            f"{self.starts_at:%H:%M}–{self.ends_at:%H:%M} ({self.first_day}–{self.last_day})"
        )


class Reservation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("未通过")
        CANCELLED = "cancelled", _("已取消")
        CHECKED_IN = "checked_in", _("已签到")
        NO_SHOW = "no_show", _("未到场")

    # The statuses that hold the venue: what the exclusion constraint and every overlap check
    # look at. Written out in the constraint's SQL (migration 0002) as well.
    LIVE = (Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN)
    # A resident or staff may cancel these; staff decide pending ones.
    CANCELLABLE = (Status.PENDING, Status.CONFIRMED)

    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("场馆")
    )
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    code = models.CharField(_("预约码"), max_length=12, unique=True)
    name = models.CharField(_("预约人"), max_length=40)
    phone = models.CharField(_("手机号码"), max_length=11, validators=[mobile_validator])
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("文艺团队"),
    )
    purpose = models.CharField(_("用途"), max_length=120)
    party_size = models.PositiveIntegerField(_("人数"), validators=[MinValueValidator(1)])
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, db_index=True)
    series = models.ForeignKey(
        ReservationSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("周期预约"),
    )
    created_at = models.DateTimeField(_("预约时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("代约工作人员"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("取消人"),
        help_text=_("为空表示预约人本人取消"),
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签到登记人"),
    )
    consent_version, consented_at = consent_fields()

    class Meta:
        verbose_name = _("场馆预约")
        verbose_name_plural = pgettext_lazy("复数", "场馆预约")
        ordering = ["-start", "-pk"]
        indexes = [
            models.Index(fields=["venue", "start"], name="reservation_venue_start"),
            models.Index(fields=["phone", "status"], name="reservation_phone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="reservation_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.venue}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE
