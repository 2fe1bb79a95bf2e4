"""Writes for activities and bookings.

Seats are taken by one conditional UPDATE, so the database decides who got the last seat: two
bookings racing for it never both win, whatever the number of web processes. A party gets all its
seats or joins the waiting list whole. Freed seats go to the waiting list, oldest first, in the
same transaction that freed them, so a newcomer never jumps the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from activities.residents import selectors as residents
from activities.residents.services import (
    message_db_values,
    message_queued,
    message_row,
    message_send,
)
from common import prepared, privacy
from common.codes import new_code, normalize_code
from common.ratelimit import Budget
from common.validators import mobile_validator
from network.models import Hall
from network.selectors import hall_subtree, user_scope

from . import booking_sql, selectors
from .models import (
    Activity,
    Attendance,
    AttendanceChange,
    Booking,
    BookingState,
    GroupKind,
    Notice,
)

# One budget for booking whichever way it arrives (page or API), so a client cannot double it.
BOOKING_BUDGET = Budget(
    "booking", "BOOKING_RATE_LIMIT_IP", "BOOKING_RATE_LIMIT_PHONE", "BOOKING_RATE_WINDOW"
)
NAME_MAX = 40
GROUP_NAME_MAX = 60


# --- Activities ---------------------------------------------------------------------------------


def _check_venue(hall: Hall, venue_hall: Hall, category: str) -> None:
    """An activity is held at its organiser or at a hall below it: a county's mobile stage at a
    village, a branch's ordered training in the village that asked for it."""
    if venue_hall.pk == hall.pk:
        return
    # Tree numbers on the callers' copies may be stale: ask the database.
    below = hall_subtree(hall.pk).filter(pk=venue_hall.pk).exists()
    if not below:
        raise ValidationError({"venue_hall": _("举办地点必须是主办馆本身或其下属的馆。")})


@transaction.atomic
def activity_create(
    *, hall: Hall, created_by=None, venue_hall: Hall | None = None, **fields
) -> Activity:
    venue_hall = venue_hall or hall
    _check_venue(hall, venue_hall, fields.get("category", ""))
    activity = Activity(hall=hall, venue_hall=venue_hall, created_by=created_by, **fields)
    _validate_activity(activity)
    activity.save()
    return activity


