"""Writes of venue booking: venues, teams, reservations and recurring series.

No double booking, ever: on PostgreSQL the exclusion constraint ``reservation_no_overlap``
decides a race (the loser's INSERT fails and becomes ``RangeTaken``); on SQLite, which has no
such constraint, the writer locks the venue's row and checks for an overlap first, and SQLite's
single writer (``BEGIN IMMEDIATE``) serialises the rest. Either way the overlap is checked before
the write too, so the usual refusal says what collides without trying.

A resident's reservation is written by one service, ``reservation_create`` (the API, the page and
staff booking on someone's behalf all call it): the one place phone verification will join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from celery import shared_task
from dateutil import rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from activities.residents.services import message_send
from common import privacy
from common.codes import new_code, normalize_code
from common.ratelimit import Budget
from common.validators import mobile_validator
from common.workdays import is_public_holiday

from .models import Closure, OpeningHours, Reservation, ReservationSeries, Team, Venue

NAME_MAX = 40
PURPOSE_MAX = 120
# A page and its API endpoint charge one budget; the limits are the bookings' settings.
RESERVATION_BUDGET = Budget(
    "reservation", "BOOKING_RATE_LIMIT_IP", "BOOKING_RATE_LIMIT_PHONE", "BOOKING_RATE_WINDOW"
)
# Staff may check a party in from this long before its start.
CHECK_IN_EARLY = timedelta(minutes=30)


class RangeTaken(ValidationError):
    """The range overlaps a live reservation of the venue. A ValidationError, so forms and the
    admin show it like any other refusal; the API answers it with 409."""


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _day(day: date) -> str:
    return f"{day:%Y-%m-%d} {date_format(day, 'l')}"


# --- Venues and teams ---------------------------------------------------------------------------


@transaction.atomic
def venue_create(*, hall, hours: list[tuple[int, time, time]] = (), **fields) -> Venue:
    """A venue, with its weekly opening ranges as (weekday, opens, closes)."""
    venue = Venue(hall=hall, **fields)
    venue.full_clean()
    venue.save()
    for weekday, opens, closes in hours:
        venue_hours_add(venue=venue, weekday=weekday, opens=opens, closes=closes)
    return venue


@transaction.atomic
def venue_update(*, venue: Venue, **fields) -> Venue:
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    old_photo = venue.photo.name
    for name, value in fields.items():
        setattr(venue, name, value)
    venue.full_clean()
    venue.save()
    if "photo" in fields and old_photo and old_photo != venue.photo.name:
        # The replaced (or cleared) photo leaves the store once the change is committed.
        storage = venue.photo.storage
        transaction.on_commit(lambda: storage.delete(old_photo))
    return venue


def _save_hours(hours: OpeningHours) -> OpeningHours:
    if hours.closes <= hours.opens:
        raise ValidationError({"closes": _("结束时间必须晚于开始时间。")})
    hours.full_clean()
    overlapping = OpeningHours.objects.filter(
        venue=hours.venue_id, weekday=hours.weekday, opens__lt=hours.closes, closes__gt=hours.opens
    ).exclude(pk=hours.pk)
    if overlapping.exists():
        raise ValidationError({"opens": _("同一天的开放时间段不能重叠。")})
    hours.save()
    return hours


@transaction.atomic
def venue_hours_add(*, venue: Venue, weekday: int, opens: time, closes: time) -> OpeningHours:
    return _save_hours(OpeningHours(venue=venue, weekday=weekday, opens=opens, closes=closes))


@transaction.atomic
def venue_hours_update(*, hours: OpeningHours, **fields) -> OpeningHours:
    hours = OpeningHours.objects.select_for_update().get(pk=hours.pk)
    for name, value in fields.items():
        setattr(hours, name, value)
    return _save_hours(hours)


@transaction.atomic
def venue_hours_remove(*, hours: OpeningHours) -> None:
    """Opening hours are settings, not records: a range that no longer applies goes. Reservations
    already made in it stay."""
    OpeningHours.objects.filter(pk=hours.pk).delete()


def _save_closure(closure: Closure) -> Closure:
    if closure.last_day < closure.first_day:
        raise ValidationError({"last_day": _("截止日期不能早于起始日期。")})
    closure.full_clean()
    closure.save()
    return closure


@transaction.atomic
def venue_closure_add(*, venue: Venue, first_day: date, last_day: date, reason: str) -> Closure:
    """Close a venue for days. Live reservations in them stay, and ``closure_conflicts`` lists
    them for staff to cancel with a message: closing never cancels silently."""
    return _save_closure(
        Closure(venue=venue, first_day=first_day, last_day=last_day, reason=reason)
    )


@transaction.atomic
def venue_closure_update(*, closure: Closure, **fields) -> Closure:
    closure = Closure.objects.select_for_update().get(pk=closure.pk)
    for name, value in fields.items():
        setattr(closure, name, value)
    return _save_closure(closure)


@transaction.atomic
def venue_closure_remove(*, closure: Closure) -> None:
    Closure.objects.filter(pk=closure.pk).delete()


@transaction.atomic
def team_create(*, hall, **fields) -> Team:
    team = Team(hall=hall, **fields)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: Team, **fields) -> Team:
    team = Team.objects.select_for_update().get(pk=team.pk)
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save()
    return team


# --- The rules of one reservation ---------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What a reservation asks for, checked as a whole before anything is written."""

    name: str
    phone: str
    purpose: str
    party_size: int
    team: Team | None


