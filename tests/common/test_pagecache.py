"""Public pages kept for a few seconds for visitors with nothing of their own
(common/pagecache.py): what is kept, who is served from it, whose token each visitor gets, and
that a cache that does not answer only costs a render."""

from __future__ import annotations

import gzip
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from activities import services
from activities.courses import course_sessions_save
from activities.models import CourseSession
from activities.selectors import activities_public
from activities.templatetags.activity_cards import card_key
from common.cache import ProcessMemory
from common.pagecache import HIT_HEADER, TOKEN_MARK, _cut_token, page_key
from network import services as network_services
from tests.activities.factories import published_activity
from tests.conftest import verify_client

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def kept(settings):
    settings.PAGE_CACHE_SECONDS = 30


@pytest.fixture
def activity(cast):
    return published_activity(cast.branch, capacity=20, title="花灯戏专场")


def pages(activity) -> list[str]:
    return [
        reverse("home"),
        reverse("activities:activity_list"),
        reverse("activities:activity_list") + "?category=performance&seats=on",
        reverse("activities:activity_detail", args=[activity.pk]),
    ]


def book(activity, phone: str, seats: int = 1):
    services.booking_create(activity_id=activity.pk, name="李四", phone=phone, seats=seats)


def test_a_second_visitor_is_served_the_kept_page_without_a_query(
    kept, activity, django_assert_num_queries
):
    for path in pages(activity):
        first = Client().get(path)
        assert first.status_code == 200 and first[HIT_HEADER] == "miss"
        with django_assert_num_queries(0):
            again = Client().get(path)
        assert again[HIT_HEADER] == "hit"
        strip = lambda r: TOKEN.sub("", r.content.decode())  # noqa: E731
        assert strip(again) == strip(first)


def test_each_visitor_gets_a_token_of_their_own_secret_and_it_posts(kept, activity):
    path = reverse("activities:activity_detail", args=[activity.pk])
    Client().get(path)  # kept
    for _visitor in range(2):
        client = Client(enforce_csrf_checks=True)
        response = client.get(path)
        assert response[HIT_HEADER] == "hit"
        (token,) = set(TOKEN.findall(response.content.decode()))
        secret = response.cookies["csrftoken"].value
        assert _unmask_cipher_token(token) == secret
        assert TOKEN_MARK not in response.content.decode()
        # The language switcher on the kept page works with the visitor's own token.
        switched = client.post(
            reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
        )
        assert switched.status_code == 302


def test_seats_left_are_as_old_as_the_cache_seconds_at_most(settings, activity):
    settings.PAGE_CACHE_SECONDS = 1
    path = reverse("activities:activity_list")
    assert "余 20 座" in Client().get(path).content.decode()
    book(activity, "13900000001", seats=3)
    assert "余 20 座" in Client().get(path).content.decode()  # kept
    time.sleep(1.1)
    response = Client().get(path)
    assert response[HIT_HEADER] == "miss" and "余 17 座" in response.content.decode()


def test_each_language_is_kept_apart(kept, activity):
    path = reverse("activities:activity_list")
    assert "文化活动" in Client().get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = Client().get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert english[HIT_HEADER] == "miss"
    assert '<html lang="en"' in english.content.decode()
    assert Client().get(path, HTTP_ACCEPT_LANGUAGE="en")[HIT_HEADER] == "hit"


def test_a_verified_resident_sees_their_own_state_never_a_kept_page(kept, activity):
    path = reverse("activities:activity_detail", args=[activity.pk])
    Client().get(path)  # kept for visitors
    resident = Client()
    verify_client(resident, "13900000002")
    response = resident.get(path)
    assert HIT_HEADER not in response
    assert response.context["resident"]["verified_phone"] == "13900000002"


def test_signed_in_staff_and_other_cookies_are_rendered_for(kept, activity, cast):
    path = reverse("activities:activity_list")
    Client().get(path)
    staff = Client()
    staff.force_login(cast.county_director)
    assert HIT_HEADER not in staff.get(path)
    other = Client()
    other.cookies["messages"] = "x"
    assert HIT_HEADER not in other.get(path)
    assert Client().get(path, HTTP_AUTHORIZATION="Token x").has_header(HIT_HEADER) is False


def test_only_plain_200_answers_are_kept(kept, activity):
    missing = reverse("activities:activity_detail", args=[activity.pk + 1000])
    assert Client().get(missing).status_code == 404
    assert HIT_HEADER not in Client().get(missing)
    # A POST is never served from the cache.
    path = reverse("activities:activity_detail", args=[activity.pk])
    Client().get(path)
    assert HIT_HEADER not in Client().post(path, {"name": "张三", "phone": "13900000003"})


