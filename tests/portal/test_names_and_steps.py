"""Staff pages name people by their names and states in words: an order's history, a return's
报送人 and 修改人, a dispatch's 申请人, a venue reservation's staff, a joint meeting's 记录人, an
export's 发起人; the return's steps sit above the form's own buttons."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.orders import services as order_services
from activities.resources import services as resource_services
from activities.resources.models import ResourceKind
from activities.venues import services as venue_services
from evaluation.models import ExportRun
from evaluation.reports import services as report_services
from evaluation.reports.models import JointMeeting
from evaluation.returns import services as return_services
from evaluation.returns.models import ReturnKind
from tests.activities.venues.factories import make_venue, reserve
from tests.evaluation.factories import open_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(cast):
    for user, name in (
        (cast.branch_staff, "李关上"),
        (cast.county_director, "王官渡"),
    ):
        user.first_name = name
        user.save(update_fields=["first_name"])
    return cast


def test_an_orders_history_says_its_states_and_people_in_words(client, named):
    order = order_services.order_create(
        point_id=named.point.pk, name="王五", phone="13900000001", description="想看花灯戏"
    )
    order_services.order_accept(order=order, by_user=named.branch_staff)
    client.force_login(named.branch_staff)
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "已提交" in html and "已受理" in html and "提交点单" in html
    assert "李关上" in html
    assert ">submitted<" not in html and ">accepted<" not in html
    assert ">branch_staff<" not in html


def test_a_returns_steps_come_before_its_buttons_under_one_heading(client, named):
    year = timezone.localtime().year
    open_window(ReturnKind.SERVICE, year)
    annual = return_services.return_get_or_create(
        kind=ReturnKind.SERVICE, hall=named.branch, year=year
    )
    return_services.return_submit(
        kind=ReturnKind.SERVICE, annual_return=annual, by=named.branch_staff
    )
    client.force_login(named.county_director)
    html = client.get(
        reverse("admin:returns_servicereturn_change", args=[annual.pk])
    ).content.decode()
    assert html.count("报送与审核") == 1
    assert "李关上" in html  # 报送人
    review, close = html.index('value="approve"'), html.index('class="submit-row"')
    assert review < close
    # The step buttons belong to their own forms, outside the change form.
    assert 'form="report-step-review"' in html and 'id="report-step-review"' in html
    response = client.post(
        reverse("admin:returns_servicereturn_workflow", args=[annual.pk]),
        {"action": "approve", "comment": ""},
    )
    assert response.status_code == 302
    annual.refresh_from_db()
    assert annual.status == "approved"
    html = client.get(
        reverse("admin:returns_servicereturn_change", args=[annual.pk])
    ).content.decode()
    assert "王官渡" in html  # 审核人 and 修改人


def test_a_dispatch_names_who_asked(client, named):
    truck = resource_services.resource_create(
        hall=named.county,
        kind=ResourceKind.STAGE_TRUCK,
        name="流动舞台车",
        by=named.county_director,
    )
    start = timezone.now() + timedelta(days=10)
    dispatch = resource_services.dispatch_request(
        resource=truck,
        requesting_hall=named.branch,
        start=start,
        end=start + timedelta(days=1),
        purpose="送戏下乡",
        by=named.branch_staff,
    )
    client.force_login(named.county_director)
    html = client.get(
        reverse("admin:resources_dispatch_change", args=[dispatch.pk])
    ).content.decode()
    assert "李关上" in html and ">branch_staff<" not in html


def test_a_venue_reservation_names_who_booked_and_who_checked_in(client, named):
    reservation = reserve(make_venue(named.branch), by=named.branch_staff)
    venue_services.reservation_check_in(
        reservation=reservation, by=named.county_director, now=reservation.start
    )
    client.force_login(named.county_director)
    html = client.get(
        reverse("admin:venues_reservation_change", args=[reservation.pk])
    ).content.decode()
    assert "李关上" in html  # 代约工作人员
    assert "王官渡" in html  # 签到登记人
    assert ">branch_staff<" not in html and ">county_director<" not in html


def test_a_reservation_series_names_who_made_it(client, named):
    first = timezone.localdate() + timedelta(days=1)
    series = venue_services.series_create(
        venue_id=make_venue(named.branch).pk,
        weekday=first.weekday(),
        starts_at=time(19),
        ends_at=time(21),
        first_day=first,
        last_day=first + timedelta(weeks=2),
        name="李四",
        phone="13900139000",
        purpose="花灯排练",
        party_size=12,
        by=named.branch_staff,
    )
    client.force_login(named.county_director)
    html = client.get(
        reverse("admin:venues_reservationseries_change", args=[series.pk])
    ).content.decode()
    assert "李关上" in html and ">branch_staff<" not in html


def test_a_joint_meeting_names_who_recorded_it(client, named):
    meeting = report_services.joint_meeting_save(
        meeting=JointMeeting(
            hall=named.county,
            quarter="2026Q3",
            held_on=date(2026, 10, 12),
            attendees="张馆长",
            agenda="三季度联席会议",
        ),
        by=named.county_director,
    )
    client.force_login(named.county_director)
    html = client.get(
        reverse("admin:reports_jointmeeting_change", args=[meeting.pk])
    ).content.decode()
    assert "王官渡" in html and ">county_director<" not in html


def test_an_export_names_who_started_it(client, named):
    run = ExportRun.objects.create(
        kind="statistics", year=2025, within=named.county, user=named.county_director
    )
    client.force_login(named.county_director)
    html = client.get(reverse("admin:evaluation_exportrun_change", args=[run.pk])).content.decode()
    assert "王官渡" in html and ">county_director<" not in html
