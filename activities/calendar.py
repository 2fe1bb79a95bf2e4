"""Activities as iCalendar (RFC 5545): one ``.ics`` per activity and a feed per hall that a
phone's calendar can subscribe to. Times are written in UTC (``...Z``), which every calendar
reads the same way without a VTIMEZONE; the phone shows them in its own zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from django.utils import timezone
from icalendar import Calendar, Event

from .models import Activity

PRODID = "-//文化馆总分馆服务平台//activities//ZH"
# The part after "@" keeps UIDs unique across sites; it never changes, so a calendar that
# imported an activity twice updates the one event instead of adding a second.
UID_DOMAIN = "culture-hall-portal"


def activity_uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@{UID_DOMAIN}"


def _utc(moment):
    return moment.astimezone(UTC)


def activity_event(activity: Activity, *, url: str) -> Event:
    event = Event()
    event.add("uid", activity_uid(activity))
    event.add("dtstamp", _utc(activity.updated_at or timezone.now()))
    event.add("last-modified", _utc(activity.updated_at or timezone.now()))
    event.add("dtstart", _utc(activity.start))
    event.add("dtend", _utc(activity.end))
    event.add("summary", activity.title)
    venue = activity.venue_hall
    place = "".join(part for part in (venue.name, f" {activity.venue}" if activity.venue else ""))
    event.add("location", f"{place},{venue.address}" if venue.address else place)
    if venue.latitude is not None and venue.longitude is not None:
        event.add("geo", (float(venue.latitude), float(venue.longitude)))
    event.add("url", url)
    if activity.description:
        event.add("description", f"{activity.description}\n\n{url}")
    else:
        event.add("description", url)
    cancelled = activity.status == Activity.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar_ics(
    activities: Iterable[tuple[Activity, str]], *, name: str, method: str = "PUBLISH"
) -> bytes:
    """A VCALENDAR of ``(activity, absolute url)`` pairs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for activity, url in activities:
        calendar.add_component(activity_event(activity, url=url))
    return calendar.to_ical()