def test_a_page_with_a_token_outside_a_form_is_not_kept(db):
    request = RequestFactory().get("/")
    token = get_token(request)
    other = get_token(request)  # masked afresh: another string for the same secret
    body = (
        f'<form><input type="hidden" name="csrfmiddlewaretoken" value="{token}"></form>'
        f'<div data-token="{other}"></div>'
    )
    assert _cut_token(request, body) is None
    plain = f'<form><input type="hidden" name="csrfmiddlewaretoken" value="{token}"></form>'
    assert _cut_token(request, plain) == plain.replace(token, TOKEN_MARK)


def test_a_cache_that_does_not_answer_costs_a_render_not_an_error(kept, activity):
    down = {
        **settings.CACHES,  # the layout's fragments stay in the process, as in settings.py
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    with override_settings(CACHES=down):
        for path in pages(activity):
            response = Client().get(path)
            assert response.status_code == 200 and response[HIT_HEADER] == "miss"


def test_pages_are_compressed_for_clients_that_accept_it(kept, activity):
    path = reverse("activities:activity_list")
    for _ in range(2):  # rendered, then kept
        response = Client().get(path, HTTP_ACCEPT_ENCODING="gzip")
        assert response["Content-Encoding"] == "gzip"
        assert "花灯戏专场" in gzip.decompress(response.content).decode()
    plain = Client().get(path)
    assert not plain.has_header("Content-Encoding") and "花灯戏专场" in plain.content.decode()


# --- Activity cards, kept by what they show (activities/templatetags/activity_cards.py) ---------


def card_html(client, activity) -> str:
    html = client.get(reverse("activities:activity_list")).content.decode()
    href = reverse("activities:activity_detail", args=[activity.pk])
    return html.split(f'<a href="{href}">', 1)[1].split("</li>", 1)[0]


def test_a_card_is_kept_and_shows_every_change_at_once(activity):
    client = Client()
    assert "余 20 座" in card_html(client, activity)  # PAGE_CACHE_SECONDS is 0 here
    shown = activities_public().get(pk=activity.pk)
    assert "余 20 座" in cache.get(card_key(shown, timezone.now()))
    book(activity, "13900000004", seats=2)
    assert "余 18 座" in card_html(client, activity)
    services.activity_update(activity=activity, title="花灯戏专场(加演)")
    assert "花灯戏专场(加演)" in card_html(client, activity)
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("activities:activity_list"))
    assert "Performance" in english.content.decode()  # each language its own card


def test_a_course_card_shows_a_session_added_within_its_span(cast):
    day, hour = timedelta(days=1), timedelta(hours=1)
    start = timezone.now() + timedelta(days=3)
    course = published_activity(cast.branch, title="书法培训班", start=start, end=start + hour)
    sessions = [CourseSession(start=start + day * d, end=start + day * d + hour) for d in (0, 2)]
    course_sessions_save(activity=course, saved=sessions)
    client = Client()
    assert "2次课" in card_html(client, course)
    # The course's span stays: only the count of sessions tells the card apart.
    course_sessions_save(
        activity=course, saved=[CourseSession(start=start + day, end=start + day + hour)]
    )
    assert "3次课" in card_html(client, course)


def test_cards_are_rendered_when_the_cache_does_not_answer(activity):
    down = {
        **settings.CACHES,  # the layout's fragments stay in the process, as in settings.py
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    with override_settings(CACHES=down):
        assert "余 20 座" in card_html(Client(), activity)
        assert "花灯戏专场" in Client().get(reverse("home")).content.decode()


def test_a_kept_page_of_another_shape_is_a_miss_not_an_error(kept, activity):
    path = reverse("activities:activity_list")
    request = RequestFactory().get(path, HTTP_HOST="testserver")
    with translation.override("zh-hans"):
        key = page_key(request)
    cache.set(key, ("text/html", "an older version's page"), 30)
    response = Client().get(path)
    assert response.status_code == 200 and response[HIT_HEADER] == "miss"
    assert "花灯戏专场" in response.content.decode()
    assert len(cache.get(key)) == 3  # the same key, now holding this version's page


def test_each_process_serves_what_it_kept_without_asking_the_cache(kept, activity):
    path = reverse("activities:activity_list")
    Client().get(path)
    cache.clear()  # as if the shared cache had lost it: this process still has it
    assert Client().get(path)[HIT_HEADER] == "hit"
    ProcessMemory.clear_all()  # every page, card and value this process keeps
    assert Client().get(path)[HIT_HEADER] == "miss"


def test_a_list_with_a_parameter_it_does_not_read_stays_out_of_the_shared_cache(kept, activity):
    base = reverse("activities:activity_list")
    known = f"{base}?category=performance&seats=on&page=1"
    unknown = f"{base}?category=performance&r=8f3a"
    for path in (known, unknown):
        assert Client().get(path)[HIT_HEADER] == "miss"
    with translation.override("zh-hans"):
        keys = [page_key(RequestFactory().get(p, HTTP_HOST="testserver")) for p in (known, unknown)]
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[1]) is None  # never stored, so never looked up
    # The same link opened again (a share link's tracker) is served from the process's memory.
    again = Client().get(unknown)
    assert again[HIT_HEADER] == "hit" and "花灯戏专场" in again.content.decode()
    ProcessMemory.clear_all()  # every page, card and value this process keeps
    assert Client().get(unknown)[HIT_HEADER] == "miss"
    assert Client().get(known)[HIT_HEADER] == "hit"  # from the shared cache