def _clean_person(
    *, name: str, phone: str, purpose: str, party_size, team: Team | None, venue: Venue
) -> Request:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    phone = (phone or "").strip()
    purpose = (purpose or "").strip()
    if not name:
        errors["name"] = _("请填写姓名。")
    elif len(name) > NAME_MAX:
        errors["name"] = _("姓名最多 %(n)d 个字。") % {"n": NAME_MAX}
    try:
        mobile_validator(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if not purpose:
        errors["purpose"] = _("请填写用途,如 合唱排练。")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("用途最多 %(n)d 个字。") % {"n": PURPOSE_MAX}
    try:
        party_size = int(party_size)
        if party_size < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["party_size"] = _("人数必须是大于 0 的整数。")
    else:
        if party_size > venue.capacity:
            errors["party_size"] = _("该场馆最多容纳 %(n)d 人。") % {"n": venue.capacity}
    if venue.access == Venue.Access.TEAMS and team is None:
        errors["team"] = _("该场馆仅供登记的文艺团队预约,请选择团队。")
    if team is not None and not team.active:
        errors["team"] = _("该文艺团队已停止活动,不能预约。")
    if errors:
        raise ValidationError(errors)
    return Request(name=name, phone=phone, purpose=purpose, party_size=party_size, team=team)


def _range_problem(
    venue: Venue,
    start: datetime,
    end: datetime,
    *,
    hours: list[OpeningHours],
    closures: list[Closure],
) -> str | None:
    """Why the venue cannot be had for [start, end) apart from other reservations (closed,
    outside the opening hours, off the slot grid), or None. Reads nothing itself."""
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    day = local_start.date()
    if venue.status != Venue.Status.OPEN:
        return _("该场馆暂停预约。")
    if is_public_holiday(day):
        return _("法定节假日闭馆")
    for closure in closures:
        if closure.first_day <= day <= closure.last_day:
            return _("闭馆:%(reason)s") % {"reason": closure.reason}
    if local_end.date() != day:
        return _("预约不能跨天。")
    end_time = local_end.time()
    ranges = [h for h in hours if h.weekday == day.weekday()]
    inside = next(
        (h for h in ranges if h.opens <= local_start.time() and end_time <= h.closes), None
    )
    if inside is None:
        opening = "、".join(f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in ranges)
        if not opening:
            return _("当天不开放")
        return _("不在开放时间内(当天开放 %(hours)s)") % {"hours": opening}
    step = venue.step_minutes
    base = local_start.replace(
        hour=inside.opens.hour, minute=inside.opens.minute, second=0, microsecond=0
    )
    for moment in (local_start, local_end):
        minutes = (moment - base).total_seconds() / 60
        if minutes % step:
            if venue.slot_minutes:
                return _("须按 %(n)d 分钟一个时段,从 %(opens)s 起预约") % {
                    "n": step,
                    "opens": f"{inside.opens:%H:%M}",
                }
            return _("起止时间须为整点或半点")
    return None


def _check_timing(start: datetime, end: datetime, now: datetime, *, weeks: int) -> None:
    errors: dict[str, str] = {}
    if end <= start:
        errors["end"] = _("结束时间必须晚于开始时间。")
    if start <= now:
        errors["start"] = _("开始时间已经过去,请选择以后的时段。")
    elif start > now + timedelta(weeks=weeks):
        errors["start"] = _("最多只能预约 %(n)d 周以内的时段。") % {"n": weeks}
    if errors:
        raise ValidationError(errors)


def _live_overlapping(venue_id: int, start: datetime, end: datetime):
    return Reservation.objects.filter(
        venue_id=venue_id, status__in=Reservation.LIVE, start__lt=end, end__gt=start
    )


def _taken_message(start: datetime, end: datetime) -> str:
    return _("%(start)s–%(end)s 这个时段已被预约,请换一个时段。") % {
        "start": _when(start),
        "end": f"{timezone.localtime(end):%H:%M}",
    }


@dataclass(frozen=True)
class Ban:
    until: datetime
    no_shows: int


def _no_show_q(now: datetime) -> Q:
    """A no-show: marked so, or confirmed and ended without a check-in (before the periodic
    marking has run), within the window."""
    window = now - timedelta(days=settings.NO_SHOW_WINDOW_DAYS)
    ended = Q(end__lt=now, end__gte=window)
    return ended & (Q(status=Reservation.Status.NO_SHOW) | Q(status=Reservation.Status.CONFIRMED))


def no_show_ban(phone: str, *, now: datetime | None = None) -> Ban | None:
    """Activities' rule for venues: after ``NO_SHOW_LIMIT`` no-shows within
    ``NO_SHOW_WINDOW_DAYS`` a phone may not reserve for ``NO_SHOW_BAN_DAYS`` after the latest."""
    now = now or timezone.now()
    # An anonymised reservation keeps the phone's keyed hash: removing one's data lifts no ban.
    stats = Reservation.objects.filter(
        _no_show_q(now), phone__in=privacy.phone_forms(phone)
    ).aggregate(n=Count("pk"), latest=Max("end"))
    if stats["n"] < settings.NO_SHOW_LIMIT:
        return None
    until = stats["latest"] + timedelta(days=settings.NO_SHOW_BAN_DAYS)
    return Ban(until=until, no_shows=stats["n"]) if until > now else None


def _check_ban(phone: str, now: datetime) -> None:
    ban = no_show_ban(phone, now=now)
    if ban is not None:
        raise ValidationError(
            {
                "phone": _("这个手机号码近期有 %(n)d 次预约后未到场,%(until)s 之前不能预约场馆。")
                % {"n": ban.no_shows, "until": _when(ban.until)}
            }
        )


def _initial_status(venue: Venue, by) -> str:
    # Staff booking on someone's behalf have approved it by doing so.
    if venue.needs_approval and by is None:
        return Reservation.Status.PENDING
    return Reservation.Status.CONFIRMED


# PostgreSQL's SQLSTATE for a transaction ended to break a deadlock.
DEADLOCK_DETECTED = "40P01"


def _insert(reservations: list[Reservation]) -> None:
    """Save the rows with fresh codes; a drawn code that exists already is drawn again. An
    overlap the constraint refuses becomes RangeTaken (the caller's transaction rolls back).

    Two overlapping rows inserted at the same moment can each wait on the other in the
    constraint's check; PostgreSQL then ends one of them as a deadlock and the other goes on
    and keeps the range, so the one ended has lost the range as surely as to a refusal."""
    for _attempt in range(5):
        for r in reservations:
            r.code = new_code()
        try:
            with transaction.atomic():
                Reservation.objects.bulk_create(reservations)
            return
        except IntegrityError as exc:
            if "reservation_no_overlap" in str(exc):
                raise RangeTaken({"start": _("这个时段刚刚被别人预约了,请换一个时段。")}) from exc
            if "code" in str(exc):
                continue
            raise
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) == DEADLOCK_DETECTED:
                raise RangeTaken({"start": _("这个时段刚刚被别人预约了,请换一个时段。")}) from exc
            raise
    raise RuntimeError("could not draw a unique reservation code")


