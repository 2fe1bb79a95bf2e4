"""Venue use in the yearly return (场馆开放时长、使用场次、服务人次): filled from a hall's own
venues, summed over the subtree by the roll-up like every count."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.test import override_settings

from activities.venues import services
from evaluation.returns.models import ServiceReturn
from evaluation.returns.selectors import portal_figures
from tests.activities.venues.factories import in_days, make_venue, reserve

pytestmark = pytest.mark.django_db


def test_the_return_autofills_venue_use_from_the_halls_own_venues(cast, tmp_path):
    calendar = tmp_path / "holidays.csv"
    calendar.write_text("date,kind,name\n")
    first = in_days(1)
    year = first.year
    venue = make_venue(cast.branch, hours=[(first.weekday(), time(9), time(12))])
    county_venue = make_venue(cast.county, hours=[(0, time(8), time(10))])
    came = reserve(venue, day=first, hour=9, party_size=12)
    reserve(venue, day=first, hour=10, party_size=30, phone="13900000001")  # never came
    services.reservation_check_in(reservation=came, by=cast.branch_staff, now=came.start)
    with override_settings(HOLIDAY_CALENDAR=calendar):
        branch = portal_figures(hall_id=cast.branch.pk, year=year)
        county = portal_figures(hall_id=cast.county.pk, year=year)
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    weekdays = [d for d in days if d.year == year]
    same = sum(d.weekday() == first.weekday() for d in weekdays)
    mondays = sum(d.weekday() == 0 for d in weekdays)
    assert (branch["venue_open_hours"], branch["venue_sessions"], branch["venue_people"]) == (
        3 * same,
        1,
        12,
    )
    # The county counts its own venue only: the roll-up adds the branch's return to it.
    assert (county["venue_open_hours"], county["venue_sessions"], county["venue_people"]) == (
        2 * mondays,
        0,
        0,
    )
    assert county_venue.pk


def test_venue_figures_are_autofilled_counts_that_add_up():
    for name in ("venue_open_hours", "venue_sessions", "venue_people", "trainees"):
        assert name in ServiceReturn.FIGURES and name in ServiceReturn.AUTOFILLED
        assert ServiceReturn.rollup_of(name) == "sum"
    assert ServiceReturn.figure_label("venue_people") == "场馆服务人次"


def test_the_hall_page_shows_its_venues_with_this_years_use(client, cast):
    from django.urls import reverse

    first = in_days(1)
    venue = make_venue(cast.branch, name="多功能排练厅")
    make_venue(cast.point, name="村头小舞台")  # another hall's
    came = reserve(venue, day=first, hour=9, party_size=12)
    services.reservation_check_in(reservation=came, by=cast.branch_staff, now=came.start)
    html = client.get(reverse("network:hall_detail", args=[cast.branch.pk])).content.decode()
    assert "多功能排练厅" in html and "村头小舞台" not in html
    assert reverse("venues:venue_detail", args=[venue.pk]) in html
    if first.year == in_days(0).year:  # not on New Year's Eve
        assert "今年已使用 1 场次,服务 12 人次" in html