def test_a_list_of_a_visitors_own_dates_is_rendered_for_each_request(kept, activity):
    base = reverse("activities:activity_list")
    day = timezone.localdate()
    linked = f"{base}?category=performance&seats=on"
    picked = f"{linked}&date_from={day}&date_to={day + timedelta(days=30)}"
    assert Client().get(linked)[HIT_HEADER] == "miss"
    first = Client().get(picked)
    assert HIT_HEADER not in first and "花灯戏专场" in first.content.decode()
    with translation.override("zh-hans"):
        keys = [page_key(RequestFactory().get(p, HTTP_HOST="testserver")) for p in (linked, picked)]
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[1]) is None  # never stored, so never looked up
    book(activity, "13800000001")
    again = Client().get(picked)
    assert HIT_HEADER not in again and "余 19 座" in again.content.decode()
    assert Client().get(linked)[HIT_HEADER] == "hit"


def test_each_process_keeps_the_cards_it_rendered(activity):
    client = Client()
    assert "余 20 座" in card_html(client, activity)
    shown = activities_public().get(pk=activity.pk)
    key = card_key(shown, timezone.now())
    cache.clear()  # as if the shared cache had lost them: this process still has the card
    assert "余 20 座" in card_html(client, activity)
    assert cache.get(key) is None  # not rendered again, so not stored again
    ProcessMemory.clear_all()
    assert "余 20 座" in card_html(client, activity)
    assert "余 20 座" in cache.get(key)


def test_a_process_reads_the_counties_again_when_its_copy_expires(cast, monkeypatch):
    from activities import selectors

    first = selectors.area_counties(limit=10)
    assert [hall.pk for hall in first] == [cast.county.pk, cast.other_county.pk]
    network_services.hall_create(parent=cast.centre, name="西山区文化馆", locality="西山区")
    assert selectors.area_counties(limit=10) is first  # kept: the new county shows later
    later = time.monotonic() + selectors.AREA_COUNTIES_SECONDS + 1
    monkeypatch.setattr("common.cache.time.monotonic", lambda: later)
    assert [hall.locality for hall in selectors.area_counties(limit=10)][-1] == "西山区"


def test_process_memory_forgets_everything_when_full():
    memory = ProcessMemory(seconds=60, entries=2)
    memory.set("a", 1)
    memory.set("b", 2)
    assert (memory.get("a"), memory.get("b")) == (1, 2)
    memory.set("c", 3)
    assert (memory.get("a"), memory.get("b"), memory.get("c")) == (None, None, 3)


def test_process_memory_keeps_nothing_under_debug(settings):
    # As the layout cache under DEBUG: the development server shows an edited template or a
    # recompiled catalogue at the next request, not when a kept copy expires.
    settings.DEBUG = True
    memory = ProcessMemory(seconds=60, entries=2)
    memory.set("a", 1)
    assert memory.get("a") is None
    settings.DEBUG = False
    memory.set("a", 1)
    assert memory.get("a") == 1


def test_process_memory_keeps_a_value_for_what_is_left_of_its_life(monkeypatch):
    # A page read from the shared cache is kept only until it expires there.
    memory = ProcessMemory(seconds=60, entries=4)
    now = time.monotonic()
    monkeypatch.setattr("common.cache.time.monotonic", lambda: now)
    memory.set("page", "kept", seconds=2)
    memory.set("card", "kept")
    monkeypatch.setattr("common.cache.time.monotonic", lambda: now + 3)
    assert (memory.get("page"), memory.get("card")) == (None, "kept")