def _lock_venue(venue_id: int, known: Venue | None = None) -> Venue:
    """The venue, locked on SQLite so its reservations are written one at a time (there is no
    exclusion constraint there); on PostgreSQL the constraint decides and nothing waits, so the
    caller's copy (``known``, as ``selectors.venue_public`` read it) serves when it has one."""
    if connection.vendor == "postgresql" and known is not None and known.pk == venue_id:
        return known
    qs = Venue.objects.select_related("hall")
    if connection.vendor != "postgresql":
        qs = qs.select_for_update()
    venue = qs.filter(pk=venue_id).first()
    if venue is None:
        raise ValidationError({"venue": _("没有这个场馆。")})
    return venue


def _closures(venue: Venue, first_day: date) -> list[Closure]:
    # ``venue_public`` has read the closures still to come; otherwise read those from the day.
    coming = getattr(venue, "coming_closures", None)
    if coming is not None:
        return coming
    return list(venue.closures.filter(last_day__gte=first_day))


# --- Messages to the resident (activities.residents) -------------------------------------------

# What the resident has just done is confirmed at once; what staff decide waits out the quiet
# hours (activities.residents.services.message_send).
_OWN_ACTIONS = frozenset({"reservation_confirmed", "reservation_pending", "reservation_cancelled"})