def _validate_activity(activity: Activity) -> None:
    # The database constraints stay as the last guard; here each rule gets a message of its own.
    activity.full_clean(validate_constraints=False)
    errors = {}
    if activity.end <= activity.start:
        errors["end"] = _("结束时间必须晚于开始时间。")
    if activity.booking_closes and activity.booking_closes > activity.start:
        errors["booking_closes"] = _("预约最迟在活动开始时截止。")
    if (
        activity.booking_opens
        and activity.booking_closes
        and activity.booking_opens >= activity.booking_closes
    ):
        errors["booking_opens"] = _("开始预约时间必须早于截止预约时间。")
    if activity.capacity is not None and activity.capacity < activity.seats_taken:
        errors["capacity"] = _("已有 %(n)d 个座位被预约,座位数不能少于此数。") % {
            "n": activity.seats_taken
        }
    if activity.capacity is not None and activity.max_seats_per_booking > activity.capacity:
        errors["max_seats_per_booking"] = _("每次最多预约座位不能超过座位数。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def activity_update(*, activity: Activity, **fields) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("已取消的活动不能再修改。"))
    old_picture = activity.picture.name
    before = {name: getattr(activity, name) for name in CHANGES_TOLD}
    for name, value in fields.items():
        setattr(activity, name, value)
    _check_venue(activity.hall, activity.venue_hall, activity.category)
    _validate_activity(activity)
    activity.save()
    if "picture" in fields and old_picture and old_picture != activity.picture.name:
        # The replaced (or cleared) picture leaves the store once the change is committed.
        storage = activity.picture.storage
        transaction.on_commit(lambda: storage.delete(old_picture))
    if "capacity" in fields:
        _promote_waitlist(activity.pk)
    if activity.status == Activity.Status.PUBLISHED and any(
        getattr(activity, name) != was for name, was in before.items()
    ):
        for booking in activity.bookings.exclude(status=Booking.Status.CANCELLED):
            _tell(booking, activity, "activity_changed")
    return activity


@transaction.atomic
def notice_create(*, hall: Hall, created_by=None, **fields) -> Notice:
    notice = Notice(hall=hall, created_by=created_by, **fields)
    notice.full_clean()
    notice.save()
    return notice


@transaction.atomic
def notice_update(*, notice: Notice, **fields) -> Notice:
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    for name, value in fields.items():
        setattr(notice, name, value)
    notice.full_clean()
    notice.save(update_fields=list(fields))
    return notice


@transaction.atomic
def activity_publish(*, activity: Activity) -> Activity:
    updated = Activity.objects.filter(pk=activity.pk, status=Activity.Status.DRAFT).update(
        status=Activity.Status.PUBLISHED, updated_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("只有草稿状态的活动可以发布。"))
    activity.refresh_from_db()
    return activity


@transaction.atomic
def activity_cancel(*, activity: Activity, reason: str = "") -> Activity:
    """Cancel an activity and every live booking of it. The bookings stay on record."""
    now = timezone.now()
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == Activity.Status.CANCELLED:
        return activity
    activity.status = Activity.Status.CANCELLED
    activity.cancelled_at = now
    activity.seats_taken = 0
    activity.save(update_fields=["status", "cancelled_at", "seats_taken", "updated_at"])
    live = list(activity.bookings.exclude(status=Booking.Status.CANCELLED))
    activity.bookings.filter(pk__in=[b.pk for b in live]).update(
        status=Booking.Status.CANCELLED,
        cancelled_at=now,
        cancel_reason=(reason or _("活动已取消"))[:120],
    )
    if activity.start > now:
        for booking in live:
            _tell(booking, activity, "activity_cancelled")
    return activity


# --- Messages to the residents who booked ------------------------------------------------------

# The booking as saved, in the order of its statement's RETURNING.
_BOOKING_NAMES = [f.attname for f in Booking._meta.concrete_fields]
# What stands for a waiting party's place in its message while the message is made: a character
# of Unicode's private use area, which no title keeps (_told).
_PLACE = "\ue000"
# A change to any of these is told to everyone booked (by SMS, outside the quiet hours).
CHANGES_TOLD = ("start", "end", "venue", "venue_hall_id")
# What the resident has just done is confirmed at once; the rest waits out the quiet hours.
URGENT = frozenset({"booking_confirmed", "booking_waitlisted", "booking_cancelled"})
# The templates that name the place (it costs reading the venue's hall).
WITH_VENUE = frozenset({"booking_reminder", "activity_changed"})


def _told(activity: Activity, seats: int) -> dict:
    """What every message about a booking says of it."""
    return {
        # _PLACE marks a waiting party's place while its message is made (_booking_insert).
        "activity": activity.title[:30].replace(_PLACE, ""),
        "start": timezone.localtime(activity.start).strftime("%m-%d %H:%M"),
        "seats": seats,
    }


def _tell(booking: Booking, activity: Activity, template: str, key: str = "", **extra) -> None:
    if template in WITH_VENUE:
        extra.setdefault("venue", (activity.venue or activity.venue_hall.name)[:30])
    message_send(
        phone=booking.phone,
        template=template,
        params={**_told(activity, booking.seats), "code": booking.code, **extra},
        urgent=template in URGENT,
        key=key,
    )


def booking_reminders_send(*, now: datetime | None = None) -> int:
    """Remind every confirmed party of tomorrow's activities (local dates), once per booking:
    the message's key says it was sent, so the hourly run sends only what is new."""
    now = now or timezone.now()
    tomorrow = timezone.localtime(now).date() + timedelta(days=1)
    bookings = list(
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            activity__status=Activity.Status.PUBLISHED,
            activity__start__date=tomorrow,
        ).select_related("activity", "activity__venue_hall")
    )
    keys = {b.pk: f"reminder:booking:{b.pk}" for b in bookings}
    sent = residents.keys_used(keys.values())
    count = 0
    for booking in bookings:
        if keys[booking.pk] in sent:
            continue
        _tell(booking, booking.activity, "booking_reminder", key=keys[booking.pk])
        count += 1
    return count


