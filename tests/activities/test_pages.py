"""The residents' activity pages: list and filters, an activity, booking, the booking's page,
lookup and cancel, notices; bad input, rate limits and what each page costs in queries."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from activities import services, views
from activities.models import Activity, Booking, Category, Notice
from common.cache import ProcessMemory
from network import services as network_services
from tests.conftest import verify_client

from .factories import published_activity

pytestmark = pytest.mark.django_db

LIST = "/activities/"
LOOKUP = "/bookings/lookup/"


def detail_url(activity) -> str:
    return reverse("activities:activity_detail", args=[activity.pk])


def main(response) -> str:
    html = response.content.decode()
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def card_titles(response) -> list[str]:
    return re.findall(r'<span class="act-title">([^<]*)</span>', main(response))


def book(client, activity, *, name="张三", phone="13800138000", seats=1, **extra):
    return client.post(
        detail_url(activity), {"name": name, "phone": phone, "seats": seats}, **extra
    )


def book_direct(activity, phone, seats=1, **kw) -> Booking:
    return services.booking_create(
        activity_id=activity.pk, name="李四", phone=phone, seats=seats, **kw
    )


# --- The list ----------------------------------------------------------------------------------


def test_list_cards_show_title_category_time_place_and_seats(client, cast):
    open_ = published_activity(cast.branch, capacity=20, title="花灯戏专场", venue="二楼多功能厅")
    book_direct(open_, "13900000001", seats=3)
    full = published_activity(cast.point, capacity=1, title="满员的讲座", category=Category.LECTURE)
    book_direct(full, "13900000002")
    free = published_activity(
        cast.county, capacity=None, title="非遗剪纸展", category=Category.EXHIBITION
    )

    response = client.get(LIST)
    html = main(response)
    assert response.status_code == 200
    assert card_titles(response) == ["花灯戏专场", "满员的讲座", "非遗剪纸展"]
    assert "余 17 座" in html and "已满,可候补" in html and "无需预约" in html
    assert "关上街道综合文化站 · 二楼多功能厅" in html
    assert "演出" in html and "讲座" in html and "展览" in html
    start = timezone.localtime(open_.start)
    assert f"{start.month}月{start.day}日" in html and start.strftime("%H:%M") in html
    for activity in (open_, full, free):
        assert f'href="{detail_url(activity)}"' in html


def test_list_leaves_out_drafts_cancelled_and_past_activities(client, cast):
    published_activity(cast.branch, title="会显示的")
    services.activity_create(
        hall=cast.branch,
        category=Category.OTHER,
        title="草稿活动",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=1),
    )
    services.activity_cancel(activity=published_activity(cast.branch, title="取消的活动"))
    published_activity(cast.branch, title="过去的活动", start_in=-timedelta(days=2))
    assert card_titles(client.get(LIST)) == ["会显示的"]


def test_list_filters_by_area_with_everything_below_it(client, cast):
    published_activity(cast.county, title="县馆活动")
    published_activity(cast.branch, title="关上分馆活动")
    published_activity(cast.point, title="关上一社区活动")
    published_activity(cast.other_branch, title="太和分馆活动")
    published_activity(cast.other_county, title="五华区活动")

    by_county = client.get(LIST, {"county": cast.county.pk})
    assert card_titles(by_county) == ["县馆活动", "关上分馆活动", "关上一社区活动", "太和分馆活动"]
    # A chosen county offers its townships, and only them.
    html = main(by_county)
    assert f'<option value="{cast.branch.pk}">关上街道</option>' in html
    assert f'<option value="{cast.other_branch.pk}">太和街道</option>' in html
    assert "华山街道" not in html
    assert "官渡区的文化活动" in html

    by_township = client.get(LIST, {"county": cast.county.pk, "township": cast.branch.pk})
    assert card_titles(by_township) == ["关上分馆活动", "关上一社区活动"]

    by_point = client.get(LIST, {"within": cast.point.pk})
    assert card_titles(by_point) == ["关上一社区活动"]
    assert "关上一社区服务中心及下属场馆" in main(by_point)


def test_a_mobile_service_shows_under_the_village_where_it_is_held(client, cast):
    published_activity(
        cast.county,
        title="流动舞台车进社区",
        category=Category.MOBILE,
        venue_hall=cast.point,
    )
    assert card_titles(client.get(LIST, {"within": cast.point.pk})) == ["流动舞台车进社区"]
    assert card_titles(client.get(LIST, {"within": cast.other_branch.pk})) == []


def test_list_filters_by_category_dates_and_free_seats(client, cast):
    soon = published_activity(cast.branch, title="明天的演出", start_in=timedelta(days=1))
    published_activity(
        cast.branch, title="下周的讲座", category=Category.LECTURE, start_in=timedelta(days=8)
    )
    full = published_activity(cast.branch, title="满员培训", capacity=1, start_in=timedelta(days=2))
    book_direct(full, "13900000003")

    assert card_titles(client.get(LIST, {"category": "lecture"})) == ["下周的讲座"]
    day = timezone.localtime(soon.start).date()
    assert card_titles(client.get(LIST, {"date_from": day, "date_to": day})) == ["明天的演出"]
    assert card_titles(client.get(LIST, {"date_from": day + timedelta(days=3)})) == ["下周的讲座"]
    assert card_titles(client.get(LIST, {"seats": "on"})) == ["明天的演出", "下周的讲座"]


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["All counties (districts)", "Start date", "End date", "Only with seats left"]),
        ("zh-hans", ["全部县(区)", "开始日期", "结束日期", "只看有余位"]),
    ],
)
def test_the_chosen_filters_are_shown_chosen_in_either_language(client, cast, language, labels):
    params = {
        "county": cast.county.pk,
        "township": cast.branch.pk,
        "category": "lecture",
        "date_from": "2026-06-01",
        "date_to": "2026-06-30",
        "seats": "on",
    }
    html = main(client.get(LIST, params, HTTP_ACCEPT_LANGUAGE=language))
    selected = re.findall(r'<option value="([^"]*)" selected>([^<]*)</option>', html)
    with translation.override(language):
        lecture = str(Category.LECTURE.label)
    assert selected == [
        (str(cast.county.pk), "官渡区"),
        (str(cast.branch.pk), "关上街道"),
        ("lecture", lecture),
    ]
    assert '<select name="county" id="id_county">' in html
    assert f'<optgroup label="{cast.centre.locality}">' in html
    assert '<option value="">' + labels[0] + "</option>" in html
    assert 'type="date" name="date_from" value="2026-06-01"' in html
    assert 'type="date" name="date_to" value="2026-06-30"' in html
    assert 'type="checkbox" name="seats" id="id_seats" checked' in html
    for label in labels[1:]:
        assert label in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"county": "abc"}, "没有这个县(区)"),
        ({"county": "999999"}, "没有这个县(区)"),
        ({"county": "{branch}"}, "没有这个县(区)"),
        ({"county": "{other_county}", "township": "{branch}"}, "所选乡镇(街道)不在该县(区)"),
        ({"township": "{branch}"}, "所选乡镇(街道)不在该县(区)"),
        ({"within": "999999"}, "没有这个场馆"),
        ({"within": "-3"}, "区域编号不正确"),
        ({"within": "x"}, "区域编号不正确"),
        ({"category": "concert"}, "没有这个类别"),
        ({"date_from": "2026-13-01"}, "请填写正确的日期"),
        ({"date_to": "明天"}, "请填写正确的日期"),
        ({"date_from": "2026-06-10", "date_to": "2026-06-01"}, "结束日期不能早于开始日期"),
    ],
)
def test_bad_filters_are_shown_as_errors_not_500(client, cast, params, message):
    published_activity(cast.branch, title="照常显示")
    params = {
        k: v.format(branch=cast.branch.pk, other_county=cast.other_county.pk)
        for k, v in params.items()
    }
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert message in main(response)
    assert 'class="errorlist' in main(response)


def test_a_bad_filter_does_not_drop_the_good_ones(client, cast):
    published_activity(cast.branch, title="演出")
    published_activity(cast.branch, title="讲座", category=Category.LECTURE)
    response = client.get(LIST, {"category": "lecture", "date_from": "坏日期"})
    assert card_titles(response) == ["讲座"]


def test_list_is_paginated_and_keeps_the_filters(client, cast):
    for i in range(views.ACTIVITIES_PER_PAGE + 2):
        published_activity(
            cast.branch,
            title=f"讲座{i:02d}",
            category=Category.LECTURE,
            start_in=timedelta(days=1, hours=i),
        )
    published_activity(cast.branch, title="演出不在其中")
    first = client.get(LIST, {"category": "lecture"})
    assert len(card_titles(first)) == views.ACTIVITIES_PER_PAGE
    assert "第 1 / 2 页" in main(first)
    assert "?category=lecture&amp;page=2" in main(first)
    second = client.get(LIST, {"category": "lecture", "page": 2})
    assert card_titles(second) == ["讲座12", "讲座13"]
    assert client.get(LIST, {"page": "abc"}).status_code == 200
    assert client.get(LIST, {"page": "9999"}).status_code == 200


def test_list_query_count_does_not_grow_with_activities(client, cast, django_assert_num_queries):
    def make(n):
        for i in range(n):
            published_activity(
                [cast.branch, cast.point, cast.county][i % 3],
                title=f"活动{i}",
                start_in=timedelta(days=1, minutes=i),
            )

    make(3)
    # The county select and the page; a list shorter than a page is its own count
    # (common.pagination.RowsFirstPaginator).
    with django_assert_num_queries(2):
        response = client.get(LIST)
    assert len(card_titles(response)) == 3 and "共 3 个活动" in main(response)
    # Each process keeps the counties a minute (activities.selectors.area_counties); a county
    # adds its townships.
    with django_assert_num_queries(2):
        client.get(LIST, {"county": cast.county.pk, "township": cast.branch.pk, "seats": "on"})
    make(37)
    ProcessMemory.clear_all()  # the counties this process keeps, and its cards
    # The county select, the page, the count.
    with django_assert_num_queries(3):
        assert len(card_titles(client.get(LIST))) == views.ACTIVITIES_PER_PAGE
    with django_assert_num_queries(2):
        response = client.get(LIST)
    assert len(card_titles(response)) == views.ACTIVITIES_PER_PAGE
    assert "共 40 个活动" in main(response) and "第 1 / 4 页" in main(response)
    with django_assert_num_queries(3):
        client.get(LIST, {"county": cast.county.pk, "township": cast.branch.pk, "seats": "on"})
    with django_assert_num_queries(2):
        assert len(card_titles(client.get(LIST, {"page": 4}))) == 4


# --- An activity -------------------------------------------------------------------------------


def test_activity_page_shows_the_details_and_a_booking_form_with_csrf(client, cast):
    network_services.hall_update(hall=cast.point, address="关上一社区中路 1 号")
    activity = published_activity(
        cast.county,
        title="流动舞台车进社区",
        category=Category.MOBILE,
        venue_hall=cast.point,
        venue="社区广场",
        description="花灯、滇剧选段。\n请自带小板凳。",
        capacity=30,
        max_seats_per_booking=3,
    )
    book_direct(activity, "13900000004", seats=2)
    verify_client(client, "13800138000")
    response = client.get(detail_url(activity))
    html = main(response)
    assert response.status_code == 200
    assert "<h1>流动舞台车进社区</h1>" in html
    assert "流动服务" in html
    assert f'href="/halls/{cast.point.pk}/">关上一社区服务中心</a> · 社区广场' in html
    assert "关上一社区中路 1 号" in html
    assert f'href="/halls/{cast.county.pk}/">官渡区文化馆</a>' in html
    assert "共 30 座,余 28 座" in html
    assert "请自带小板凳" in html
    assert "截止" in html and "前可在“我的预约”中取消" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.findall(r'<option value="(\d+)"', html) == ["1", "2", "3"]
    assert 'name="name"' in html and 'name="phone"' in html
    assert "提交预约" in html


def test_a_full_activity_says_the_party_joins_the_waiting_list_whole(client, cast):
    activity = published_activity(cast.branch, capacity=2, max_seats_per_booking=2)
    book_direct(activity, "13900000005", seats=2)
    verify_client(client, "13800138000")
    html = main(client.get(detail_url(activity)))
    assert "已满,可候补" in html
    assert "整组一起候补" in html
    assert "加入候补" in html


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("cancelled", "该活动已取消"),
        ("ended", "该活动已结束"),
        ("no_booking", "本活动无需预约"),
        ("not_open", "开始,请到时再来"),
        ("closed", "预约已截止"),
    ],
)
def test_activity_page_explains_why_it_cannot_be_booked(client, cast, setup, message):
    now = timezone.now()
    fields = {
        "cancelled": {},
        "ended": {"start_in": -timedelta(days=1)},
        "no_booking": {"capacity": None},
        "not_open": {"booking_opens": now + timedelta(days=1)},
        "closed": {"booking_closes": now - timedelta(hours=1)},
    }[setup]
    activity = published_activity(cast.branch, **fields)
    if setup == "cancelled":
        services.activity_cancel(activity=activity)
    response = client.get(detail_url(activity))
    assert response.status_code == 200
    assert message in main(response)
    assert 'name="phone"' not in main(response)


def test_unknown_and_draft_activities_are_404(client, cast):
    draft = services.activity_create(
        hall=cast.branch,
        category=Category.OTHER,
        title="草稿",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=1),
    )
    assert client.get(detail_url(draft)).status_code == 404
    assert client.get("/activities/999999/").status_code == 404


def test_activity_page_query_count(client, cast, django_assert_num_queries):
    activity = published_activity(cast.branch)
    # The activity with its halls (and its count of sessions: none, so no query for them); the
    # venue's weekly hours and closure dates.
    with django_assert_num_queries(3):
        assert client.get(detail_url(activity)).status_code == 200


# --- Booking -----------------------------------------------------------------------------------


def test_booking_redirects_to_its_page_with_code_qr_and_details(client, cast):
    activity = published_activity(cast.branch, capacity=10, title="民族歌舞晚会")
    response = book(client, activity, seats=2)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.name, booking.phone, booking.seats, booking.status) == (
        "张三",
        "13800138000",
        2,
        Booking.Status.CONFIRMED,
    )
    url = urlparse(response["Location"])
    assert url.path == f"/bookings/{booking.code}/"
    assert "13800138000" not in response["Location"]

    page = client.get(response["Location"])
    html = main(page)
    assert page.status_code == 200
    assert "已确认" in html
    assert re.search(rf'<p class="code"[^>]*>{booking.code}</p>', html)
    assert "<svg" in html
    assert "民族歌舞晚会" in html
    assert "138****8000" in html and "13800138000" not in html
    assert "取消预约" in html and 'name="csrfmiddlewaretoken"' in html


def test_booking_a_full_activity_joins_the_waiting_list_with_its_position(client, cast):
    activity = published_activity(cast.branch, capacity=2, max_seats_per_booking=2)
    book_direct(activity, "13900000006", seats=2)
    book_direct(activity, "13900000007", seats=1)
    response = book(client, activity, seats=2)
    booking = Booking.objects.get(phone="13800138000")
    assert booking.status == Booking.Status.WAITLISTED
    html = main(client.get(response["Location"]))
    assert "候补中" in html and "候补第 2 位" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": "12345678901"}, "phone", "11 位中国大陆手机号码"),
        ({"phone": "1380013800"}, "phone", "11 位中国大陆手机号码"),
        ({"phone": "138001380001"}, "phone", "11 位中国大陆手机号码"),
        ({"phone": ""}, "phone", "请填写手机号码"),
        ({"seats": 0}, "seats", "座位数只能是 1 到 4 之间的整数"),
        ({"seats": 5}, "seats", "座位数只能是 1 到 4 之间的整数"),
        ({"seats": "两"}, "seats", "座位数只能是 1 到 4 之间的整数"),
        ({"seats": ""}, "seats", "请选择座位数"),
        ({"name": "名" * 41}, "name", "姓名最多 40 个字"),
        ({"name": ""}, "name", "请填写姓名"),
        ({"name": "   "}, "name", "请填写姓名"),
    ],
)
def test_bad_booking_input_is_shown_on_the_field_and_saves_nothing(
    client, cast, settings, data, field, message
):
    if field == "phone":
        # With verification required the phone is the verified one and cannot be typed: a
        # phone typed wrong is shown on the field when verification is off.
        settings.RESIDENT_VERIFICATION = "off"
    activity = published_activity(cast.branch, capacity=10)
    response = book(client, activity, **data)
    assert response.status_code == 200
    html = main(response)
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>[^<]*{message}', html), html
    assert 'aria-invalid="true"' in html
    assert not Booking.objects.exists()
    activity.refresh_from_db()
    assert activity.seats_taken == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("cancelled", "该活动未开放预约"),
        ("closed", "该活动的预约已截止"),
        ("not_open", "预约将于"),
        ("no_booking", "该活动无需预约"),
    ],
)
def test_booking_an_activity_that_is_not_open_shows_why(client, cast, setup, message):
    now = timezone.now()
    fields = {
        "cancelled": {},
        "closed": {"booking_closes": now - timedelta(minutes=1)},
        "not_open": {"booking_opens": now + timedelta(days=1)},
        "no_booking": {"capacity": None},
    }[setup]
    activity = published_activity(cast.branch, **fields)
    if setup == "cancelled":
        services.activity_cancel(activity=activity)
    response = book(client, activity)
    assert response.status_code == 200
    assert message in main(response)
    assert not Booking.objects.exists()


def test_a_json_body_gets_the_form_errors_not_a_500(client, cast, settings):
    # About how the form reads a body that is not a form; with verification required the
    # phone would come from the verified browser instead of the body.
    settings.RESIDENT_VERIFICATION = "off"
    activity = published_activity(cast.branch)
    response = client.post(
        detail_url(activity),
        data='{"name": "张三", "phone": "13800138000", "seats": 1}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "请填写姓名" in main(response) and "请填写手机号码" in main(response)
    assert not Booking.objects.exists()


def test_a_phone_books_an_activity_once(client, cast):
    activity = published_activity(cast.branch)
    assert book(client, activity).status_code == 302
    response = book(client, activity, name="张三的家人")
    assert "这个手机号码已经预约过本活动" in main(response)
    assert Booking.objects.count() == 1


def test_a_phone_under_the_no_show_ban_is_told_why_and_until_when(client, cast):
    phone = "13700000001"
    for days in (30, 20, 10):
        past = published_activity(cast.branch, start_in=-timedelta(days=days))
        book_direct(past, phone, now=past.start - timedelta(days=1))
    activity = published_activity(cast.branch)
    response = book(client, activity, phone=phone)
    html = main(response)
    until = timezone.localtime(past.end + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert "一年内有 3 次预约后未到场" in html and f"{until} 之前不能预约" in html
    assert 'id="id_phone_error"' in html
    assert not Booking.objects.filter(activity=activity).exists()

    # The banned phone's own booking page says so too.
    earlier = Booking.objects.filter(phone=phone).last()
    html = main(client.get(views.BOOKING_LINK.url(earlier.code)))
    assert "次预约后未到场" in html and "之前不能预约新的活动" in html


@override_settings(BOOKING_RATE_LIMIT_IP=3, BOOKING_RATE_LIMIT_PHONE=100)
def test_booking_is_rate_limited_per_ip_with_a_chinese_429(client, cast):
    activity = published_activity(cast.branch, capacity=50)
    for i in range(3):
        assert book(client, activity, phone=f"1390000010{i}").status_code == 302
    response = book(client, activity, phone="13900000109")
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert "提交次数太多,请 10 分钟后再试" in response.content.decode()
    assert not Booking.objects.filter(phone="13900000109").exists()
    # Another address still gets through.
    assert book(client, activity, phone="13900000109", REMOTE_ADDR="10.0.0.9").status_code == 302


@override_settings(BOOKING_RATE_LIMIT_IP=100, BOOKING_RATE_LIMIT_PHONE=2)
def test_booking_is_rate_limited_per_phone_across_addresses(client, cast):
    first, second, third = (published_activity(cast.branch, title=f"活动{i}") for i in range(3))
    assert book(client, first, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert book(client, second, REMOTE_ADDR="10.0.0.2").status_code == 302
    response = book(client, third, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429
    assert "请" in response.content.decode() and "分钟后再试" in response.content.decode()


# --- The booking's page ------------------------------------------------------------------------


def test_a_guessed_code_shows_nothing(client, cast):
    activity = published_activity(cast.branch)
    booking = book_direct(activity, "13900000011")
    other = book_direct(activity, "13900000012")
    base = f"/bookings/{booking.code}/"
    assert client.get(base).status_code == 404
    assert client.get(base, {"t": "forged"}).status_code == 404
    # A token is good for its own code only.
    other_token = parse_qs(urlparse(views.BOOKING_LINK.url(other.code)).query)["t"][0]
    assert client.get(base, {"t": other_token}).status_code == 404
    assert client.get("/bookings/ZZZZZZZZ/", {"t": other_token}).status_code == 404
    assert client.get(views.BOOKING_LINK.url(booking.code)).status_code == 200


def test_booking_page_query_count(client, cast, django_assert_num_queries):
    activity = published_activity(cast.branch, capacity=1)
    confirmed = book_direct(activity, "13900000013")
    waiting = book_direct(activity, "13900000014")
    # The booking with its activity and halls, and the no-show check.
    with django_assert_num_queries(2):
        assert client.get(views.BOOKING_LINK.url(confirmed.code)).status_code == 200
    # A waiting party also counts the parties ahead of it.
    with django_assert_num_queries(3):
        assert client.get(views.BOOKING_LINK.url(waiting.code)).status_code == 200


# --- 我的预约: lookup and cancel ------------------------------------------------------------------


def test_lookup_by_phone_and_code_opens_the_booking(client, cast):
    booking = book_direct(published_activity(cast.branch), "13900000015")
    page = client.get(LOOKUP)
    assert 'name="csrfmiddlewaretoken"' in main(page)
    spaced = f" {booking.code[:4].lower()} {booking.code[4:].lower()} "
    response = client.post(LOOKUP, {"phone": "13900000015", "code": spaced})
    assert response.status_code == 302
    assert response["Location"] == views.BOOKING_LINK.url(booking.code)


@pytest.mark.parametrize("wrong", ["phone", "code"])
def test_lookup_gives_one_message_for_a_wrong_phone_and_an_unknown_code(client, cast, wrong):
    booking = book_direct(published_activity(cast.branch), "13900000016")
    data = {"phone": "13900000016", "code": booking.code}
    data[wrong] = "13900000099" if wrong == "phone" else "ABCDEFGH"
    response = client.post(LOOKUP, data)
    assert response.status_code == 200
    assert "预约码与手机号码不匹配,请核对后再试。" in main(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "123", "code": "ABCDEFGH"}, "11 位中国大陆手机号码"),
        ({"phone": "13900000016", "code": ""}, "请填写预约码"),
        ({"phone": "13900000016", "code": "A" * 40}, "预约码是 8 位字母和数字"),
    ],
)
def test_lookup_bad_input_is_shown_on_the_field(client, cast, data, message):
    response = client.post(LOOKUP, data)
    assert response.status_code == 200
    assert message in main(response)


@override_settings(BOOKING_RATE_LIMIT_IP=2)
def test_lookup_is_rate_limited(client, cast):
    for _i in range(2):
        client.post(LOOKUP, {"phone": "13900000016", "code": "ABCDEFGH"})
    response = client.post(LOOKUP, {"phone": "13900000016", "code": "ABCDEFGH"})
    assert response.status_code == 429
    assert "分钟后再试" in response.content.decode()
    assert response.has_header("Retry-After")


def test_cancel_frees_the_seats_and_the_promoted_party_sees_confirmed(client, cast):
    activity = published_activity(cast.branch, capacity=2, max_seats_per_booking=2)
    response = book(client, activity, seats=2)
    mine = Booking.objects.get(phone="13800138000")
    waiting = book_direct(activity, "13900000017", seats=2)
    assert "候补第 1 位" in main(client.get(views.BOOKING_LINK.url(waiting.code)))

    page = client.get(response["Location"])
    token = parse_qs(urlparse(response["Location"]).query)["t"][0]
    assert f'value="{token}"' in main(page)
    cancelled = client.post(f"/bookings/{mine.code}/cancel/", {"t": token})
    assert cancelled.status_code == 302
    html = main(client.get(cancelled["Location"]))
    assert "预约已取消" in html and "已取消" in html and "<svg" not in html
    assert "取消预约</button>" not in html
    again = client.post(f"/bookings/{mine.code}/cancel/", {"t": token})
    assert again.status_code == 400
    assert "这个预约已经取消过了" in main(again)

    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert mine.status == Booking.Status.CANCELLED
    assert waiting.status == Booking.Status.CONFIRMED
    html = main(client.get(views.BOOKING_LINK.url(waiting.code)))
    assert "已确认" in html and "候补中" not in html


def test_cancel_needs_the_token(client, cast):
    booking = book_direct(published_activity(cast.branch), "13900000018")
    assert client.post(f"/bookings/{booking.code}/cancel/").status_code == 404
    assert client.post(f"/bookings/{booking.code}/cancel/", {"t": "x"}).status_code == 404
    assert (
        client.get(views.BOOKING_LINK.url(booking.code).replace("/?", "/cancel/?")).status_code
        == 405
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_after_the_cancel_deadline_there_is_no_button_and_a_post_is_refused(client, cast):
    now = timezone.now()
    activity = published_activity(cast.branch, cancel_deadline=now + timedelta(hours=1))
    booking = book_direct(activity, "13900000019")
    verify_client(client, "13900000019")
    Activity.objects.filter(pk=activity.pk).update(cancel_deadline=now - timedelta(minutes=1))
    url = views.BOOKING_LINK.url(booking.code)
    html = main(client.get(url))
    assert "已过取消截止时间" in html and "取消预约</button>" not in html

    token = parse_qs(urlparse(url).query)["t"][0]
    response = client.post(f"/bookings/{booking.code}/cancel/", {"t": token})
    assert response.status_code == 400
    assert "已过取消截止时间,不能再取消" in main(response)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_a_booking_of_a_cancelled_activity_says_so(client, cast):
    activity = published_activity(cast.branch)
    booking = book_direct(activity, "13900000020")
    services.activity_cancel(activity=activity)
    html = main(client.get(views.BOOKING_LINK.url(booking.code)))
    assert "已取消" in html and "活动已取消" in html and "取消预约</button>" not in html


# --- Notices -----------------------------------------------------------------------------------


def notice(hall, title, *, days_ago=1, pinned=False, body="内容"):
    return Notice.objects.create(
        hall=hall,
        title=title,
        body=body,
        pinned=pinned,
        published_at=timezone.now() - timedelta(days=days_ago),
    )


def test_notice_list_and_page(client, cast, django_assert_num_queries):
    old = notice(cast.county, "春节开放时间调整", days_ago=5, body="除夕闭馆。\n初一照常开放。")
    notice(cast.branch, "新开书法班", days_ago=1)
    notice(cast.point, "置顶:广场舞比赛报名", days_ago=9, pinned=True)
    future = notice(cast.branch, "还没发布", days_ago=-2)
    with django_assert_num_queries(2):
        response = client.get("/notices/")
    titles = re.findall(
        r'<span class="row-name">(?:<span[^>]*>置顶</span> )?([^<]*)</span>', main(response)
    )
    assert titles == ["置顶:广场舞比赛报名", "新开书法班", "春节开放时间调整"]

    with django_assert_num_queries(1):
        page = client.get(f"/notices/{old.pk}/")
    html = main(page)
    assert "<h1>春节开放时间调整</h1>" in html and "初一照常开放" in html
    assert f'href="/halls/{cast.county.pk}/">官渡区文化馆</a>' in html
    assert client.get(f"/notices/{future.pk}/").status_code == 404
    assert client.get("/notices/999999/").status_code == 404


# --- Navigation and the home page's sections ---------------------------------------------------


def test_activity_pages_link_to_each_other_in_the_nav(client, cast):
    html = client.get(LIST).content.decode()
    nav = html.split('class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/activities/" aria-current="page"' in nav
    assert 'href="/bookings/lookup/"' in nav and 'href="/notices/"' in nav


def test_the_kept_navigation_marks_each_page_and_speaks_its_language(client, cast):
    """The navigation and footer are kept per language and page (templates/base.html): asked
    in turn, each page still marks itself, in its visitor's language."""

    def nav(path, language):
        html = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return html.split('class="site-nav"', 1)[1].split("</nav>", 1)[0], html

    # English first: the last request leaves Chinese active, as the tests after this one expect.
    for _ in range(2):
        for language, activities, venues in (
            ("en", "Activities", "Venue booking"),
            ("zh-hans", "活动", "场馆预约"),
        ):
            on_list, html = nav(LIST, language)
            assert f'<a href="/activities/" aria-current="page">{activities}</a>' in on_list
            assert on_list.count("aria-current") == 1
            on_venues, _html = nav("/venues/", language)
            assert f'<a href="/venues/" aria-current="page">{venues}</a>' in on_venues
            assert on_venues.count("aria-current") == 1
            on_home, _html = nav("/", language)
            assert 'href="/" aria-current="page"' in on_home
            assert on_home.count("aria-current") == 1
            with translation.override(language):
                assert translation.gettext("工作人员入口") in html.split('class="site-footer"')[1]
    kept = make_template_fragment_key("site_nav", ["en", "activities:activity_list", "activities"])
    assert 'aria-current="page">Activities</a>' in caches["layout"].get(kept)