# What may end a reason typed as a sentence; the template adds its own full stop.
_SENTENCE_END = re.compile(r"[。.!!??;;\s]+$")


def _phrase(value) -> str:
    return _SENTENCE_END.sub("", str(value)[:30])


def _tell(reservation: Reservation, template: str, now: datetime | None = None, **extra) -> None:
    start, end = timezone.localtime(reservation.start), timezone.localtime(reservation.end)
    message_send(
        phone=reservation.phone,
        template=template,
        params={
            "venue": reservation.venue.name[:30],
            "start": start.strftime("%m-%d %H:%M"),
            "end": end.strftime("%H:%M"),
            "code": reservation.code,
            **{name: _phrase(value) for name, value in extra.items()},
        },
        urgent=template in _OWN_ACTIONS,
        now=now,
    )


def reservation_create(
    *,
    venue_id: int,
    start: datetime,
    end: datetime,
    name: str,
    phone: str,
    purpose: str,
    party_size: int,
    team: Team | None = None,
    by=None,
    now: datetime | None = None,
    venue: Venue | None = None,
    consent_version: str = "",
) -> Reservation:
    """Reserve [start, end) of a venue: confirmed, or pending when the venue needs approval.
    ``by`` is the staff member booking on someone's behalf (None for a resident); ``venue`` the
    caller's copy when it has just read it (a view has), which saves reading it again. Raises
    ValidationError naming the field, or RangeTaken when a live reservation overlaps."""
    now = now or timezone.now()
    with transaction.atomic():
        venue = _lock_venue(venue_id, venue)
        person = _clean_person(
            name=name,
            phone=phone,
            purpose=purpose,
            party_size=party_size,
            team=team,
            venue=venue,
        )
        _check_timing(start, end, now, weeks=settings.VENUE_BOOKING_WEEKS_AHEAD)
        problem = _range_problem(
            venue,
            start,
            end,
            hours=list(venue.hours.all()),
            closures=_closures(venue, timezone.localdate(start)),
        )
        if problem:
            raise ValidationError({"start": problem})
        if by is None:
            _check_ban(person.phone, now)
        if _live_overlapping(venue.pk, start, end).exists():
            raise RangeTaken({"start": _taken_message(start, end)})
        reservation = Reservation(
            venue=venue,
            start=start,
            end=end,
            status=_initial_status(venue, by),
            created_by=by,
            consent_version=consent_version,
            consented_at=now if consent_version else None,
            **person.__dict__,
        )
        _insert([reservation])
        if by is None:
            confirmed = reservation.status == Reservation.Status.CONFIRMED
            template = "reservation_confirmed" if confirmed else "reservation_pending"
            _tell(reservation, template, now=now)
    return reservation


# --- Residents' personal information -----------------------------------------------------------


@transaction.atomic
def reservation_anonymise_ended(
    *, before: datetime, phone: str | None = None, dry_run: bool = False
) -> int:
    """Anonymise reservations that ended before ``before``, and recurring series whose last day
    has passed (of one ``phone`` when given): the name goes, the phone becomes its keyed hash,
    the rows stay for the venue's figures and the no-show rule. Idempotent."""
    rows = Reservation.objects.filter(end__lt=before)
    series = ReservationSeries.objects.filter(last_day__lt=timezone.localdate(before))
    if phone is not None:
        rows, series = rows.filter(phone=phone), series.filter(phone=phone)
    if dry_run:
        return privacy.count_unanonymised(rows) + privacy.count_unanonymised(series)
    anonymous = {"name": privacy.ANONYMOUS_NAME}
    return privacy.anonymise_rows(rows, extra=anonymous) + privacy.anonymise_rows(
        series, extra=anonymous
    )


# --- Recurring reservations ---------------------------------------------------------------------


def series_dates(*, weekday: int, first_day: date, last_day: date) -> list[date]:
    """Every ``weekday`` from ``first_day`` to ``last_day``, both included."""
    rule = rrule.rrule(
        rrule.WEEKLY,
        byweekday=weekday,
        dtstart=datetime.combine(first_day, time()),
        until=datetime.combine(last_day, time()),
    )
    return [moment.date() for moment in rule]


