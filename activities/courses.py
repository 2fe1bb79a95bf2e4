"""Writes for courses (培训班): an activity with sessions (``CourseSession``).

Residents enrol in a course by booking the activity once (``activities.services.booking_create``:
the same seats, waiting list and one-phone rule); this module sets the sessions, keeping the
activity's start and end over them, lays out weekly sessions by a recurrence rule, and takes
the roll of one session (``SessionAttendance``), which the figures count through
``activities.selectors.participants_of`` and ``with_completion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from dateutil.rrule import WEEKLY, rrule
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from common.workdays import is_public_holiday
from network.selectors import user_scope

from .models import Activity, Booking, CourseSession, SessionAttendance

# A term of weekly classes is a few months; a year of them is the most a hall would lay out.
MAX_SESSIONS = 60


def _sync_span(activity: Activity) -> None:
    """The course starts with its first session and ends with its last."""
    span = CourseSession.objects.filter(activity=activity).aggregate(
        first=Min("start"), last=Max("end")
    )
    if span["first"] is None:
        return
    Activity.objects.filter(pk=activity.pk).update(start=span["first"], end=span["last"])
    activity.start, activity.end = span["first"], span["last"]


def _check_session(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError({"end": _("课次的结束时间必须晚于开始时间。")})


@transaction.atomic
def course_sessions_save(
    *,
    activity: Activity,
    saved: list[CourseSession],
    deleted: list[CourseSession] = (),
) -> list[CourseSession]:
    """Save the sessions staff changed and delete the ones they removed (a session whose roll
    was taken stays: the figures count it), then keep the activity's span over them."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("已取消的活动不能再修改。"))
    kept = [s for s in deleted if s.pk and SessionAttendance.objects.filter(session=s).exists()]
    if kept:
        raise ValidationError(
            _("%(when)s 的课次已点名,不能删除。")
            % {"when": date_format(timezone.localtime(kept[0].start), "Y-m-d H:i")}
        )
    for session in deleted:
        if session.pk:
            session.delete()
    for session in saved:
        _check_session(session.start, session.end)
        session.activity = activity
        session.save()
    _sync_span(activity)
    return saved


@dataclass
class Repeat:
    """What ``course_sessions_repeat`` laid out: the sessions made and the dates skipped."""

    created: list[CourseSession] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)


def repeat_dates(
    *,
    first_day: date,
    weekday: int,
    weeks: int | None = None,
    until: date | None = None,
    skip_holidays: bool = True,
) -> tuple[list[date], list[date]]:
    """The dates of a weekly course on ``weekday`` (0 = Monday) from ``first_day``, for
    ``weeks`` weeks or until ``until``, and the public holidays left out (when skipped)."""
    if not weeks and not until:
        raise ValidationError({"weeks": _("请填写周数或截止日期。")})
    rule = rrule(
        WEEKLY,
        dtstart=datetime.combine(first_day, time()),
        byweekday=weekday,
        count=weeks or None,
        until=None if weeks else datetime.combine(until, time()),
    )
    days = [moment.date() for moment in rule]
    if len(days) > MAX_SESSIONS:
        raise ValidationError(_("一次最多生成 %(n)d 次课。") % {"n": MAX_SESSIONS})
    if not skip_holidays:
        return days, []
    return [d for d in days if not is_public_holiday(d)], [d for d in days if is_public_holiday(d)]


@transaction.atomic
def course_sessions_repeat(
    *,
    activity: Activity,
    first_day: date,
    weekday: int,
    starts: time,
    ends: time,
    weeks: int | None = None,
    until: date | None = None,
    skip_holidays: bool = True,
    place: str = "",
) -> Repeat:
    """Weekly sessions (重复): one on ``weekday`` each week from ``first_day``, for ``weeks``
    weeks or until ``until``; a public holiday of ``common.workdays`` is skipped when the hall
    asks, and the skipped dates come back to be shown."""
    if ends <= starts:
        raise ValidationError({"ends": _("下课时间必须晚于上课时间。")})
    days, skipped = repeat_dates(
        first_day=first_day, weekday=weekday, weeks=weeks, until=until, skip_holidays=skip_holidays
    )
    if not days:
        raise ValidationError(_("这段时间内没有可以上课的日期。"))
    sessions = [
        CourseSession(
            activity=activity,
            start=timezone.make_aware(datetime.combine(day, starts)),
            end=timezone.make_aware(datetime.combine(day, ends)),
            place=place,
        )
        for day in days
    ]
    course_sessions_save(activity=activity, saved=sessions)
    return Repeat(created=sessions, skipped=skipped)


def session_roll_check(*, session: CourseSession, by, now: datetime | None = None) -> None:
    """Whether ``by`` may take this session's roll now; writes nothing."""
    now = now or timezone.now()
    activity = session.activity
    scope = user_scope(by)
    if scope.read_only or not scope.covers(activity.hall):
        raise PermissionDenied(_("只能为本馆及下属馆的培训班点名。"))
    if activity.status != Activity.Status.PUBLISHED:
        raise ValidationError(_("活动未发布或已取消,不能点名。"))
    if session.start > now:
        raise ValidationError(
            _("这次课将于 %(when)s 开始,开始后才能点名。")
            % {"when": date_format(timezone.localtime(session.start), "Y-m-d H:i")}
        )


@transaction.atomic
def session_roll_record(
    *, session: CourseSession, present: set[int], by, now: datetime | None = None
) -> int:
    """Take one session's roll: each confirmed booking of the course is present (its id in
    ``present``) or absent; taking it again changes it in place. Returns the people present."""
    now = now or timezone.now()
    session = (
        CourseSession.objects.select_for_update(of=("self",))
        .select_related("activity", "activity__hall")
        .get(pk=session.pk)
    )
    session_roll_check(session=session, by=by, now=now)
    bookings = list(
        Booking.objects.filter(
            activity_id=session.activity_id, status=Booking.Status.CONFIRMED
        ).only("pk", "seats")
    )
    unknown = set(present) - {b.pk for b in bookings}
    if unknown:
        raise ValidationError(_("名单已变化,请刷新后重新点名。"))
    existing = {r.booking_id: r for r in SessionAttendance.objects.filter(session=session)}
    for booking in bookings:
        here = booking.pk in present
        row = existing.get(booking.pk)
        if row is None:
            SessionAttendance.objects.create(
                session=session, booking=booking, present=here, recorded_by=by, at=now
            )
        elif row.present != here:
            row.present, row.recorded_by, row.at = here, by, now
            row.save(update_fields=["present", "recorded_by", "at"])
    return sum(b.seats for b in bookings if b.pk in present)