@shared_task
def send_booking_reminders() -> int:
    return booking_reminders_send()


# --- Bookings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ban:
    until: datetime
    no_shows: int


def _no_shows(now: datetime) -> Q:
    """A no-show is a confirmed booking of an activity that has ended, within the window, without
    the party checking in."""
    return Q(
        status=Booking.Status.CONFIRMED,
        checked_in_at__isnull=True,
        activity__end__lt=now,
        activity__end__gte=now - timedelta(days=settings.NO_SHOW_WINDOW_DAYS),
        activity__status=Activity.Status.PUBLISHED,
    )


def _ban(no_shows: int, latest: datetime | None, now: datetime) -> Ban | None:
    if no_shows < settings.NO_SHOW_LIMIT:
        return None
    until = latest + timedelta(days=settings.NO_SHOW_BAN_DAYS)
    return Ban(until=until, no_shows=no_shows) if until > now else None


def no_show_ban(phone: str, *, now: datetime | None = None) -> Ban | None:
    """After ``NO_SHOW_LIMIT`` no-shows within ``NO_SHOW_WINDOW_DAYS`` a phone may not book for
    ``NO_SHOW_BAN_DAYS`` after the latest one."""
    now = now or timezone.now()
    # An anonymised booking keeps the phone's keyed hash: removing one's data lifts no ban.
    stats = Booking.objects.filter(_no_shows(now), phone__in=privacy.phone_forms(phone)).aggregate(
        latest=Max("activity__end"), n=Count("pk")
    )
    ban = _ban(stats["n"], stats["latest"], now)
    # Only a phone that proved itself is banned: an unverified number may be anyone's.
    if ban is not None and not residents.is_verified(phone):
        return None
    return ban


