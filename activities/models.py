"""Activities, bookings and waiting lists.

A seat count is only ever changed by one conditional UPDATE (``seats_taken + n <= capacity``) in
``activities.services``; the database also checks the bound, so no code path can overbook.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.privacy import consent_fields
from common.validators import mobile_validator
from network.models import Hall


class Category(models.TextChoices):
    PERFORMANCE = "performance", _("演出")
    EXHIBITION = "exhibition", _("展览")
    LECTURE = "lecture", _("讲座")
    TRAINING = "training", _("培训")
    READING = "reading", _("阅读")
    MOBILE = "mobile", _("流动服务")
    OTHER = "other", _("其他")


class BookingState:
    """The answers of ``Activity.booking_state``; the activity page explains each one."""

    NOT_PUBLISHED = "not_published"
    CANCELLED = "cancelled"
    ENDED = "ended"
    NO_BOOKING = "no_booking"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    FULL = "full"
    OPEN = "open"
    BOOKABLE = frozenset({OPEN, FULL})


class Activity(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已取消")

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="activities", verbose_name=_("主办馆")
    )
    # A mobile service (流动服务) is held by a higher hall at one of its points; it shows on the
    # point's page too. For everything else the venue hall is the organiser.
    venue_hall = models.ForeignKey(
        Hall,
        on_delete=models.PROTECT,
        related_name="hosted_activities",
        verbose_name=_("举办地点(馆)"),
    )
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("简介"), blank=True)
    picture = models.ImageField(_("图片"), upload_to="activities/%Y/%m/", blank=True)
    venue = models.CharField(_("场地"), max_length=120, blank=True, help_text=_("如 二楼多功能厅"))
    start = models.DateTimeField(_("开始时间"), db_index=True)
    end = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(
        _("座位数"), null=True, blank=True, help_text=_("留空表示无需预约")
    )
    seats_taken = models.PositiveIntegerField(_("已预约座位"), default=0, editable=False)
    booking_opens = models.DateTimeField(_("开始预约"), null=True, blank=True)
    booking_closes = models.DateTimeField(
        _("截止预约"), null=True, blank=True, help_text=_("留空则到活动开始时截止")
    )
    cancel_deadline = models.DateTimeField(
        _("取消截止"), null=True, blank=True, help_text=_("留空则到活动开始时截止")
    )
    max_seats_per_booking = models.PositiveSmallIntegerField(
        _("每次最多预约座位"), default=4, validators=[MinValueValidator(1)]
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    featured = models.BooleanField(_("推荐"), default=False)
    # A course (培训班) is an activity with sessions (``CourseSession``): residents book it once
    # for all of them; a booking completes when it was present at this share of the sessions
    # held (``activities.selectors.course_roll``).
    completion_share = models.PositiveSmallIntegerField(
        _("结业出勤比例(%)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("培训班:出勤达到已上课次的这一比例即为结业"),
    )
    # The most people one group (a school class, a team, a volunteer group) may book at once;
    # 0: groups are not taken.
    group_limit = models.PositiveSmallIntegerField(
        _("团体报名人数上限"), default=0, help_text=_("0 表示不接受团体报名")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = pgettext_lazy("复数", "活动")
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["status", "start"], name="activity_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True, seats_taken=0)
                | Q(seats_taken__lte=F("capacity")),
                name="activity_no_overbooking",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="activity_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def needs_booking(self) -> bool:
        return self.capacity is not None

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def closes_at(self):
        return self.booking_closes or self.start

    @property
    def cancellable_until(self):
        return self.cancel_deadline or self.start

    def booking_state(self, now: datetime) -> str:
        """What a resident can do with this activity at ``now``: the one rule of "can it be
        booked", asked by the booking service, the pages and the API alike. A full activity is
        still bookable: the party joins the waiting list."""
        if self.status == self.Status.CANCELLED:
            return BookingState.CANCELLED
        if self.status != self.Status.PUBLISHED:
            return BookingState.NOT_PUBLISHED
        if self.end <= now:
            return BookingState.ENDED
        if self.capacity is None:
            return BookingState.NO_BOOKING
        if self.booking_opens and now < self.booking_opens:
            return BookingState.NOT_OPEN
        if now >= self.closes_at:
            return BookingState.CLOSED
        if not self.seats_left:
            return BookingState.FULL
        return BookingState.OPEN

    def is_bookable(self, now: datetime) -> bool:
        return self.booking_state(now) in BookingState.BOOKABLE


class GroupKind(models.TextChoices):
    SCHOOL_CLASS = "class", _("学校班级")
    TEAM = "team", _("文艺团队")
    VOLUNTEERS = "volunteers", _("志愿者队伍")
    OTHER = "other", _("其他")


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已确认")
        WAITLISTED = "waitlisted", _("候补中")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("活动")
    )
    code = models.CharField(_("预约码"), max_length=12, unique=True)
    name = models.CharField(_("姓名"), max_length=40)
    phone = models.CharField(_("手机号码"), max_length=11, validators=[mobile_validator])
    seats = models.PositiveSmallIntegerField(_("座位数"), validators=[MinValueValidator(1)])
    # A group enrolment (团体报名): one booking of ``seats`` people, ``name`` its contact.
    group_kind = models.CharField(
        _("团体类型"), max_length=12, choices=GroupKind.choices, blank=True, default=""
    )
    group_name = models.CharField(_("团体名称"), max_length=60, blank=True, default="")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, db_index=True)
    created_at = models.DateTimeField(_("预约时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=120, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签到人"),
    )
    consent_version, consented_at = consent_fields()

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = pgettext_lazy("复数", "预约")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["activity", "status", "created_at"], name="booking_queue"),
            models.Index(fields=["phone", "status"], name="booking_phone"),
        ]
        constraints = [
            # One phone books an activity once (a cancelled booking frees the phone again).
            models.UniqueConstraint(
                fields=["activity", "phone"],
                condition=~Q(status="cancelled"),
                name="booking_one_per_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @staticmethod
    def checked_in_q(prefix: str = "") -> Q:
        """A party that came: confirmed and checked in. ``prefix`` reaches bookings from another
        model (``"bookings__"`` from an activity)."""
        return Q(**{f"{prefix}status": Booking.Status.CONFIRMED}) & Q(
            **{f"{prefix}checked_in_at__isnull": False}
        )


class CourseSession(models.Model):
    """One session (一次课) of a course. The course's start and end span its sessions, kept in
    step by ``activities.courses.course_sessions_set``."""

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("培训班")
    )
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("上课地点"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("课次")
        verbose_name_plural = pgettext_lazy("复数", "课次")
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["activity", "start"], name="session_activity_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.start:%Y-%m-%d %H:%M}"


class SessionAttendance(models.Model):
    """Whether a booking's party was present at one session (点名), as staff took it."""

    session = models.ForeignKey(
        CourseSession, on_delete=models.PROTECT, related_name="roll", verbose_name=_("课次")
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, related_name="session_roll", verbose_name=_("预约")
    )
    present = models.BooleanField(_("出勤"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("点名人"),
    )
    at = models.DateTimeField(_("点名时间"))

    class Meta:
        verbose_name = _("课次出勤")
        verbose_name_plural = pgettext_lazy("复数", "课次出勤")
        constraints = [
            models.UniqueConstraint(fields=["session", "booking"], name="session_roll_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.booking_id}: {self.present}"


class Attendance(models.Model):
    """How many people took part in an activity (参与人次), as staff recorded it: one row per
    activity, changed in place, every change kept in ``AttendanceChange``. Where no one recorded
    it, the activity's figure is its checked-in seats (``activities.selectors.with_participants``).
    """

    class Method(models.TextChoices):
        CHECKED_IN = "checked_in", _("签到统计")
        COUNTED = "counted", _("现场清点")
        ESTIMATED = "estimated", _("估算")

    activity = models.OneToOneField(
        Activity, on_delete=models.PROTECT, related_name="attendance", verbose_name=_("活动")
    )
    head_count = models.PositiveIntegerField(_("参与人次"))
    method = models.CharField(_("统计方式"), max_length=12, choices=Method.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("参与人次登记")
        verbose_name_plural = pgettext_lazy("复数", "参与人次登记")

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.head_count}"


class AttendanceChange(models.Model):
    """One recording or change of an activity's attendance: who, when, before and after. The
    first recording has no "before"."""

    attendance = models.ForeignKey(
        Attendance, on_delete=models.PROTECT, related_name="changes", verbose_name=_("参与人次")
    )
    old_head_count = models.PositiveIntegerField(_("原人次"), null=True, blank=True)
    old_method = models.CharField(
        _("原统计方式"), max_length=12, choices=Attendance.Method.choices, blank=True
    )
    new_head_count = models.PositiveIntegerField(_("新人次"))
    new_method = models.CharField(_("新统计方式"), max_length=12, choices=Attendance.Method.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changed_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("参与人次修改记录")
        verbose_name_plural = pgettext_lazy("复数", "参与人次修改记录")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.attendance_id}: {self.old_head_count} → {self.new_head_count}"


class Notice(models.Model):
    """A hall's public notice (公告): opening hours changes, new services."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="notices", verbose_name=_("发布馆")
    )
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    published_at = models.DateTimeField(_("发布时间"), db_index=True)
    pinned = models.BooleanField(_("置顶"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )

    class Meta:
        verbose_name = _("公告")
        verbose_name_plural = pgettext_lazy("复数", "公告")
        ordering = ["-pinned", "-published_at"]

    def __str__(self) -> str:
        return self.title