def _aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


@transaction.atomic
def series_create(
    *,
    venue_id: int,
    weekday: int,
    starts_at: time,
    ends_at: time,
    first_day: date,
    last_day: date,
    name: str,
    phone: str,
    purpose: str,
    party_size: int,
    team: Team | None = None,
    by=None,
    now: datetime | None = None,
) -> ReservationSeries:
    """Every week on ``weekday`` from ``starts_at`` to ``ends_at``, over the date span, checked
    as a whole: if any date collides (taken, closed, a holiday, outside the hours) nothing is
    saved and the error lists each such date and why; otherwise all are saved as one series."""
    now = now or timezone.now()
    venue = _lock_venue(venue_id)
    person = _clean_person(
        name=name, phone=phone, purpose=purpose, party_size=party_size, team=team, venue=venue
    )
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = _("结束时间必须晚于开始时间。")
    if last_day < first_day:
        errors["last_day"] = _("截止日期不能早于起始日期。")
    elif last_day > first_day + timedelta(weeks=settings.VENUE_SERIES_WEEKS):
        errors["last_day"] = _("周期预约最长 %(n)d 周。") % {"n": settings.VENUE_SERIES_WEEKS}
    if errors:
        raise ValidationError(errors)
    days = series_dates(weekday=weekday, first_day=first_day, last_day=last_day)
    if not days:
        raise ValidationError({"weekday": _("这段日期里没有所选的星期几。")})
    ranges = [(_aware(day, starts_at), _aware(day, ends_at)) for day in days]
    hours = list(venue.hours.all())
    closures = list(venue.closures.filter(last_day__gte=first_day, first_day__lte=last_day))
    taken = list(_live_overlapping(venue.pk, ranges[0][0], ranges[-1][1]).only("start", "end"))
    collisions = []
    for day, (start, end) in zip(days, ranges, strict=True):
        if start <= now:
            reason = _("已经过去")
        elif any(r.start < end and r.end > start for r in taken):
            reason = _("已被预约")
        else:
            reason = _range_problem(venue, start, end, hours=hours, closures=closures)
        if reason:
            collisions.append(f"{_day(day)}:{reason}")
    if collisions:
        error = RangeTaken if all(_("已被预约") in c for c in collisions) else ValidationError
        raise error(
            {
                "dates": [
                    _("以下 %(n)d 个日期无法预约,整个周期预约未保存:") % {"n": len(collisions)},
                    *collisions,
                ]
            }
        )
    series = ReservationSeries.objects.create(
        venue=venue,
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
        first_day=first_day,
        last_day=last_day,
        created_by=by,
        **person.__dict__,
    )
    status = _initial_status(venue, by)
    _insert(
        [
            Reservation(
                venue=venue,
                start=start,
                end=end,
                status=status,
                series=series,
                created_by=by,
                **person.__dict__,
            )
            for start, end in ranges
        ]
    )
    return series


@transaction.atomic
def series_cancel(*, series: ReservationSeries, by, reason: str, now=None) -> int:
    """Cancel what is still ahead of a series; what has happened stays as it was."""
    now = now or timezone.now()
    reason = _require_reason(reason)
    return Reservation.objects.filter(
        series=series, status__in=Reservation.CANCELLABLE, start__gt=now
    ).update(
        status=Reservation.Status.CANCELLED, cancelled_at=now, cancelled_by=by, cancel_reason=reason
    )


# --- Steps on one reservation -------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写原因,预约人会看到它。")})
    return reason[:200]


def _locked(reservation_id: int) -> Reservation:
    return Reservation.objects.select_for_update().get(pk=reservation_id)


def _refuse(reservation: Reservation, what: str) -> ValidationError:
    return ValidationError(
        _("预约 %(code)s 状态为“%(status)s”,不能%(what)s。")
        % {"code": reservation.code, "status": reservation.get_status_display(), "what": what}
    )


@transaction.atomic
def reservation_approve(*, reservation: Reservation, by, note: str = "", now=None) -> Reservation:
    reservation = _locked(reservation.pk)
    if reservation.status != Reservation.Status.PENDING:
        raise _refuse(reservation, _("批准"))
    reservation.status = Reservation.Status.CONFIRMED
    reservation.decided_at = now or timezone.now()
    reservation.decided_by = by
    reservation.decision_note = (note or "").strip()[:200]
    reservation.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    _tell(reservation, "reservation_approved", now=reservation.decided_at)
    return reservation


