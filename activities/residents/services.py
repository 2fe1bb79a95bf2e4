"""Writes of the residents' channel: SMS codes, tokens, and messages with their delivery.

A code proves a phone once; the token it is exchanged for proves it for
``RESIDENT_VERIFIED_DAYS``. Codes and tokens are stored as hashes only.

A message is a row first (the delivery record) and an SMS second: the row is written in the
caller's transaction and the Celery task that sends it is queued when that transaction commits,
so a provider that fails can never roll back or lose the booking that asked for the message,
and a booking that rolls back sends nothing. The task retries with a backoff and records each
attempt; after the last one the row says ``failed`` and why.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic

from celery import current_app, shared_task
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from common import prepared, privacy
from common.cache import Breaker
from common.idempotency import idempotency_prune
from common.ratelimit import Budget, RateLimited
from common.validators import mobile_validator, normalize_mobile

from .models import (
    IdempotentRequest,
    Message,
    PersonalDataAccess,
    PhoneCode,
    Resident,
    ResidentToken,
)
from .sms import Outgoing, SmsError, backend, render

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
# Code requests, per client address and per phone, whichever way they arrive (page or API).
CODE_BUDGET = Budget(
    "phone-code",
    "PHONE_CODE_RATE_LIMIT_IP",
    "PHONE_CODE_RATE_LIMIT_PHONE",
    "PHONE_CODE_RATE_WINDOW",
)
# Tries of codes per client address: five tries per code stop guessing one code, this stops
# guessing across many phones from one place.
CHECK_BUDGET = Budget(
    "phone-check",
    "PHONE_CHECK_RATE_LIMIT_IP",
    "PHONE_CODE_RATE_LIMIT_PHONE",
    "PHONE_CODE_RATE_WINDOW",
)


def valid_phone(phone: str) -> str:
    """The phone as 11 digits, or a ValidationError on ``phone`` saying what to type."""
    phone = normalize_mobile(phone)
    try:
        mobile_validator(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    return phone


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac("residents.phone-code", f"{phone}:{code}").hexdigest()


def token_hash(token: str) -> str:
    # A token carries 256 random bits: a plain digest cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


# --- Codes and tokens ---------------------------------------------------------------------------


@transaction.atomic
def phone_code_request(*, phone: str, now: datetime | None = None) -> tuple[PhoneCode, str]:
    """Send a new code to ``phone``; the code row and the code itself (shown only by a page in
    DEBUG with the console backend, so a newcomer can finish the flow without a phone).

    A phone gets a new code at most every ``PHONE_CODE_RESEND_SECONDS``: RateLimited says when.
    """
    phone = valid_phone(phone)
    now = now or timezone.now()
    latest = (
        PhoneCode.objects.select_for_update()
        .filter(phone=phone)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is not None:
        wait = latest.created_at + timedelta(seconds=settings.PHONE_CODE_RESEND_SECONDS) - now
        if wait.total_seconds() > 0:
            raise RateLimited(retry_after=int(wait.total_seconds()) + 1)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = PhoneCode.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
    )
    minutes = max(1, settings.PHONE_CODE_TTL_SECONDS // 60)
    message_send(
        phone=phone, template="verify_code", params={"code": code, "minutes": minutes}, urgent=True
    )
    return row, code


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires: datetime
    phone: str


def phone_token_create(
    *, phone: str, code: str, now: datetime | None = None, consent_version: str = ""
) -> IssuedToken:
    """Exchange the phone's latest code for a token. Each try counts against the code (at most
    ``PHONE_CODE_MAX_TRIES``), and is counted before the comparison and outside any transaction
    that the refusal would roll back; a code is good once."""
    phone = valid_phone(phone)
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise ValidationError({"code": _("验证码是 6 位数字。")})
    now = now or timezone.now()
    latest = PhoneCode.objects.filter(phone=phone).order_by("-created_at", "-pk").first()
    if latest is None:
        raise ValidationError({"code": _("请先获取验证码。")})
    if latest.used_at is not None:
        raise ValidationError({"code": _("这个验证码已经用过了,请重新获取。")})
    if latest.expires_at <= now:
        raise ValidationError({"code": _("验证码已过期,请重新获取。")})
    max_tries = settings.PHONE_CODE_MAX_TRIES
    counted = PhoneCode.objects.filter(
        pk=latest.pk, tries__lt=max_tries, used_at__isnull=True
    ).update(tries=F("tries") + 1)
    if not counted:
        raise ValidationError({"code": _("验证码错误次数太多,已失效,请重新获取。")})
    if not constant_time_compare(latest.code_hash, _code_hash(phone, code)):
        left = max_tries - latest.tries - 1
        if left <= 0:
            raise ValidationError({"code": _("验证码不正确,错误次数太多,已失效,请重新获取。")})
        raise ValidationError({"code": _("验证码不正确,还可以再试 %(n)d 次。") % {"n": left}})
    return _token_issue(latest, phone=phone, now=now, consent_version=consent_version)


@transaction.atomic
def _token_issue(
    code_row: PhoneCode, *, phone: str, now: datetime, consent_version: str = ""
) -> IssuedToken:
    # Two requests with the right code: the first claims it, the second is a replay.
    claimed = PhoneCode.objects.filter(pk=code_row.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise ValidationError({"code": _("这个验证码已经用过了,请重新获取。")})
    defaults = {"verified_at": now}
    if consent_version:
        defaults |= {"consent_version": consent_version, "consented_at": now}
    resident, _created = Resident.objects.update_or_create(phone=phone, defaults=defaults)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=settings.RESIDENT_VERIFIED_DAYS)
    ResidentToken.objects.create(
        resident=resident, token_hash=token_hash(token), expires_at=expires
    )
    return IssuedToken(token=token, expires=expires, phone=phone)


# --- Messages -----------------------------------------------------------------------------------


def _quiet_hours() -> tuple[time, time] | None:
    spec = settings.SMS_QUIET_HOURS
    if not spec:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    return start, end


def quiet_until(now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end (local time), or None outside them."""
    hours = _quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, end), local.tzinfo)