def test_home_sections_fragment(cast, django_assert_num_queries):
    published_activity(cast.branch, title="推荐的演出", featured=True)
    published_activity(cast.point, title="普通的讲座", category=Category.LECTURE)
    notice(cast.county, "开放时间调整")
    with django_assert_num_queries(3):
        context = views.home_sections()
    html = render_to_string("activities/_home.html", context)
    assert "推荐活动" in html and "近期活动" in html and "开放时间调整" in html
    assert html.count("推荐的演出") == 2 and "普通的讲座" in html


def test_the_booking_page_asks_before_it_cancels(client, cast):
    booking = book_direct(published_activity(cast.branch), "13800138000")
    token = views.BOOKING_LINK.token(booking.code)
    verify_client(client, "13800138000")
    ask = client.post(f"/bookings/{booking.code}/cancel/", {"t": token, "ask": "1"})
    html = main(ask)
    assert ask.status_code == 200 and "确认取消预约?" in html and "确认取消</button>" in html
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_seat_choice_says_which_counts_wait_whole_and_why(client, cast):
    activity = published_activity(cast.branch, capacity=4, max_seats_per_booking=4)
    book_direct(activity, "13900000021", seats=3)
    verify_client(client, "13800138000")
    page = main(client.get(f"/activities/{activity.pk}/"))
    assert "现余 1 座" in page
    assert ">1</option>" in page and "2(余位不足,整组候补)" in page
    waiting = book_direct(activity, "13900000022", seats=2)
    assert waiting.status == Booking.Status.WAITLISTED
    html = main(client.get(views.BOOKING_LINK.url(waiting.code)))
    assert "剩余座位不足 2 座" in html and "整组进入候补" in html