def _validate_booking_input(name: str, phone: str, seats) -> tuple[str, str, int]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    phone = (phone or "").strip()
    if not name:
        errors["name"] = _("请填写姓名。")
    elif len(name) > NAME_MAX:
        errors["name"] = _("姓名最多 %(n)d 个字。") % {"n": NAME_MAX}
    try:
        mobile_validator(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    try:
        seats = int(seats)
        if seats < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["seats"] = _("座位数必须是大于 0 的整数。")
    if errors:
        raise ValidationError(errors)
    return name, phone, seats


def booking_create(
    *,
    activity_id: int,
    name: str,
    phone: str,
    seats: int,
    now: datetime | None = None,
    activity: Activity | None = None,
    group_kind: str = "",
    group_name: str = "",
    consent_version: str = "",
) -> Booking:
    """Book ``seats`` for a party; confirmed if they all fit, else the party waits whole.
    ``consent_version`` is the privacy notice the resident agreed to (kept with the booking).

    A group enrolment (``group_kind`` set: a school class, a team, a volunteer group) is the
    same booking: ``name`` is its contact, ``seats`` its people, up to the activity's
    ``group_limit`` instead of ``max_seats_per_booking``.

    ``activity`` is the caller's copy when it has just read it (a view has), which saves reading
    it again. Its seat count is never trusted: the conditional UPDATE decides. The booking comes
    back with ``position``, its place in the waiting list (None when confirmed).
    """
    name, phone, seats = _validate_booking_input(name, phone, seats)
    group = _validate_group(group_kind, group_name)
    now = now or timezone.now()
    if activity is None or activity.pk != activity_id:
        activity = Activity.objects.filter(pk=activity_id).first()
        if activity is None:
            raise ValidationError({"activity": _("活动不存在。")})
    _check_bookable(activity, seats, now, group=bool(group["group_kind"]))
    fields = {
        "activity_id": activity_id,
        "name": name,
        "phone": phone,
        "seats": seats,
        "created_at": timezone.now(),
        "consent_version": consent_version,
        "consented_at": now if consent_version else None,
        **group,
    }
    if connection.vendor != "postgresql":
        _check_phone(phone, *booking_sql.phone_record(phone, activity_id, now), now)
        booking = _booking_save(fields, now)
        if booking.status == Booking.Status.CONFIRMED:
            _tell(booking, activity, "booking_confirmed")
        else:
            _tell(booking, activity, "booking_waitlisted", position=booking.position or "")
        return booking
    # PostgreSQL checks the phone's record, takes the seats, saves the booking and its message
    # in one statement (booking_sql.BOOKING_INSERT), which the phone's record stops where it must.
    booking, record = _booking_insert(fields, activity, now, no_shows_checked=False)
    if booking is None:
        _check_phone(phone, *record, now)
        # No-shows enough for a ban, but no ban (an unverified phone, or one that has run out).
        booking, record = _booking_insert(fields, activity, now, no_shows_checked=True)
    if booking is None:  # booked meanwhile by another request of the same phone
        raise ValidationError({"phone": _("这个手机号码已经预约过本活动。")})
    return booking


def _check_phone(phone: str, booked: int, no_shows: int, now: datetime) -> None:
    """Refuses a phone banned for its no-shows, or one that has booked the activity already."""
    ban = no_show_ban(phone, now=now) if no_shows >= settings.NO_SHOW_LIMIT else None
    if ban is not None:
        raise ValidationError(
            {
                "phone": _("这个手机号码一年内有 %(n)d 次预约后未到场,%(until)s 之前不能预约。")
                % {
                    "n": ban.no_shows,
                    "until": date_format(timezone.localtime(ban.until), "Y-m-d H:i"),
                }
            }
        )
    if booked:
        raise ValidationError({"phone": _("这个手机号码已经预约过本活动。")})


def _code_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` says that a drawn booking code exists already: draw again. A second
    booking of one phone that raced past the check of its record is refused as the check
    would have refused it (the constraint decided); anything else is raised."""
    if "code" in str(exc):
        return True
    if "booking_one_per_phone" in str(exc) or "phone" in str(exc):
        raise ValidationError({"phone": _("这个手机号码已经预约过本活动。")}) from exc
    raise exc


def _booking_save(fields: dict, now: datetime) -> Booking:
    """Take the seats if they all fit and save the booking, confirmed or waiting, as one unit
    (SQLite: PostgreSQL has ``_booking_insert``). Sets ``booking.position``, the place of a
    waiting party in the queue (else None)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                # The UPDATE locks the activity's row until COMMIT; bookings of the activity
                # queue behind it while seats are left, so only the INSERT runs while it is held.
                taken = Activity.objects.filter(
                    pk=fields["activity_id"],
                    status=Activity.Status.PUBLISHED,
                    seats_taken__lte=F("capacity") - fields["seats"],
                ).update(seats_taken=F("seats_taken") + fields["seats"])
                booking = Booking.objects.create(
                    **fields,
                    code=new_code(),
                    status=Booking.Status.CONFIRMED if taken else Booking.Status.WAITLISTED,
                    confirmed_at=now if taken else None,
                )
        except IntegrityError as exc:
            # A drawn code that exists already rolls the whole booking back: draw again.
            if _code_taken(exc):
                continue
        booking.position = None if taken else selectors.waitlist_position(booking)
        return booking
    raise RuntimeError("could not draw a unique booking code")


def _booking_insert(
    fields: dict, activity: Activity, now: datetime, no_shows_checked: bool
) -> tuple[Booking | None, tuple[int, int]]:
    """The booking, saved with its message, and the phone's record; no booking when the record
    stops it (``_check_phone`` says why)."""
    told = _told(activity, fields["seats"])
    for _attempt in range(5):
        code = new_code()
        confirmed = message_row(
            phone=fields["phone"],
            template="booking_confirmed",
            params={**told, "code": code},
            urgent=True,
            now=now,
        )
        waitlisted = message_row(
            phone=fields["phone"],
            template="booking_waitlisted",
            params={**told, "code": code, "position": _PLACE},
            urgent=True,
            now=now,
        )
        before, _mark, after = waitlisted["text"].partition(_PLACE)
        del waitlisted["params"]["position"]
        stored = message_db_values(confirmed)
        params = {
            **booking_sql.phone_record_params(fields["phone"], fields["activity_id"], now),
            **fields,
            "code": code,
            "no_show_limit": settings.NO_SHOW_LIMIT,
            "no_shows_checked": no_shows_checked,
            **{f"message_{k}": v for k, v in stored.items()},
            "confirmed_template": confirmed["template"],
            "confirmed_text": confirmed["text"],
            "confirmed_params": stored["params"],
            "waitlisted_template": waitlisted["template"],
            "waitlisted_text": before,
            "waitlisted_text_after": after,
            "waitlisted_params": connection.ops.adapt_json_value(waitlisted["params"], None),
        }
        try:
            row = _booking_statement(params)
        except IntegrityError as exc:
            if _code_taken(exc):  # draw again
                continue
        booked, no_shows, position, message_id, *saved = row
        if message_id is None:  # the phone's record stopped it: nothing was saved
            return None, (int(booked), int(no_shows))
        booking = Booking.from_db(connection.alias, _BOOKING_NAMES, saved)
        booking.position = position
        message_queued(message_id, confirmed["send_after"])
        return booking, (int(booked), int(no_shows))
    raise RuntimeError("could not draw a unique booking code")


def _booking_statement(params: dict) -> tuple:
    # Outside a transaction the statement commits on its own; inside one (a caller's, a
    # test's) it needs a savepoint, so that a duplicate code or phone spoils nothing.
    if connection.in_atomic_block:
        with transaction.atomic():
            return _booking_row(params)
    return _booking_row(params)


def _booking_row(params: dict) -> tuple:
    with connection.cursor() as cursor:
        prepared.execute(cursor, "booking_insert", booking_sql.BOOKING_INSERT, params)
        return cursor.fetchone()


def _validate_group(group_kind: str, group_name: str) -> dict[str, str]:
    """A group enrolment's kind and name, checked (both empty for a resident's own party)."""
    group_kind, group_name = (group_kind or "").strip(), (group_name or "").strip()
    if not group_kind and not group_name:
        return {"group_kind": "", "group_name": ""}
    errors = {}
    if group_kind not in GroupKind.values:
        errors["group_kind"] = _("请选择团体类型。")
    if not group_name:
        errors["group_name"] = _("请填写团体名称。")
    elif len(group_name) > GROUP_NAME_MAX:
        errors["group_name"] = _("团体名称最多 %(n)d 个字。") % {"n": GROUP_NAME_MAX}
    if errors:
        raise ValidationError(errors)
    return {"group_kind": group_kind, "group_name": group_name}


def _check_bookable(activity: Activity, seats: int, now: datetime, *, group: bool = False) -> None:
    state = activity.booking_state(now)
    if state in (BookingState.CANCELLED, BookingState.NOT_PUBLISHED):
        raise ValidationError({"activity": _("该活动未开放预约。")})
    if state == BookingState.NO_BOOKING:
        raise ValidationError({"activity": _("该活动无需预约,直接到场即可。")})
    if state == BookingState.NOT_OPEN:
        raise ValidationError(
            {
                "activity": _("预约将于 %(when)s 开始。")
                % {"when": date_format(timezone.localtime(activity.booking_opens), "Y-m-d H:i")}
            }
        )
    if state not in BookingState.BOOKABLE:  # closed, or ended
        raise ValidationError({"activity": _("该活动的预约已截止。")})
    if group:
        if not activity.group_limit:
            raise ValidationError({"group_kind": _("该活动不接受团体报名。")})
        if seats > activity.group_limit:
            raise ValidationError(
                {"seats": _("每个团体最多报名 %(n)d 人。") % {"n": activity.group_limit}}
            )
    elif seats > activity.max_seats_per_booking:
        raise ValidationError(
            {"seats": _("每次最多预约 %(n)d 个座位。") % {"n": activity.max_seats_per_booking}}
        )
    if seats > activity.capacity:
        raise ValidationError(
            {"seats": _("该活动一共只有 %(n)d 个座位。") % {"n": activity.capacity}}
        )


def booking_lookup(*, code: str, phone: str) -> Booking | None:
    """A booking by code and the phone it was made with; both must match."""
    return (
        Booking.objects.select_related("activity", "activity__hall", "activity__venue_hall")
        .filter(code=normalize_code(code), phone=(phone or "").strip())
        .first()
    )


@transaction.atomic
def booking_cancel(*, code: str, phone: str, now: datetime | None = None) -> Booking:
    """The resident cancels until the cancellation deadline; freed seats go to the queue."""
    now = now or timezone.now()
    booking = (
        Booking.objects.select_for_update()
        .filter(code=normalize_code(code), phone=(phone or "").strip())
        .first()
    )
    if booking is None:
        raise ValidationError({"code": _("预约码与手机号码不匹配,请核对后再试。")})
    if booking.status == Booking.Status.CANCELLED:
        raise ValidationError({"code": _("这个预约已经取消过了。")})
    activity = Activity.objects.get(pk=booking.activity_id)
    if now >= activity.cancellable_until:
        raise ValidationError({"code": _("已过取消截止时间,不能再取消。")})
    was_confirmed = booking.status == Booking.Status.CONFIRMED
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = _("本人取消")
    booking.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    if was_confirmed:
        Activity.objects.filter(pk=activity.pk).update(seats_taken=F("seats_taken") - booking.seats)
        _promote_waitlist(activity.pk, now=now)
    _tell(booking, activity, "booking_cancelled")
    return booking


def _promote_waitlist(activity_id: int, *, now: datetime | None = None) -> list[Booking]:
    """Confirm waiting parties, oldest first, while they fit. The activity row is locked, so
    promotions of one activity run one at a time."""
    now = now or timezone.now()
    activity = Activity.objects.select_for_update().get(pk=activity_id)
    if activity.status != Activity.Status.PUBLISHED or activity.capacity is None:
        return []
    free = activity.capacity - activity.seats_taken
    promoted = []
    for booking in (
        Booking.objects.select_for_update()
        .filter(activity_id=activity_id, status=Booking.Status.WAITLISTED)
        .order_by("created_at", "pk")
    ):
        if free <= 0:
            break
        if booking.seats > free:
            continue
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = now
        booking.save(update_fields=["status", "confirmed_at"])
        free -= booking.seats
        promoted.append(booking)
    if promoted:
        Activity.objects.filter(pk=activity_id).update(
            seats_taken=F("seats_taken") + sum(b.seats for b in promoted)
        )
    for booking in promoted:
        _tell(booking, activity, "booking_promoted")
    return promoted


@transaction.atomic
def booking_check_in(*, code: str, by_user=None, now: datetime | None = None) -> Booking:
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().filter(code=normalize_code(code)).first()
    if booking is None:
        raise ValidationError({"code": _("没有这个预约码。")})
    if booking.status != Booking.Status.CONFIRMED:
        raise ValidationError(
            {
                "code": _("该预约状态为“%(status)s”,不能签到。")
                % {"status": booking.get_status_display()}
            }
        )
    if booking.checked_in_at:
        raise ValidationError(
            {
                "code": _("已于 %(when)s 签到。")
                % {"when": date_format(timezone.localtime(booking.checked_in_at), "Y-m-d H:i")}
            }
        )
    booking.checked_in_at = now
    booking.checked_in_by = by_user
    booking.save(update_fields=["checked_in_at", "checked_in_by"])
    return booking


# --- Residents' personal information -----------------------------------------------------------


@transaction.atomic
def booking_anonymise_ended(
    *, before: datetime, phone: str | None = None, dry_run: bool = False
) -> int:
    """Anonymise the bookings of activities that ended before ``before`` (of one ``phone`` when
    given): the name goes, the phone becomes its keyed hash, the row with its seats, status and
    check-in stays, so every count and the no-show rule hold. Returns how many rows (would)
    change; a second run changes none."""
    rows = Booking.objects.filter(activity__end__lt=before)
    if phone is not None:
        rows = rows.filter(phone=phone)
    if dry_run:
        return privacy.count_unanonymised(rows)
    return privacy.anonymise_rows(rows, extra={"name": privacy.ANONYMOUS_NAME})


# --- Attendance (参与人次) ------------------------------------------------------------------------

# Far above any county's open-air show; a count past it is a slip of the keyboard (an extra 0).
MAX_HEAD_COUNT = 100_000


def attendance_initial(*, activity: Activity) -> dict:
    """What the form shows first: the recorded attendance, or else the checked-in seats as
    counted by sign-in (签到统计)."""
    recorded = selectors.attendance_of(activity)
    if recorded is not None:
        return {"head_count": recorded.head_count, "method": recorded.method, "note": recorded.note}
    return {
        "head_count": selectors.checked_in_seats(activity),
        "method": Attendance.Method.CHECKED_IN,
        "note": "",
    }


def attendance_check(
    *, activity: Activity, head_count, method: str, note: str = "", by, now: datetime | None = None
) -> dict:
    """What ``attendance_record`` would record, checked; writes nothing (the admin form asks it
    first, so its refusals show on the form)."""
    now = now or timezone.now()
    scope = user_scope(by)
    if scope.read_only or not scope.covers(activity.hall):
        raise PermissionDenied(_("只能登记本馆及下属馆活动的参与人次。"))
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("活动已取消,不能登记参与人次。"))
    if activity.status != Activity.Status.PUBLISHED:
        raise ValidationError(_("活动尚未发布,不能登记参与人次:未发布的活动不计入统计。"))
    if activity.start > now:
        raise ValidationError(
            _("活动将于 %(when)s 开始,开始后才能登记参与人次。")
            % {"when": date_format(timezone.localtime(activity.start), "Y-m-d H:i")}
        )
    errors = {}
    if method not in Attendance.Method.values:
        errors["method"] = _("请选择统计方式:签到统计、现场清点或估算。")
    try:
        head_count = int(head_count)
    except (TypeError, ValueError):
        errors["head_count"] = _("请填写参与人数(整数)。")
    else:
        if head_count < 0:
            errors["head_count"] = _("参与人数不能为负数。")
        elif head_count > MAX_HEAD_COUNT:
            errors["head_count"] = _("参与人数超过 %(max)d,请核对是否多输了数字。") % {
                "max": MAX_HEAD_COUNT
            }
        else:
            checked = selectors.checked_in_seats(activity)
            if head_count < checked:
                errors["head_count"] = _("已有 %(n)d 人签到,参与人数不能少于签到人数。") % {
                    "n": checked
                }
    if errors:
        raise ValidationError(errors)
    return {"head_count": head_count, "method": method, "note": (note or "").strip()[:200]}


@transaction.atomic
def attendance_record(
    *,
    activity: Activity,
    head_count: int,
    method: str,
    note: str = "",
    by,
    now: datetime | None = None,
) -> Attendance:
    """Record or change an activity's attendance; every change is kept with who and when. The
    activity row is locked, so two staff recording at once are taken one after the other."""
    # Lock the activity's row only: the hall joined for the scope check stays free for others.
    activity = (
        Activity.objects.select_for_update(of=("self",)).select_related("hall").get(pk=activity.pk)
    )
    now = now or timezone.now()  # after the lock: the log's times follow the order of writing
    values = attendance_check(
        activity=activity, head_count=head_count, method=method, note=note, by=by, now=now
    )
    attendance = Attendance.objects.filter(activity=activity).first()
    if attendance is None:
        attendance = Attendance.objects.create(
            activity=activity, **values, recorded_by=by, recorded_at=now
        )
        old_count, old_method = None, ""
    else:
        old_count, old_method = attendance.head_count, attendance.method
        if (old_count, old_method, attendance.note) == (
            values["head_count"],
            values["method"],
            values["note"],
        ):
            return attendance  # nothing changed: nothing to log
        for name, value in values.items():
            setattr(attendance, name, value)
        attendance.recorded_by, attendance.recorded_at = by, now
        attendance.save(update_fields=[*values, "recorded_by", "recorded_at"])
    AttendanceChange.objects.create(
        attendance=attendance,
        old_head_count=old_count,
        old_method=old_method,
        new_head_count=values["head_count"],
        new_method=values["method"],
        note=values["note"],
        changed_by=by,
        changed_at=now,
    )
    return attendance
