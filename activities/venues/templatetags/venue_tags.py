"""``{% hall_venues hall as venues %}`` for the public hall page (``network/hall_detail.html``):
the hall's own bookable venues with this year's use. A tag, because the hall directory
(``network``) stands below the venues and imports nothing of them."""

from __future__ import annotations

from django import template
from django.utils import timezone

from activities.venues.selectors import hall_venues_with_use

register = template.Library()


@register.simple_tag
def hall_venues(hall):
    return hall_venues_with_use(hall.pk, year=timezone.localdate().year)
