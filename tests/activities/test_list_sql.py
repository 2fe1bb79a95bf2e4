"""The public list's cards read by a statement written once per filter shape
(``activities.selectors.activity_cards_public``) against the ORM's query they replace
(``as_cards(activities_public(...))``): the same activities, order, fields, session counts and
counts, for every combination of filters, on whichever database the suite runs on."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities import courses, selectors, services
from activities.models import Activity, Category, CourseSession

from .factories import published_activity

pytestmark = pytest.mark.django_db


def shown(activity: Activity) -> tuple:
    """Everything a card reads, and which fields were left unread."""
    a = activity
    return (
        a.pk,
        a.category,
        a.title,
        a.start,
        a.end,
        a.venue,
        a.venue_hall_id,
        a.venue_hall.pk,
        a.venue_hall.name,
        a.status,
        a.capacity,
        a.seats_taken,
        a.booking_opens,
        a.booking_closes,
        a.session_count,
        sorted(a.get_deferred_fields()),
        sorted(a.venue_hall.get_deferred_fields()),
    )


@pytest.fixture
def activities(cast):
    """Activities of every kind the filters tell apart: each category, ended, under way and
    coming, full and with seats, without a seat limit, a draft and a cancelled one, courses,
    a mobile service held at a point, and two that start at the same moment."""
    halls = [cast.county, cast.branch, cast.point, cast.point2, cast.other_county_point]
    categories = [Category.PERFORMANCE, Category.LECTURE, Category.EXHIBITION, Category.TRAINING]
    made = []
    for i in range(24):
        made.append(
            published_activity(
                halls[i % len(halls)],
                title=f"活动{i:02d}",
                category=categories[i % len(categories)],
                capacity=[None, 1, 5, 10][i % 4],
                start_in=timedelta(days=i * 3 - 8, hours=i),
            )
        )
    # Full ones (seats_taken = capacity) and some with a seat taken.
    Activity.objects.filter(pk__in=[a.pk for a in made[1::4]]).update(seats_taken=F("capacity"))
    Activity.objects.filter(pk__in=[a.pk for a in made[2::4]]).update(seats_taken=2)
    twin_start = timezone.now() + timedelta(days=5)
    for title in ("同时开始甲", "同时开始乙"):
        published_activity(
            cast.branch, title=title, start_in=twin_start - timezone.now(), capacity=3
        )
    published_activity(
        cast.county, title="流动舞台车", category=Category.MOBILE, venue_hall=cast.point
    )
    services.activity_cancel(
        activity=published_activity(cast.branch, title="取消了"), reason="天气"
    )
    services.activity_create(
        hall=cast.branch,
        title="草稿",
        category=Category.PERFORMANCE,
        start=timezone.now() + timedelta(days=2),
        end=timezone.now() + timedelta(days=2, hours=2),
        capacity=10,
        max_seats_per_booking=2,
    )
    for sessions, hall in ((3, cast.branch), (5, cast.other_county_point)):
        course = published_activity(hall, title=f"培训班{sessions}", category=Category.TRAINING)
        first = timezone.localtime(timezone.now() + timedelta(days=1))
        courses.course_sessions_save(
            activity=course,
            saved=[
                CourseSession(
                    start=first + timedelta(weeks=n), end=first + timedelta(weeks=n, hours=2)
                )
                for n in range(sessions)
            ],
        )
    return cast


def test_every_filter_combination_reads_what_the_orm_reads(activities):
    cast = activities
    now = timezone.now()
    today = timezone.localdate()
    within = [None, cast.centre.pk, cast.county.pk, cast.branch.pk, cast.point.pk]
    within += [cast.other_county.pk, 999_999]
    categories = [None, "performance", "training", "mobile"]
    starts = [None, today - timedelta(days=3), today + timedelta(days=10)]
    ends = [None, today + timedelta(days=4), today + timedelta(days=40)]
    compared = found = 0
    for hall, category, date_from, date_to, seats in itertools.product(
        within, categories, starts, ends, (False, True)
    ):
        filters = {
            "within": hall,
            "category": category,
            "date_from": date_from,
            "date_to": date_to,
            "seats_available": seats,
        }
        orm = selectors.as_cards(selectors.activities_public(now=now, **filters))
        cards = selectors.activity_cards_public(now=now, **filters)
        expected = [shown(a) for a in orm]
        assert cards.count() == orm.count() == len(expected), filters
        assert [shown(a) for a in cards[0:100]] == expected, filters
        for start, stop in ((0, 3), (3, 6), (5, 5), (len(expected), len(expected) + 3)):
            assert [shown(a) for a in cards[start:stop]] == expected[start:stop], filters
        compared += 1
        found += len(expected)
    assert compared == 7 * 4 * 3 * 3 * 2
    assert found > 500  # the combinations are not all empty


def test_dates_and_times_as_the_orm_takes_them(activities):
    """``date_from``/``date_to`` may be datetimes (the API's), taken as they are; a date is the
    whole day in the current time zone."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=7)
    for filters in (
        {"date_from": day},
        {"date_to": day},
        {"date_from": timezone.make_aware(datetime.combine(day, time(13, 30)))},
        {"date_to": timezone.make_aware(datetime.combine(day, time(9)))},
    ):
        orm = selectors.as_cards(selectors.activities_public(now=now, **filters))
        cards = selectors.activity_cards_public(now=now, **filters)
        assert [shown(a) for a in cards[0:100]] == [shown(a) for a in orm], filters


def test_a_page_is_one_query_and_its_cards_need_no_other(activities):
    cards = selectors.activity_cards_public(category="training")
    with CaptureQueriesContext(connection) as queries:
        page = cards[0:12]
        for activity in page:
            shown(activity)
            activity.seats_left, activity.closes_at  # noqa: B018 (what a card reads)
    assert len(queries) == 1 and len(page) >= 3
    with CaptureQueriesContext(connection) as queries:
        assert cards.count() == len(page)
    assert len(queries) == 1
    if connection.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS:
        # Planned once per connection: the statement is run by name.
        assert queries[0]["sql"].startswith("EXECUTE activity_cards_count_01000(")


def test_only_a_bounded_slice_is_read(activities):
    cards = selectors.activity_cards_public()
    for bad in (0, slice(3, None), slice(0, 6, 2)):
        with pytest.raises(TypeError):
            cards[bad]
