"""Add to calendar (.ics per activity, a feed per hall), share and navigation links on the pages."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from icalendar import Calendar

from activities import services
from network import services as network_services

from .factories import published_activity


def ics_url(activity) -> str:
    return reverse("activities:activity_calendar", args=[activity.pk])


def feed_url(hall) -> str:
    return reverse("activities:hall_calendar", args=[hall.pk])


def events(response) -> list:
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


@pytest.fixture
def located_branch(cast):
    return network_services.hall_update(
        hall=cast.branch,
        address="昆明市官渡区关上中路 1 号",
        latitude=Decimal("24.990000"),
        longitude=Decimal("102.740000"),
    )


def test_an_activity_ics_has_a_stable_uid_utc_times_location_and_url(client, located_branch):
    activity = published_activity(located_branch, title="花灯戏专场演出", venue="二楼多功能厅")
    first = events(client.get(ics_url(activity)))
    again = events(client.get(ics_url(activity)))
    assert len(first) == 1
    event = first[0]
    assert (
        str(event["UID"]) == str(again[0]["UID"]) == f"activity-{activity.pk}@culture-hall-portal"
    )
    assert event.decoded("DTSTART") == activity.start.astimezone(UTC).replace(microsecond=0)
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTEND") == activity.end.astimezone(UTC).replace(microsecond=0)
    assert str(event["SUMMARY"]) == "花灯戏专场演出"
    assert "关上中路 1 号" in str(event["LOCATION"]) and "二楼多功能厅" in str(event["LOCATION"])
    assert str(event["URL"]).endswith(reverse("activities:activity_detail", args=[activity.pk]))
    assert str(event["URL"]).startswith("http://testserver/")
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_cancelled_activity_is_marked_cancelled(client, cast):
    activity = published_activity(cast.branch)
    services.activity_cancel(activity=activity, reason="天气原因")
    (event,) = events(client.get(ics_url(activity)))
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_draft_or_unknown_activity_has_no_ics(client, cast):
    draft = services.activity_create(
        hall=cast.branch,
        category="lecture",
        title="草稿",
        start=published_activity(cast.branch).start,
        end=published_activity(cast.branch).end,
    )
    assert client.get(ics_url(draft)).status_code == 404
    assert client.get("/activities/999999/calendar.ics").status_code == 404


def test_a_hall_feed_lists_what_has_not_ended_in_a_fixed_number_of_queries(
    client, cast, django_assert_num_queries
):
    published_activity(cast.branch, title="讲座一")
    gone = published_activity(cast.branch, title="已取消的讲座")
    services.activity_cancel(activity=gone)
    published_activity(cast.other_branch, title="别的馆")
    with django_assert_num_queries(2):
        listed = events(client.get(feed_url(cast.branch)))
    assert sorted(str(e["SUMMARY"]) for e in listed) == ["已取消的讲座", "讲座一"]
    for i in range(5):
        published_activity(cast.branch, title=f"讲座{i + 2}", start_in=timedelta(days=4 + i))
    with django_assert_num_queries(2):
        assert len(events(client.get(feed_url(cast.branch)))) == 7
    assert client.get("/halls/999999/calendar.ics").status_code == 404


def test_pages_link_the_calendar_share_and_maps(client, located_branch):
    activity = published_activity(located_branch)
    html = client.get(reverse("activities:activity_detail", args=[activity.pk])).content.decode()
    assert f'href="{ics_url(activity)}"' in html
    assert "data-share" in html and "分享" in html
    assert "https://uri.amap.com/marker?" in html and "https://api.map.baidu.com/marker?" in html
    hall_html = client.get(reverse("network:hall_detail", args=[located_branch.pk])).content
    assert f'href="{feed_url(located_branch)}"'.encode() in hall_html
    assert b"https://uri.amap.com/marker?" in hall_html


def test_no_map_links_without_coordinates(client, cast):
    activity = published_activity(cast.point)
    html = client.get(reverse("activities:activity_detail", args=[activity.pk])).content.decode()
    assert "uri.amap.com" not in html and "api.map.baidu.com" not in html


def test_map_links_name_the_hall_and_the_gcj02_datum(located_branch):
    from network.navigation import map_links

    amap, baidu = map_links(located_branch)
    amap_q = parse_qs(urlsplit(amap.url).query)
    assert amap_q["position"] == ["102.740000,24.990000"]  # longitude first
    assert amap_q["coordinate"] == ["gaode"]
    assert amap_q["name"] == [located_branch.name]
    baidu_q = parse_qs(urlsplit(baidu.url).query)
    assert baidu_q["location"] == ["24.990000,102.740000"]  # latitude first
    assert baidu_q["coord_type"] == ["gcj02"]
    assert baidu_q["output"] == ["html"]
    assert baidu_q["title"] == [located_branch.name]


def test_the_booking_page_offers_the_calendar_until_the_booking_is_cancelled(client, cast):
    from activities.views import BOOKING_LINK

    activity = published_activity(cast.branch)
    booking = services.booking_create(
        activity_id=activity.pk, name="张三", phone="13800138000", seats=1
    )
    html = client.get(BOOKING_LINK.url(booking.code)).content.decode()
    assert f'href="{ics_url(activity)}"' in html
    services.booking_cancel(code=booking.code, phone="13800138000")
    html = client.get(BOOKING_LINK.url(booking.code)).content.decode()
    assert f'href="{ics_url(activity)}"' not in html


def _jsonld(response) -> dict:
    import json
    import re

    html = response.content.decode()
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found, "no JSON-LD on the page"
    return json.loads(found.group(1))


def test_the_activity_page_carries_a_schema_org_event(client, located_branch):
    activity = published_activity(
        located_branch, title="花灯戏</script><script>alert(1)", venue="二楼多功能厅", capacity=2
    )
    event = _jsonld(client.get(reverse("activities:activity_detail", args=[activity.pk])))
    assert event["@type"] == "Event" and event["name"] == activity.title  # escaped, intact
    assert event["startDate"].startswith(f"{activity.start.astimezone().date():%Y-%m-%d}")
    assert event["startDate"].endswith("+08:00")
    assert event["eventStatus"] == "https://schema.org/EventScheduled"
    assert event["location"]["address"]["streetAddress"] == "昆明市官渡区关上中路 1 号"
    assert event["location"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 24.99,
        "longitude": 102.74,
    }
    assert event["offers"]["availability"] == "https://schema.org/InStock"
    assert event["organizer"]["url"].endswith(
        reverse("network:hall_detail", args=[located_branch.pk])
    )
    services.booking_create(activity_id=activity.pk, name="张三", phone="13800138000", seats=2)
    full = _jsonld(client.get(reverse("activities:activity_detail", args=[activity.pk])))
    assert full["offers"]["availability"] == "https://schema.org/SoldOut"
    services.activity_cancel(activity=activity, reason="下雨")
    cancelled = _jsonld(client.get(reverse("activities:activity_detail", args=[activity.pk])))
    assert cancelled["eventStatus"] == "https://schema.org/EventCancelled"