def message_send(
    *,
    phone: str,
    template: str,
    params: dict,
    urgent: bool = False,
    key: str = "",
    now: datetime | None = None,
) -> Message | None:
    """Record a message and send it once the caller's transaction commits.

    ``urgent`` is for what the resident has just asked for (a code, the confirmation of their
    own booking): it goes at once. Anything else (a reminder, a waiting-list place, a change by
    staff) waits out the quiet hours. With ``key`` at most one message is ever made for it; a
    second call answers None.
    """
    row = message_row(
        phone=phone, template=template, params=params, urgent=urgent, key=key, now=now
    )
    if key:
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction goes on
                pk = _message_insert(row)
        except IntegrityError:
            if Message.objects.filter(key=key).exists():
                return None
            raise
    else:
        pk = _message_insert(row)
    message_queued(pk, row["send_after"])
    message = Message(pk=pk, **row)
    message._state.adding, message._state.db = False, connection.alias
    return message


def message_row(
    *,
    phone: str,
    template: str,
    params: dict,
    urgent: bool = False,
    key: str = "",
    now: datetime | None = None,
) -> dict:
    """A new message's columns (``MESSAGE_COLUMNS``), as ``message_send`` saves it: for a
    statement that saves the message together with what it tells of (a booking's, in
    ``activities.services``), and for ``message_send`` itself."""
    now = now or timezone.now()
    params = {name: str(value) for name, value in params.items()}
    return {
        "phone": phone,
        "template": template,
        "params": params,
        "text": render(template, params)[:500],
        "status": Message.Status.QUEUED.value,
        "attempts": 0,
        "provider_id": "",
        "last_error": "",
        "key": key,
        "created_at": timezone.now(),  # when it was made, whatever ``now`` the caller tells
        "send_after": (None if urgent else quiet_until(now)) or now,
        "sent_at": None,
    }


# Every column of Message but its id: what message_row gives (a test holds the two together).
MESSAGE_COLUMNS = tuple(f.column for f in Message._meta.concrete_fields if not f.primary_key)


def message_db_values(row: dict) -> dict:
    """``row``'s values as the database takes them (its JSON and its times)."""
    ops = connection.ops
    return {
        **row,
        "params": ops.adapt_json_value(row["params"], None),
        "created_at": ops.adapt_datetimefield_value(row["created_at"]),
        "send_after": ops.adapt_datetimefield_value(row["send_after"]),
    }


def message_queued(message_id: int, send_after: datetime) -> None:
    """Send a saved message, or hand it to the worker, once the caller's transaction commits."""
    # robust: whatever goes wrong in queuing, the resident's request has committed and answers.
    transaction.on_commit(lambda: _dispatch(message_id, send_after), robust=True)


