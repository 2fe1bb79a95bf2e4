"""The admin home page: each account's scope at a glance, at a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity, Booking
from activities.orders import services as order_services
from activities.orders.models import Order
from evaluation.returns.models import ReturnStatus, ServiceReturn
from evaluation.scoring import services as scoring
from network import services as network_services
from network.models import Hall
from portal.dashboard import dashboard_for
from tests.activities.factories import published_activity

pytestmark = pytest.mark.django_db
# Session and user; the scope and the names of its halls; activities and participants by month,
# orders, figures submitted; the assessment (scheme, halls, dimensions, scores, deductions,
# satisfaction); the latest reports; then Django's own log of recent actions. The 待办 adds
# seven: orders, the two returns, the reporting windows, dispatches, today's activities and
# inspections (tests/portal/test_todo.py).
INDEX_QUERIES = 23


def _held(hall, *, days_ago=3, checked_in=0):
    activity = published_activity(hall, capacity=20)
    if checked_in:
        booking = activity_services.booking_create(
            activity_id=activity.pk, name="张三", phone="13800138000", seats=checked_in
        )
        Booking.objects.filter(pk=booking.pk).update(checked_in_at=timezone.now())
    when = timezone.now() - timedelta(days=days_ago)
    Activity.objects.filter(pk=activity.pk).update(start=when, end=when + timedelta(hours=2))
    return activity


def _network(cast):
    _held(cast.county, checked_in=3)
    _held(cast.branch, checked_in=2)
    _held(cast.point, days_ago=40)
    _held(cast.other_branch)
    _held(cast.other_county, checked_in=4)
    _held(cast.branch, days_ago=400)  # older than twelve months
    order = order_services.order_create(
        point_id=cast.point.pk, name="王五", phone="13900000001", description="想看花灯戏"
    )
    order_services.order_accept(order=order, by_user=cast.branch_staff)
    order_services.order_create(
        point_id=cast.other_county_point.pk, name="赵六", phone="13900000002", description="电影"
    )
    year = timezone.localtime().year - 1
    for hall in (cast.branch, cast.point, cast.other_county_branch):
        ServiceReturn.objects.create(hall=hall, year=year, status=ReturnStatus.SUBMITTED)
    scheme = scoring.scheme_create(year=year)
    dimension = scheme.dimensions.exclude(source="satisfaction").order_by("order").first()
    scoring.score_set(
        dimension=dimension, hall=cast.branch, points=dimension.max_points, by=cast.superuser
    )


def test_the_county_director_sees_the_county(cast):
    _network(cast)
    board = dashboard_for(cast.county_director)
    assert board.scope_label == "官渡区文化馆"
    assert len(board.months) == 12 and board.months[-1] == timezone.localtime().strftime("%Y-%m")
    assert board.activities_total == 4 and board.participants_total == 5
    assert board.orders == {"received": 1, "answered": 1, "on_time": 1, "fulfilled": 0}
    # The halls below the county (not the county itself), as the reports and the export count.
    assert board.figures == {"expected": 5, "service": 2, "asset": 0}
    # Only the scored branch is graded and listed; the unscored one is no failure.
    assert [row["name"] for row in board.top] == ["关上街道综合文化站"]
    assert dict(board.grades) == {"优秀": 1, "良好": 0, "合格": 0, "不合格": 0}


def test_a_branch_sees_its_branch_and_a_centre_the_city(cast):
    _network(cast)
    branch = dashboard_for(cast.branch_staff)
    assert branch.activities_total == 2 and branch.participants_total == 2
    # The two points below the branch; the branch's own return is not one it waits for.
    assert branch.figures == {"expected": 2, "service": 1, "asset": 0}
    assert branch.top == []  # neither of its points was scored

    city = dashboard_for(cast.centre_director)
    assert city.activities_total == 5 and city.participants_total == 9
    assert city.orders["received"] == 2
    assert city.top == []  # no county was scored
    assert dashboard_for(cast.superuser).activities_total == 5

    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    assert dashboard_for(nobody) is None


def test_the_home_page_draws_the_charts_of_the_scope(client, cast):
    _network(cast)
    client.force_login(cast.other_county_director)
    page = client.get(reverse("admin:index"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="portal-dashboard"' in html and "范围:五华区文化馆" in html
    assert html.count("<svg") >= 3
    assert 'data-figure="activities"><strong>1</strong>' in html
    # The app list is still there below it.
    assert page.context["app_list"] and 'id="content-main"' in html
    english = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Scope: 五华区文化馆 (last 12 months)" in english


def _index_queries(client, user) -> int:
    client.force_login(user)
    user_model = get_user_model()
    client.get(reverse("admin:index"))  # warm up caches (content types, scheme)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert user_model.objects.filter(pk=user.pk).exists()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["county_director", "centre_director", "branch_staff"])
def test_the_home_page_costs_the_same_queries_for_a_bigger_tree(client, cast, who):
    _network(cast)
    small = _index_queries(client, getattr(cast, who))
    county = Hall.objects.get(pk=cast.county.pk)
    branch = Hall.objects.get(pk=cast.branch.pk)
    for b in range(3):
        new_branch = network_services.hall_create(
            parent=county, name=f"新街道{b}文化站", locality=f"新{b}"
        )
        for p in range(3):
            point = network_services.hall_create(
                parent=new_branch if p else branch, name=f"新{b}村{p}服务中心", locality=f"新{b}{p}"
            )
            _held(point, checked_in=1, days_ago=10 * p + 1)
            Order.objects.create(
                code=f"T{b}{p}",
                point=point,
                handler=county,
                name="王五",
                phone="13900000001",
                description="点单",
                respond_by=timezone.now(),
            )
    assert _index_queries(client, getattr(cast, who)) == small == INDEX_QUERIES


def test_future_activities_are_not_held_and_months_read_as_months(cast):
    _held(cast.branch, days_ago=0)
    published_activity(cast.branch, start_in=timedelta(hours=2))  # later today or this month
    board = dashboard_for(cast.branch_staff)
    assert board.activities_total == 1
    html = str(board.charts["activities"])
    assert f">{timezone.localtime().month}月</text>" in html and "26-" not in html


@pytest.mark.parametrize("top", [5, 7, 9, 11, 13, 250])
def test_count_axes_tick_on_whole_numbers(top):
    import re

    from common.charts import Series, bar_chart

    svg = str(bar_chart("t", ["a", "b"], [Series("n", [top, 1])]))
    ticks = re.findall(r'text-anchor="end" fill="#555">([^<]+)<', svg)
    assert len(ticks) == 5
    assert all("." not in tick for tick in ticks), ticks
