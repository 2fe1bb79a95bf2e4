"""Residents' personal information, kept as the Personal Information Protection Law asks
(个人信息保护法): the masked phone staff see, the keyed hash an anonymised row keeps in place of
a phone, and the version of the privacy notice a resident agrees to.

Plumbing only: each room anonymises its own rows (``<entity>_anonymise_ended``) with these, and
``portal.privacy`` calls them all.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

# What an anonymised row says in place of a name. Stored data, so not translated.
ANONYMOUS_NAME = "已匿名"
# An anonymised phone: this mark and ten characters of a keyed hash, so it fits where the phone
# was (11 characters) and can never be a real number (those are digits beginning with 1).
HASH_MARK = "~"
# What a form or the API says when the agreement to the privacy notice is missing.
CONSENT_REQUIRED = _("请阅读并同意《隐私政策》后再提交。")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def consent_fields() -> tuple[models.CharField, models.DateTimeField]:
    """``consent_version, consented_at = consent_fields()``: the privacy notice (隐私政策) a
    resident agreed to when giving a name and phone, and when, on every record that keeps them.
    The version has a database default as well, so a plain SQL INSERT (bookings on PostgreSQL)
    may leave it out."""
    return (
        models.CharField(
            _("同意的隐私政策版本"), max_length=20, blank=True, default="", db_default=""
        ),
        models.DateTimeField(_("同意时间"), null=True, blank=True),
    )


def notice_version() -> str:
    """The privacy notice in force: a resident agrees to this one, and the record keeps it."""
    return settings.PRIVACY_NOTICE_VERSION


def consented(cleaned_data: dict) -> dict:
    """A form's (or a serializer's) data for its service: the ``consent`` box becomes ``consent_version``, the
    notice in force when the resident ticked it."""
    data = {k: v for k, v in cleaned_data.items() if k != "consent"}
    data["consent_version"] = notice_version() if cleaned_data.get("consent") else ""
    return data


def mask_phone(phone: str) -> str:
    """138****1234: what staff see by default. An anonymised phone shows as such."""
    phone = phone or ""
    if is_anonymised(phone):
        return ANONYMOUS_NAME
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_phones_in(text: str) -> str:
    """``text`` with every mainland mobile number in it masked (for logs and error reports)."""
    return _MOBILE.sub(r"\1****\3", text)


def phone_hash(phone: str) -> str:
    """The keyed hash an anonymised row keeps: the same phone always gives the same value, so a
    rule that compares phones (one booking per phone, the no-show limit) still holds, and nobody
    without the secret key can tell which phone it was."""
    if is_anonymised(phone):
        return phone
    digest = salted_hmac("privacy.phone", phone or "").digest()
    return HASH_MARK + base64.b32encode(digest).decode()[:10].lower()


def is_anonymised(phone: str) -> bool:
    return (phone or "").startswith(HASH_MARK)


def phone_forms(phone: str) -> list[str]:
    """The values a row about ``phone`` may hold: the number itself and its anonymised form."""
    return [phone, phone_hash(phone)]


def retention_cutoff(
    *, older_than_days: int | None = None, now: datetime | None = None
) -> datetime:
    """Things that ended before this are kept no longer with a name and phone."""
    days = settings.RESIDENT_DATA_RETENTION_DAYS if older_than_days is None else older_than_days
    return (now or timezone.now()) - timedelta(days=days)


def anonymise_rows(
    rows: QuerySet, *, phone_field: str = "phone", extra: dict | None = None, chunk: int = 500
) -> int:
    """Replace ``phone_field`` of ``rows`` by its keyed hash (and set ``extra``, e.g. the name)
    in one UPDATE per ``chunk`` distinct phones; rows already anonymised are left alone, so a
    second run changes nothing. Returns the number of rows changed."""
    rows = rows.exclude(**{f"{phone_field}__startswith": HASH_MARK}).exclude(**{phone_field: ""})
    phones = sorted(set(rows.values_list(phone_field, flat=True)))
    changed = 0
    for start in range(0, len(phones), chunk):
        part = phones[start : start + chunk]
        whens = [When(**{phone_field: p}, then=Value(phone_hash(p))) for p in part]
        changed += rows.filter(**{f"{phone_field}__in": part}).update(
            **{phone_field: Case(*whens, default=Value(""))}, **(extra or {})
        )
    return changed


def count_unanonymised(rows: QuerySet, *, phone_field: str = "phone") -> int:
    """What ``anonymise_rows`` would change (for ``--dry-run``)."""
    return (
        rows.exclude(**{f"{phone_field}__startswith": HASH_MARK})
        .exclude(**{phone_field: ""})
        .count()
    )
