"""The portal's own writes: the big screen's secret links."""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from network.models import Hall
from network.selectors import user_scope

from .models import ScreenLink

SCREEN_SALT = "portal.screen-link"


def screen_token(link: ScreenLink) -> str:
    """The secret part of the link's URL: the hall and its key, signed."""
    return signing.Signer(salt=SCREEN_SALT).sign(f"{link.hall_id}.{link.key}")


def screen_link_find(token: str) -> ScreenLink | None:
    """The link a token names, while it is the hall's current one; None for anything else."""
    try:
        value = signing.Signer(salt=SCREEN_SALT).unsign(token)
    except signing.BadSignature:
        return None
    hall_id, _dot, key = value.partition(".")
    if not hall_id.isdigit() or not key:
        return None
    return ScreenLink.objects.select_related("hall").filter(hall_id=int(hall_id), key=key).first()


@transaction.atomic
def screen_link_reset(*, hall: Hall, by) -> ScreenLink:
    """A new secret link for ``hall``'s big screen (the first, or one that replaces the old,
    which stops working). Staff of the hall or a hall above it; officials change nothing."""
    scope = user_scope(by)
    if scope.read_only or not scope.covers(hall):
        raise PermissionDenied(_("只能为本馆或下属馆生成大屏链接。"))
    link, _created = ScreenLink.objects.select_for_update().get_or_create(
        hall=hall, defaults={"key": secrets.token_urlsafe(12), "reset_by": by}
    )
    if not _created:
        link.key = secrets.token_urlsafe(12)
        link.reset_by = by
        link.save(update_fields=["key", "reset_by", "reset_at"])
    return link
