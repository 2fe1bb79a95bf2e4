"""The big screen (大屏): a staff member's scope at /screen/, a hall's through its secret link
(no account; reset makes the old link stop working), nothing personal on it, at a fixed number
of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import courses
from activities import services as activity_services
from activities.models import Activity, Category, CourseSession
from network import services as network_services
from network.models import Hall
from portal.models import ScreenLink
from portal.screen import screen_for
from portal.services import screen_link_reset, screen_token
from tests.activities.factories import published_activity

pytestmark = pytest.mark.django_db


def _today(hall, title="广场舞展演"):
    # Today 23:00 to 23:59 local time: today's, and not yet over whenever the suite runs.
    activity = published_activity(hall, capacity=20, title=title)
    when = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when.replace(minute=59))
    return activity


def test_the_screen_counts_the_scope(cast):
    _today(cast.branch)
    _today(cast.other_county_branch)
    published_activity(cast.point, start_in=timedelta(days=40))  # not this week
    screen = screen_for([Hall.objects.get(pk=cast.county.pk)])
    assert screen.title == "官渡区文化馆"
    assert screen.today == 1
    coverage = {row["kind"]: row for row in screen.coverage}
    # 官渡区: the county, 2 branches and 3 points are open; the task table sets its targets.
    assert coverage["main"]["open"] == 1 and coverage["branch"]["open"] == 2
    assert coverage["point"]["open"] == 3
    assert coverage["branch"]["target"] and coverage["branch"]["target"] >= 2
    city = screen_for([Hall.objects.get(pk=cast.centre.pk)])
    assert city.today == 2
    assert {row["kind"]: row["open"] for row in city.coverage}["main"] == 2
    # Below a county the task table has no row: no target.
    branch = Hall.objects.get(pk=cast.branch.pk)
    assert all(row["target"] is None for row in screen_for([branch]).coverage)


def test_staff_open_their_scope_and_others_get_login_or_404(client, cast):
    _today(cast.branch, title="关上花灯戏")
    _today(cast.other_county_branch, title="华山合唱")
    activity = Activity.objects.get(title="关上花灯戏")
    # Booked an hour before it starts: run after 23:00 local time, "now" is past its start.
    activity_services.booking_create(
        activity_id=activity.pk,
        name="张三丰",
        phone="13800138000",
        seats=2,
        now=activity.start - timedelta(hours=1),
    )
    url = reverse("screen")
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]

    client.force_login(cast.county_director)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "官渡区文化馆" in html and "关上花灯戏" in html and "华山合唱" not in html
    assert "张三丰" not in html and "13800138000" not in html  # nothing personal
    assert "<script>" not in html and 'src="/static/js/screen.js"' in html

    client.force_login(cast.other_county_director)
    assert "关上花灯戏" not in client.get(url).content.decode()

    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(nobody)
    assert client.get(url).status_code == 404


def test_the_secret_link_opens_the_hall_without_an_account_until_reset(client, cast):
    _today(cast.branch, title="关上花灯戏")
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    old = reverse("screen_public", args=[screen_token(link)])
    page = client.get(old)
    assert page.status_code == 200 and "关上花灯戏" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"

    screen_link_reset(hall=cast.county, by=cast.centre_director)  # staff above may reset too
    assert client.get(old).status_code == 404
    fresh = ScreenLink.objects.get(hall=cast.county)
    assert client.get(reverse("screen_public", args=[screen_token(fresh)])).status_code == 200
    # A forged or garbled token is no link.
    for token in ("x", f"{cast.county.pk}.{fresh.key}", f"{cast.centre.pk}.{fresh.key}:abc"):
        assert client.get(reverse("screen_public", args=[token])).status_code == 404


def test_only_staff_of_the_hall_or_above_reset_it(cast):
    with pytest.raises(PermissionDenied):
        screen_link_reset(hall=cast.county, by=cast.other_county_director)
    with pytest.raises(PermissionDenied):
        screen_link_reset(hall=cast.county, by=cast.county_official)
    with pytest.raises(PermissionDenied):
        screen_link_reset(hall=cast.county, by=cast.branch_staff)


def test_the_admin_adds_shows_and_resets_links_in_scope(client, cast):
    client.force_login(cast.county_director)
    add = client.post(reverse("admin:portal_screenlink_add"), {"hall": cast.branch.pk})
    assert add.status_code == 302
    link = ScreenLink.objects.get(hall=cast.branch)
    change = client.get(reverse("admin:portal_screenlink_change", args=[link.pk]))
    html = change.content.decode()
    assert f"http://testserver/screen/{screen_token(link)}/" in html and "重置链接" in html
    assert '<div class="readonly">county_director</div>' in html  # 生成人: no name, so the account
    old_key = link.key
    reset = client.post(reverse("admin:portal_screenlink_reset", args=[link.pk]))
    assert reset.status_code == 302
    link.refresh_from_db()
    assert link.key != old_key
    # Out of scope: the row does not exist for this account; an official may look, not reset.
    client.force_login(cast.other_county_director)
    assert client.get(reverse("admin:portal_screenlink_change", args=[link.pk])).status_code == 404
    assert client.post(reverse("admin:portal_screenlink_reset", args=[link.pk])).status_code == 404
    assert (
        client.post(reverse("admin:portal_screenlink_add"), {"hall": cast.branch.pk}).status_code
        == 200
    )  # the hall is not one it may pick: a form error
    changelist = client.get(reverse("admin:portal_screenlink_changelist"))
    assert changelist.context["cl"].result_count == 0
    client.force_login(cast.county_official)
    assert client.post(reverse("admin:portal_screenlink_reset", args=[link.pk])).status_code == 403


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# The link; coverage (halls, counties); activities (counts, list, months); orders; returns;
# the assessment's scheme (none here: the test below adds one).
SCREEN_QUERIES = 9


def test_the_screen_costs_the_same_queries_for_a_bigger_tree(client, cast):
    _today(cast.branch)
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    url = reverse("screen_public", args=[screen_token(link)])
    small = _queries(client, url)
    county = Hall.objects.get(pk=cast.county.pk)
    for b in range(3):
        branch = network_services.hall_create(parent=county, name=f"新{b}文化站", locality=f"新{b}")
        for p in range(2):
            point = network_services.hall_create(
                parent=branch, name=f"新{b}村{p}服务中心", locality=f"新{b}{p}"
            )
            _today(point)
    assert _queries(client, url) == small == SCREEN_QUERIES


def test_with_an_assessment_the_screen_grades_the_halls_below(client, cast):
    from evaluation.scoring import services as scoring

    year = timezone.localtime().year - 1
    scheme = scoring.scheme_create(year=year)
    dimension = scheme.dimensions.exclude(source="satisfaction").order_by("order").first()
    scoring.score_set(
        dimension=dimension, hall=cast.branch, points=dimension.max_points, by=cast.superuser
    )
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    url = reverse("screen_public", args=[screen_token(link)])
    html = client.get(url).content.decode()
    assert "关上街道综合文化站" in html and "考核等次分布" in html
    assert _queries(client, url) == SCREEN_QUERIES + 5


def test_a_superuser_sees_the_whole_network_and_an_official_their_scope(client, cast):
    _today(cast.other_county_branch, title="华山合唱")
    client.force_login(cast.superuser)
    page = client.get(reverse("screen"))
    assert page.status_code == 200 and "全部文化馆" in page.content.decode()
    assert "华山合唱" in page.content.decode()
    client.force_login(cast.county_official)
    html = client.get(reverse("screen")).content.decode()
    assert "官渡区文化馆" in html and "华山合唱" not in html


def _course(hall, title, first, weeks):
    activity = published_activity(hall, title=title, category=Category.TRAINING)
    courses.course_sessions_save(
        activity=activity,
        saved=[
            CourseSession(start=first + timedelta(weeks=n), end=first + timedelta(weeks=n, hours=2))
            for n in range(weeks)
        ],
    )
    return activity


def _at(hall, title, when):
    activity = published_activity(hall, title=title)
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=2))


def test_a_course_shows_and_counts_by_its_session_in_the_week(cast):
    tz = timezone.get_current_timezone()
    now = datetime(2026, 12, 9, 10, 0, tzinfo=tz)  # a Wednesday
    # Saturdays from 10-31: this week's session is 12-12 09:30.
    _course(cast.branch, "少儿舞蹈班", datetime(2026, 10, 31, 9, 30, tzinfo=tz), weeks=8)
    # Mondays from 11-02: this week's session (12-07) is over, the next is next week's.
    _course(cast.branch, "书法班", datetime(2026, 11, 2, 19, 0, tzinfo=tz), weeks=8)
    _at(cast.branch, "花灯戏", datetime(2026, 12, 10, 14, 0, tzinfo=tz))
    _at(cast.point, "广场舞", datetime(2026, 12, 13, 15, 0, tzinfo=tz))

    screen = screen_for([Hall.objects.get(pk=cast.county.pk)], now=now)

    shown = [
        (a.title, timezone.localtime(a.next_start).strftime("%m-%d %H:%M")) for a in screen.upcoming
    ]
    assert shown == [
        ("花灯戏", "12-10 14:00"),
        ("少儿舞蹈班", "12-12 09:30"),
        ("广场舞", "12-13 15:00"),
    ]
    assert screen.week == 4  # both courses meet this week
    assert screen.today == 0


def test_the_page_shows_a_courses_current_session_not_its_first(client, cast):
    now = timezone.now()
    current = now - timedelta(minutes=30)
    _course(cast.branch, "老年合唱班", current - timedelta(weeks=6), weeks=8)
    link = screen_link_reset(hall=cast.county, by=cast.county_director)
    url = reverse("screen_public", args=[screen_token(link)])
    html = client.get(url).content.decode()
    assert "老年合唱班" in html
    shown = timezone.localtime(current).strftime("%m-%d %H:%M")
    first = timezone.localtime(current - timedelta(weeks=6)).strftime("%m-%d %H:%M")
    assert f"<time>{shown}</time>" in html and f"<time>{first}</time>" not in html
    assert _queries(client, url) == SCREEN_QUERIES


def test_an_activity_under_way_says_until_when(cast):
    tz = timezone.get_current_timezone()
    now = datetime(2026, 12, 9, 10, 0, tzinfo=tz)  # a Wednesday
    exhibition = published_activity(cast.branch, title="非遗展览")
    Activity.objects.filter(pk=exhibition.pk).update(
        start=datetime(2026, 12, 5, 9, 0, tzinfo=tz), end=datetime(2026, 12, 13, 17, 0, tzinfo=tz)
    )
    # This morning's session of a course, under way: until its own end, not the course's.
    _course(cast.branch, "书法班", datetime(2026, 11, 11, 9, 30, tzinfo=tz), weeks=8)

    screen = screen_for([Hall.objects.get(pk=cast.county.pk)], now=now)
    from django.template.loader import render_to_string

    html = render_to_string("portal/screen.html", {"screen": screen})
    assert '<time>12-05 09:00</time> <span class="ongoing">进行中,至 12-13</span>' in html
    assert '<time>12-09 09:30</time> <span class="ongoing">进行中,至 11:30</span>' in html
