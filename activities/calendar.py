"""Activities as iCalendar (RFC 5545): one ``.ics`` per activity and a feed per hall that a
phone's calendar can subscribe to. Times are written in UTC (``...Z``), which every calendar
reads the same way without a VTIMEZONE; the phone shows them in its own zone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC

from django.utils import timezone
from django.utils.translation import gettext as _
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


def activity_event(activity: Activity, *, url: str, session=None, number: int = 0) -> Event:
    """The activity as one event; with ``session``, the ``number``-th session of a course."""
    event = Event()
    uid = activity_uid(activity)
    if session is not None:
        uid = uid.replace("@", f"-session-{session.pk}@")
    event.add("uid", uid)
    event.add("dtstamp", _utc(activity.updated_at or timezone.now()))
    event.add("last-modified", _utc(activity.updated_at or timezone.now()))
    event.add("dtstart", _utc(session.start if session else activity.start))
    event.add("dtend", _utc(session.end if session else activity.end))
    summary = activity.title
    if session is not None:
        summary = _("%(title)s(第%(n)d次课)") % {"title": activity.title, "n": number}
    event.add("summary", summary)
    venue = activity.venue_hall
    room = (session.place if session else "") or activity.venue
    place = "".join(part for part in (venue.name, f" {room}" if room else ""))
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
    """A VCALENDAR of ``(activity, absolute url)`` pairs; a course (``session_list`` set, by
    ``activities.selectors.attach_sessions``) is one event per session."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for activity, url in activities:
        sessions = getattr(activity, "session_list", None)
        if not sessions:
            calendar.add_component(activity_event(activity, url=url))
            continue
        for number, session in enumerate(sessions, start=1):
            calendar.add_component(
                activity_event(activity, url=url, session=session, number=number)
            )
    return calendar.to_ical()


# --- schema.org Event (JSON-LD): what the provincial and national culture clouds and search
# engines read off an activity page.

_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def activity_jsonld(activity: Activity, *, url: str, organizer_url: str) -> str:
    """The activity as a schema.org ``Event``, as the text of a ``<script
    type="application/ld+json">`` (``<``, ``>`` and ``&`` escaped, so no value can end it)."""
    venue = activity.venue_hall
    place: dict = {
        "@type": "Place",
        "name": venue.name + (f" {activity.venue}" if activity.venue else ""),
        "address": {
            "@type": "PostalAddress",
            "streetAddress": venue.address or venue.name,
            "addressLocality": venue.locality,
            "addressCountry": "CN",
        },
    }
    if venue.latitude is not None and venue.longitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(venue.latitude),
            "longitude": float(venue.longitude),
        }
    cancelled = activity.status == Activity.Status.CANCELLED
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": url,
        "url": url,
        "name": activity.title,
        "description": activity.description or activity.title,
        "startDate": timezone.localtime(activity.start).isoformat(),
        "endDate": timezone.localtime(activity.end).isoformat(),
        "eventStatus": "https://schema.org/EventCancelled"
        if cancelled
        else "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "isAccessibleForFree": True,
        "location": place,
        "organizer": {
            "@type": "Organization",
            "name": activity.hall.plaque_name or activity.hall.name,
            "url": organizer_url,
        },
        "inLanguage": "zh-CN",
    }
    if activity.capacity is not None:
        left = activity.seats_left
        data["maximumAttendeeCapacity"] = activity.capacity
        data["offers"] = {
            "@type": "Offer",
            "price": 0,
            "priceCurrency": "CNY",
            "url": url,
            "availability": "https://schema.org/InStock" if left else "https://schema.org/SoldOut",
        }
    return json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