def _message_insert(row: dict) -> int:
    """Saves a new message; its id. Written out and prepared (``common.prepared``): every
    booking makes one, and the ORM's ``create`` cost 0.41–0.52 ms of CPU against 0.26–0.40 ms
    for this."""
    values = message_db_values(row)
    with connection.cursor() as cursor:
        prepared.execute(cursor, "message_insert", _message_insert_statement(), values)
        return cursor.fetchone()[0]


@functools.cache
def _message_insert_statement() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in MESSAGE_COLUMNS)
    values = ", ".join(f"%({column})s" for column in MESSAGE_COLUMNS)
    table, pk = quote(Message._meta.db_table), quote(Message._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}"


# A broker that is down (or hung: its socket timeouts bound the wait) is not asked again for a
# few seconds, so a burst of bookings during an outage does not wait on it one by one.
_broker = Breaker("broker (queuing a message)", 10, (Exception,))
_NOT_QUEUED = object()

# Messages due now are sent by one task for every message this process makes in a second
# (``messages_send_now``), not by a task each: queuing a task was about a tenth of a booking's
# CPU in the web process (0.41 ms; docs/BENCHMARKS.md). The task waits out the second
# before it reads, so every message whose request found the bell already rung is committed
# by then and in its read.
SEND_NOW_SECONDS = 1
_bell = threading.Lock()
_rung_until = 0.0


def _dispatch(message_id: int, send_after: datetime) -> None:
    if send_after <= timezone.now():
        if current_app.conf.task_always_eager:
            # The embedded default: the task runs here and now, one message at a time.
            queued = _broker.call(lambda: message_deliver.delay(message_id), _NOT_QUEUED)
        else:
            queued = _ring()
        if queued is _NOT_QUEUED:
            # A message due now (a code, a confirmation the resident waits for) is tried
            # once here; if that fails too the row stays queued and the sweep sends it later.
            logger.warning(
                "message %s: broker unavailable, sending it from the request", message_id
            )
            try:
                message_attempt(message_id=message_id, last=False)
            except SmsError:
                pass  # recorded on the row; the sweep tries again
    elif not current_app.conf.task_always_eager:
        queued = _broker.call(
            lambda: message_deliver.apply_async(args=[message_id], eta=send_after), _NOT_QUEUED
        )
        if queued is _NOT_QUEUED:
            logger.warning("message %s: broker unavailable, left to the sweep", message_id)
    # Eager (the embedded default) has no worker to hold a task until morning: the sweep
    # sends it when it is due.


def _ring():
    """Queue ``messages_send_now`` unless this process queued it less than a second ago."""
    global _rung_until
    with _bell:
        if monotonic() < _rung_until:
            return True
        queued = _broker.call(
            lambda: messages_send_now.apply_async(countdown=SEND_NOW_SECONDS), _NOT_QUEUED
        )
        if queued is not _NOT_QUEUED:
            _rung_until = monotonic() + SEND_NOW_SECONDS
        return queued


