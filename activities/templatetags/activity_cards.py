"""``{% activity_cards activities now %}``: the cards of an activity list, each kept rendered.

A card (``activities/_activity_card.html``) is the same on the home page, on every filtered list
and for every visitor, so a list whose filters no cache has seen still need not render its
cards. Each card is kept in the shared cache under a digest of everything it shows (title,
category, times, place, status, seats left, a course's number of sessions, whether booking has
opened or closed at ``now``, the language and time zone): a change to any of them is a new key,
so a kept card is never out of date, and an old one simply expires. Each web process also keeps
the cards it read or rendered in its own memory (``_local``): a card under its digest never goes
stale, and a list whose cards are all there makes no round trip at all. Otherwise one round trip
reads the page's other cards; a cache that does not answer means they are rendered, as before.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime

from django import template
from django.core.cache import cache
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from activities.models import Activity
from common.cache import ProcessMemory

register = template.Library()
log = logging.getLogger(__name__)

CARD_TEMPLATE = "activities/_activity_card.html"
CARD_SECONDS = 3600
# A card is about 600 bytes: a few thousand of them (the published activities of a province,
# in both languages and in their booking states) stay well under 10 MB a process.
_local = ProcessMemory(seconds=CARD_SECONDS, entries=5000)


def card_key(activity: Activity, now: datetime) -> str:
    a = activity
    shown = (
        a.pk,
        a.category,
        a.title,
        a.start.isoformat(),
        a.end.isoformat(),
        a.venue,
        a.venue_hall_id,
        a.venue_hall.name,
        a.status,
        a.capacity,
        a.seats_left,
        a.session_count,
        a.booking_opens.isoformat() if a.booking_opens else "",
        bool(a.booking_opens and now < a.booking_opens),
        now >= a.closes_at,
        translation.get_language(),
        timezone.get_current_timezone_name(),
    )
    return "card:" + hashlib.sha256(repr(shown).encode()).hexdigest()


@register.simple_tag
def activity_cards(activities: Iterable[Activity], now: datetime) -> SafeString:
    activities = list(activities)
    keys = [card_key(a, now) for a in activities]
    kept = {key: text for key in keys if (text := _local.get(key)) is not None}
    missing = [key for key in keys if key not in kept]
    if missing:
        try:
            shared = cache.get_many(missing)
        except Exception:  # a cache that does not answer: render every card
            log.warning("activity cards: cache get failed", exc_info=True)
            shared = {}
        for key, text in shared.items():
            _local.set(key, text)
        kept.update(shared)
    card = get_template(CARD_TEMPLATE)
    html, rendered = [], {}
    for activity, key in zip(activities, keys, strict=True):
        text = kept.get(key)
        if text is None:
            text = rendered[key] = card.render({"a": activity, "now": now})
            _local.set(key, text)
        html.append(text)
    if rendered:
        try:
            cache.set_many(rendered, CARD_SECONDS)
        except Exception:
            log.warning("activity cards: cache set failed", exc_info=True)
    return mark_safe("".join(html))  # each card is the output of an autoescaping template
