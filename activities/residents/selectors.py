"""Reads of the residents' channel."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from .models import Message, Resident, ResidentToken
from .services import token_hash


def phone_for_token(token: str) -> str | None:
    """The verified phone a live token stands for, else None (one query)."""
    if not token or len(token) > 100:
        return None
    return (
        ResidentToken.objects.filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
        .values_list("resident__phone", flat=True)
        .first()
    )


def is_verified(phone: str) -> bool:
    """Has the phone ever proved itself with a code."""
    return Resident.objects.filter(phone=phone).exists()


def keys_used(keys: Iterable[str]) -> set[str]:
    """Which of these message keys have a message already (one query)."""
    return set(Message.objects.filter(key__in=list(keys)).values_list("key", flat=True))


def messages_failed() -> int:
    """The messages that could not be delivered (they belong to no hall: superusers see them)."""
    return Message.objects.filter(status=Message.Status.FAILED).count()