@transaction.atomic
def reservation_reject(*, reservation: Reservation, by, reason: str, now=None) -> Reservation:
    reason = _require_reason(reason)
    reservation = _locked(reservation.pk)
    if reservation.status != Reservation.Status.PENDING:
        raise _refuse(reservation, _("驳回"))
    reservation.status = Reservation.Status.REJECTED
    reservation.decided_at = now or timezone.now()
    reservation.decided_by = by
    reservation.decision_note = reason
    reservation.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    _tell(reservation, "reservation_rejected", now=reservation.decided_at, reason=reason)
    return reservation


def reservation_lookup(*, code: str, phone: str) -> Reservation | None:
    """A reservation by code and the phone it was made with; both must match."""
    return (
        Reservation.objects.select_related("venue", "venue__hall", "team")
        .filter(code=normalize_code(code), phone=(phone or "").strip())
        .first()
    )


@transaction.atomic
def reservation_cancel(
    *, code: str, phone: str, reason: str = "", now: datetime | None = None
) -> Reservation:
    """The resident cancels with the code and the phone, until the start."""
    now = now or timezone.now()
    reservation = (
        Reservation.objects.select_for_update()
        .filter(code=normalize_code(code), phone=(phone or "").strip())
        .first()
    )
    if reservation is None:
        raise ValidationError({"code": _("预约码与手机号码不匹配,请核对后再试。")})
    if reservation.status == Reservation.Status.CANCELLED:
        raise ValidationError({"code": _("这个预约已经取消过了。")})
    if reservation.status not in Reservation.CANCELLABLE:
        raise ValidationError({"code": _refuse(reservation, _("取消")).messages[0]})
    if reservation.start <= now:
        raise ValidationError({"code": _("预约时段已经开始,不能再取消。")})
    reservation.status = Reservation.Status.CANCELLED
    reservation.cancelled_at = now
    reservation.cancel_reason = (reason or "").strip()[:200] or _("本人取消")
    reservation.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    _tell(reservation, "reservation_cancelled", now=now)
    return reservation


@transaction.atomic
def reservation_cancel_by_staff(
    *, reservation: Reservation, by, reason: str, now: datetime | None = None
) -> Reservation:
    """Staff cancel a pending or confirmed reservation (a closure, a hall event) with a reason
    the resident sees when looking the reservation up."""
    reason = _require_reason(reason)
    reservation = _locked(reservation.pk)
    if reservation.status not in Reservation.CANCELLABLE:
        raise _refuse(reservation, _("取消"))
    reservation.status = Reservation.Status.CANCELLED
    reservation.cancelled_at = now or timezone.now()
    reservation.cancelled_by = by
    reservation.cancel_reason = reason
    reservation.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    _tell(
        reservation, "reservation_cancelled_by_staff", now=reservation.cancelled_at, reason=reason
    )
    return reservation


@transaction.atomic
def reservation_check_in(
    *, reservation: Reservation, by, now: datetime | None = None
) -> Reservation:
    """Staff mark the party arrived: a confirmed reservation, from half an hour before its start
    until its end."""
    now = now or timezone.now()
    reservation = _locked(reservation.pk)
    if reservation.status != Reservation.Status.CONFIRMED:
        raise _refuse(reservation, _("签到"))
    if now < reservation.start - CHECK_IN_EARLY:
        raise ValidationError(
            _("预约 %(code)s 要到 %(when)s 才能签到。")
            % {"code": reservation.code, "when": _when(reservation.start - CHECK_IN_EARLY)}
        )
    if now >= reservation.end:
        raise ValidationError(
            _("预约 %(code)s 的时段已经结束,不能再签到。") % {"code": reservation.code}
        )
    reservation.status = Reservation.Status.CHECKED_IN
    reservation.checked_in_at = now
    reservation.checked_in_by = by
    reservation.save(update_fields=["status", "checked_in_at", "checked_in_by"])
    return reservation


@transaction.atomic
def reservations_mark_no_shows(*, now: datetime | None = None) -> int:
    """Confirmed reservations that ended without a check-in become no-shows; the ban counts
    them (``no_show_ban``)."""
    now = now or timezone.now()
    return Reservation.objects.filter(status=Reservation.Status.CONFIRMED, end__lte=now).update(
        status=Reservation.Status.NO_SHOW
    )


@shared_task(acks_late=True)
def mark_no_shows() -> int:
    """Run by beat every hour."""
    return reservations_mark_no_shows()
