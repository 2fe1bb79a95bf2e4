"""Weekly opening hours, closure dates and public holidays: the services that write them, the one
selector that says "open now / next opening", the hall's admin inline, and the pages."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from network import services
from network.models import HallClosure, HallStatus, OpeningHours, Weekday
from network.selectors import hall_opening

# 2026-10-01..07 is the National Day holiday in fixtures/holidays.csv; 2026-10-10 (a Saturday)
# is worked instead. 2026-09-29 is an ordinary Tuesday.
TUESDAY = date(2026, 9, 29)


def at(day: date, hhmm: str) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.fromisoformat(hhmm)))


def add(hall, weekday: int, opens: str, closes: str) -> OpeningHours:
    return services.opening_hours_add(
        hall=hall,
        weekday=weekday,
        opens=time.fromisoformat(opens),
        closes=time.fromisoformat(closes),
    )


@pytest.fixture
def hours(cast):
    """The branch: every day 08:30–11:30 and 14:30–21:00."""
    for day in range(7):
        add(cast.branch, day, "08:30", "11:30")
        add(cast.branch, day, "14:30", "21:00")
    return cast.branch


# --- Services -----------------------------------------------------------------------------------


def test_a_range_must_close_after_it_opens(cast):
    with pytest.raises(ValidationError) as exc:
        add(cast.branch, 0, "21:00", "08:00")
    assert "跨过午夜" in str(exc.value.message_dict["closes"])
    assert not OpeningHours.objects.exists()


def test_ranges_of_a_day_may_not_overlap_but_other_days_are_free(cast):
    add(cast.branch, 0, "09:00", "12:00")
    with pytest.raises(ValidationError) as exc:
        add(cast.branch, 0, "11:00", "13:00")
    assert "09:00–12:00" in str(exc.value.message_dict["opens"])
    add(cast.branch, 0, "12:00", "17:00")  # touching is not overlapping
    add(cast.branch, 1, "11:00", "13:00")
    add(cast.point, 0, "11:00", "13:00")
    assert OpeningHours.objects.count() == 4


def test_moving_a_range_checks_the_others_but_not_itself(cast):
    morning = add(cast.branch, 0, "09:00", "12:00")
    add(cast.branch, 0, "14:00", "17:00")
    services.opening_hours_update(hours=morning, weekday=0, opens=time(8, 0), closes=time(12, 30))
    with pytest.raises(ValidationError):
        services.opening_hours_update(
            hours=morning, weekday=0, opens=time(8, 0), closes=time(15, 0)
        )
    morning.refresh_from_db()
    assert (morning.opens, morning.closes) == (time(8, 0), time(12, 30))


def test_one_closure_a_day(cast):
    services.hall_closure_add(hall=cast.branch, date=TUESDAY, reason="设备检修")
    with pytest.raises(ValidationError) as exc:
        services.hall_closure_add(hall=cast.branch, date=TUESDAY)
    assert "2026-09-29" in str(exc.value)
    assert HallClosure.objects.count() == 1


def test_a_week_for_many_halls_is_checked_before_anything_is_written(cast):
    with pytest.raises(ValidationError):
        services.opening_hours_set_week(
            halls=[cast.point, cast.point2],
            week={0: [(time(9), time(12)), (time(11), time(14))]},
        )
    assert not OpeningHours.objects.exists()
    written = services.opening_hours_set_week(
        halls=[cast.point, cast.point2], week={0: [(time(9), time(12))], 6: [(time(9), time(12))]}
    )
    assert written == 4


# --- Open now / next opening --------------------------------------------------------------------


def test_open_inside_a_range_with_its_closing_time(hours):
    opening = hall_opening(hours, now=at(TUESDAY, "10:00"))
    assert opening.is_open
    assert opening.closes_at == at(TUESDAY, "11:30")


def test_between_the_ranges_of_a_day_the_next_opening_is_the_afternoon(hours):
    opening = hall_opening(hours, now=at(TUESDAY, "12:00"))
    assert not opening.is_open
    assert opening.next_open == at(TUESDAY, "14:30")


def test_at_closing_time_it_is_closed_and_opens_next_morning(hours):
    opening = hall_opening(hours, now=at(TUESDAY, "21:00"))
    assert not opening.is_open
    assert opening.next_open == at(date(2026, 9, 30), "08:30")


def test_public_holidays_are_closed_until_the_holiday_ends(hours):
    # 2026-09-30 evening: the next morning is National Day; the hall reopens on 10-08.
    opening = hall_opening(hours, now=at(date(2026, 9, 30), "21:30"))
    assert opening.next_open == at(date(2026, 10, 8), "08:30")
    during = hall_opening(hours, now=at(date(2026, 10, 2), "10:00"))
    assert not during.is_open
    assert during.closed_today == "法定节假日闭馆"


def test_a_hall_with_holiday_hours_keeps_them_on_public_holidays(hours):
    add(hours, Weekday.HOLIDAY, "09:00", "12:00")
    during = hall_opening(hours, now=at(date(2026, 10, 2), "10:00"))
    assert during.is_open and during.closes_at == at(date(2026, 10, 2), "12:00")
    evening = hall_opening(hours, now=at(date(2026, 10, 2), "20:00"))
    assert not evening.is_open
    # Its weekday (a Friday) would be open at 20:00; the holiday keeps the holiday hours.
    assert evening.next_open == at(date(2026, 10, 3), "09:00")
    assert evening.closed_today == ""
    assert hall_opening(hours, now=at(date(2026, 10, 2), "10:00")).week[7] == (
        "法定节假日",
        [(time(9), time(12))],
    )


def test_a_closure_date_closes_a_holiday_too(hours):
    add(hours, Weekday.HOLIDAY, "09:00", "12:00")
    services.hall_closure_add(hall=hours, date=date(2026, 10, 2), reason="场馆维修")
    opening = hall_opening(hours, now=at(date(2026, 10, 2), "10:00"))
    assert not opening.is_open and opening.closed_today == "场馆维修"


def test_a_worked_weekend_day_keeps_its_own_weekday_hours(cast):
    add(cast.branch, 5, "09:00", "12:00")  # Saturdays only
    opening = hall_opening(cast.branch, now=at(date(2026, 10, 10), "10:00"))
    assert opening.is_open


def test_a_closure_date_is_skipped_and_named(hours):
    services.hall_closure_add(hall=hours, date=TUESDAY, reason="设备检修")
    opening = hall_opening(hours, now=at(TUESDAY, "10:00"))
    assert not opening.is_open
    assert opening.closed_today == "设备检修"
    assert opening.next_open == at(date(2026, 9, 30), "08:30")
    assert [c.date for c in opening.closures] == [TUESDAY]


def test_a_hall_without_hours_or_not_open_is_never_open(hours, cast):
    assert not hall_opening(cast.point, now=at(TUESDAY, "10:00")).has_hours
    services.hall_update(hall=hours, status=HallStatus.CLOSED)
    hours.refresh_from_db()
    opening = hall_opening(hours, now=at(TUESDAY, "10:00"))
    assert opening.has_hours and not opening.is_open and opening.next_open is None


def test_a_late_range_is_read_in_beijing_time(hours, settings):
    # 20:30 in Beijing is 12:30 UTC: open, whatever zone the server's clock runs in.
    moment = datetime(2026, 9, 29, 12, 30, tzinfo=timezone.get_fixed_timezone(0))
    assert hall_opening(hours, now=moment).is_open


# --- Pages --------------------------------------------------------------------------------------


def test_hall_page_shows_the_week_the_state_and_the_note(client, hours):
    services.hall_update(hall=hours, opening_hours="暑期延长至 21:30")
    html = client.get(reverse("network:hall_detail", args=[hours.pk])).content.decode()
    assert "08:30–11:30, 14:30–21:00" in html
    assert ("开放中" in html) or ("已闭馆" in html)
    # No holiday row: closed on public holidays, and the week says so.
    assert re.search(r"法定节假日</th><td><span[^>]*>闭馆", html)
    assert "暑期延长至 21:30" in html


def test_hall_page_without_hours_says_not_published(client, cast):
    html = client.get(reverse("network:hall_detail", args=[cast.point.pk])).content.decode()
    assert "开放中" not in html and "已闭馆" not in html
    assert "暂未公布" in html


# --- Admin inline -------------------------------------------------------------------------------


def change_url(hall) -> str:
    return reverse("admin:network_hall_change", args=[hall.pk])


def hall_post(hall, *, hours=(), closures=()) -> dict:
    data = {
        "parent": hall.parent_id,
        "code": hall.code or "",
        "name": hall.name,
        "locality": hall.locality,
        "status": hall.status,
        "operator": hall.operator,
        "operator_name": "",
        "address": "",
        "latitude": "",
        "longitude": "",
        "phone": "",
        "opening_hours": "",
        "services": "",
        "weekly_hours-TOTAL_FORMS": len(hours),
        "weekly_hours-INITIAL_FORMS": 0,
        "closures-TOTAL_FORMS": len(closures),
        "closures-INITIAL_FORMS": 0,
    }
    for i, (weekday, opens, closes) in enumerate(hours):
        data |= {
            f"weekly_hours-{i}-weekday": weekday,
            f"weekly_hours-{i}-opens": opens,
            f"weekly_hours-{i}-closes": closes,
        }
    for i, (day, reason) in enumerate(closures):
        data |= {f"closures-{i}-date": day, f"closures-{i}-reason": reason}
    return data


def test_staff_edit_hours_and_closures_in_the_halls_admin(client, cast):
    client.force_login(cast.branch_staff)
    page = client.get(change_url(cast.branch))
    assert "每周开放时段" in page.content.decode()
    data = hall_post(
        cast.branch,
        hours=[(0, "09:00", "12:00"), (0, "14:00", "17:30")],
        closures=[("2026-12-20", "换届选举")],
    )
    response = client.post(change_url(cast.branch), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert OpeningHours.objects.filter(hall=cast.branch).count() == 2
    assert HallClosure.objects.get(hall=cast.branch).reason == "换届选举"


def test_an_overlap_in_the_inline_rolls_the_whole_page_back(client, cast):
    client.force_login(cast.branch_staff)
    data = hall_post(
        cast.branch,
        hours=[(0, "09:00", "12:00"), (0, "11:00", "17:30")],
        closures=[("2026-12-20", "换届选举")],
    )
    data["services"] = "新的服务内容"
    response = client.post(change_url(cast.branch), data)
    assert response.status_code == 200
    assert "重叠" in response.content.decode()
    assert not OpeningHours.objects.exists()
    assert not HallClosure.objects.exists()
    cast.branch.refresh_from_db()
    assert cast.branch.services == ""


def test_a_range_closing_before_it_opens_is_a_form_error(client, cast):
    client.force_login(cast.branch_staff)
    response = client.post(
        change_url(cast.branch), hall_post(cast.branch, hours=[(0, "17:00", "09:00")])
    )
    assert response.status_code == 200
    assert not OpeningHours.objects.exists()


def test_wrong_scope_gets_404_and_an_official_only_reads(client, cast):
    client.force_login(cast.other_branch_staff)
    assert client.get(change_url(cast.branch)).status_code == 404
    assert (
        client.post(change_url(cast.branch), hall_post(cast.branch, hours=[(0, "9:00", "12:00")]))
    ).status_code == 404
    client.force_login(cast.county_official)
    assert client.get(change_url(cast.branch)).status_code == 200
    response = client.post(
        change_url(cast.branch), hall_post(cast.branch, hours=[(0, "09:00", "12:00")])
    )
    assert response.status_code == 403
    assert not OpeningHours.objects.exists()


def test_a_new_hall_gets_its_hours_with_it(client, cast):
    from network.models import Hall

    client.force_login(cast.branch_staff)
    data = hall_post(cast.point, hours=[(6, "08:30", "11:30")], closures=[("2026-12-24", "")])
    data |= {"parent": cast.branch.pk, "code": "530111001009", "name": "关上九社区服务中心"}
    data["locality"] = "关上九社区"
    response = client.post(reverse("admin:network_hall_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    hall = Hall.objects.get(code="530111001009")
    assert [str(h) for h in hall.weekly_hours.all()] == ["周日 08:30–11:30"]
    assert hall.closures.get().date == date(2026, 12, 24)


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("zh-hans", "下次开放:9月29日 星期二 14:30"),
        ("en", "Next open: Tuesday, September 29, 14:30"),
    ],
)
def test_the_next_opening_is_written_in_the_page_s_language(cast, language, shown):
    from types import SimpleNamespace

    from django.template.loader import render_to_string
    from django.utils import translation

    opening = SimpleNamespace(
        has_hours=True, is_open=False, closed_today="", next_open=at(TUESDAY, "14:30"), week=[]
    )
    with translation.override(language):
        html = render_to_string("network/_opening.html", {"hall": cast.branch, "opening": opening})
    assert shown in html