def message_attempt(*, message_id: int, last: bool) -> Message | None:
    """One attempt at a due, queued message; None when there is none to send (sent already, or
    being sent by another worker: the claim below lets one attempt run at a time). A failure is
    recorded and raised as SmsError for the task to retry, unless this was the ``last`` try."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=Message.Status.QUEUED, send_after__lte=now
    ).update(status=Message.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    message = Message.objects.get(pk=message_id)
    outgoing = Outgoing(
        phone=message.phone, template=message.template, params=message.params, text=message.text
    )
    try:
        provider_id = backend().send(outgoing)
    except Exception as exc:  # noqa: BLE001 - whatever the provider's fault, record it
        message.status = Message.Status.FAILED if last else Message.Status.QUEUED
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        message.save(update_fields=["status", "last_error"])
        logger.warning("SMS %s attempt %s failed: %s", message.pk, message.attempts, exc)
        if last:
            return message
        raise SmsError(message.last_error) from exc
    message.status = Message.Status.SENT
    message.provider_id = (provider_id or "")[:100]
    message.sent_at = timezone.now()
    message.save(update_fields=["status", "provider_id", "sent_at"])
    return message


@shared_task(
    bind=True,
    autoretry_for=(SmsError,),
    retry_backoff=settings.SMS_RETRY_BACKOFF,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=settings.SMS_MAX_ATTEMPTS - 1,
    acks_late=True,
    # The row is the record; a result would only cost the web process a subscription to the
    # result backend for every message it queues.
    ignore_result=True,
)
def message_deliver(self, message_id: int) -> None:
    try:
        message_attempt(message_id=message_id, last=self.request.retries >= self.max_retries)
    except SmsError:
        if not self.request.is_eager:
            raise  # autoretry_for: tried again after the backoff
        # Eager (the embedded default) has no broker to wait on: the tries run one after
        # another, each recorded the same way.
        self.apply(args=[message_id], retries=self.request.retries + 1)


@shared_task(acks_late=True, ignore_result=True)
def messages_send_now(limit: int = 500) -> int:
    """Send the messages due now that no attempt has touched yet, each once (``message_attempt``
    claims it, so two of these tasks may overlap). A message that fails goes on as
    ``message_deliver``'s first retry, with the same backoff as if that task had tried it."""
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Message.Status.QUEUED, attempts=0, send_after__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    last = settings.SMS_MAX_ATTEMPTS <= 1
    for pk in due:
        try:
            message_attempt(message_id=pk, last=last)
        except SmsError:
            message_deliver.apply_async(args=[pk], countdown=settings.SMS_RETRY_BACKOFF, retries=1)
    if len(due) == limit:
        messages_send_now.apply_async()  # more were due: the next batch
    return len(due)


@shared_task
def messages_send_due() -> int:
    """Send what is due and still queued: the morning's held messages where no worker held
    them (the embedded default), and any whose task was lost with a broker."""
    now = timezone.now()
    # A queued message younger than this has its own task on the way (or a retry pending).
    settled = now - timedelta(seconds=settings.SMS_SWEEP_AFTER_SECONDS)
    due = list(
        Message.objects.filter(status=Message.Status.QUEUED, send_after__lte=now)
        .exclude(send_after__gt=settled, created_at__gt=settled)
        .values_list("pk", flat=True)[:1000]
    )
    for pk in due:
        message_deliver.delay(pk)
    return len(due)


@transaction.atomic
def residents_prune(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete what can prove nothing any more: tokens past their expiry and codes older than a
    day (the day keeps a phone's recent codes for the resend limit and for support). The
    verified phones stay: they are what a no-show ban asks about."""
    now = now or timezone.now()
    tokens, _ = ResidentToken.objects.filter(expires_at__lte=now).delete()
    codes, _ = PhoneCode.objects.filter(created_at__lte=now - timedelta(days=1)).delete()
    return tokens, codes


@shared_task(ignore_result=True)
def prune_residents() -> None:
    residents_prune()


@shared_task(ignore_result=True)
def prune_idempotent_requests() -> int:
    """The answers kept for ``Idempotency-Key`` retries, once their 24 hours are over."""
    return idempotency_prune(IdempotentRequest)


# --- Residents' personal information -----------------------------------------------------------


@transaction.atomic
def message_anonymise_ended(
    *, before: datetime, phone: str | None = None, dry_run: bool = False
) -> int:
    """Anonymise messages sent (or given up) before ``before`` (to one ``phone`` when given): the
    phone becomes its keyed hash and the text and its parameters (names, codes) go; the delivery
    record stays. Idempotent."""
    rows = Message.objects.filter(
        created_at__lt=before, status__in=(Message.Status.SENT, Message.Status.FAILED)
    )
    if phone is not None:
        rows = rows.filter(phone=phone)
    if dry_run:
        return privacy.count_unanonymised(rows)
    return privacy.anonymise_rows(rows, extra={"text": "", "params": {}})


@transaction.atomic
def resident_forget_stale(*, before: datetime, dry_run: bool = False) -> int:
    """Forget verified phones not verified again since ``before`` (with their tokens, long
    expired): a resident who comes back verifies again, as after a token's expiry."""
    rows = Resident.objects.filter(verified_at__lt=before)
    if dry_run:
        return rows.count()
    deleted, _by_model = rows.delete()
    return deleted


def personal_data_access_log(*, user, record, reason: str, rows: int = 1) -> PersonalDataAccess:
    """Record that ``user`` saw a full phone number of ``record`` (or exported ``rows`` of them
    from it): the access log the law asks for. Written in the caller's transaction."""
    return PersonalDataAccess.objects.create(
        user=user,
        at=timezone.now(),
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        reason=reason,
        rows=rows,
    )
