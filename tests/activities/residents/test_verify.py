"""Phone verification: codes by SMS, tokens, their limits, and the verify page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.models import Booking
from activities.residents import services, web
from activities.residents.models import PhoneCode, Resident, ResidentToken
from activities.views import BOOKING_LINK
from tests.activities.factories import published_activity
from tests.conftest import consenting_client, verify_client

PHONE = "13800138000"
CODES = "/api/v1/phone-codes/"
TOKENS = "/api/v1/phone-tokens/"


@pytest.fixture
def api(django_capture_on_commit_callbacks):
    """POST JSON as a client outside any test transaction would: what waits for the commit
    (the SMS) runs."""
    client = consenting_client()

    def post(url, body, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, content_type="application/json", **extra)

    return post


def verify(api, outbox, phone=PHONE) -> dict:
    assert api(CODES, {"phone": phone}).status_code == 202
    response = api(TOKENS, {"phone": phone, "code": outbox.code(phone)})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_code_by_sms_becomes_a_token_for_thirty_days(db, api, outbox):
    response = api(CODES, {"phone": PHONE})
    assert response.status_code == 202
    assert response.json() == {"phone": PHONE, "expires_in": 300, "resend_after": 60}
    [sms] = outbox.all()
    assert sms["phone"] == PHONE and sms["template"] == "verify_code"
    code = sms["params"]["code"]
    assert len(code) == 6 and code.isdigit()
    assert sms["text"].startswith("【文化馆】") and code in sms["text"]

    body = api(TOKENS, {"phone": PHONE, "code": code}).json()
    expires = timezone.datetime.fromisoformat(body["expires"])
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert Resident.objects.get().phone == PHONE
    # Only hashes are kept: neither the code nor the token is in the database.
    row = PhoneCode.objects.get()
    assert code not in row.code_hash and row.used_at is not None
    assert body["token"] not in ResidentToken.objects.get().token_hash


def test_a_number_written_the_usual_ways_is_the_same_phone(db, api, outbox):
    assert api(CODES, {"phone": "+86 138-0013-8000"}).json()["phone"] == PHONE


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "0871-6312345", "", "abc"])
def test_a_number_that_is_not_a_mainland_mobile_is_400(db, api, outbox, phone):
    response = api(CODES, {"phone": phone})
    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    assert not outbox.all() and not PhoneCode.objects.exists()


def test_a_wrong_code_says_how_many_tries_are_left_and_five_kill_it(db, api, outbox):
    api(CODES, {"phone": PHONE})
    right = outbox.code(PHONE)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    messages = [api(TOKENS, {"phone": PHONE, "code": wrong}).json()["code"][0] for _ in range(5)]
    assert messages[0] == "验证码不正确,还可以再试 4 次。"
    assert messages[3] == "验证码不正确,还可以再试 1 次。"
    assert "错误次数太多" in messages[4]
    # Brute force is over: even the right code no longer works.
    response = api(TOKENS, {"phone": PHONE, "code": right})
    assert response.status_code == 400
    assert response.json() == {"code": ["验证码错误次数太多,已失效,请重新获取。"]}
    assert not ResidentToken.objects.exists()


def test_an_expired_code_fails_and_says_so(db, outbox):
    _row, code = services.phone_code_request(phone=PHONE, now=timezone.now() - timedelta(minutes=6))
    with pytest.raises(services.ValidationError) as exc:
        services.phone_token_create(phone=PHONE, code=code)
    assert exc.value.message_dict == {"code": ["验证码已过期,请重新获取。"]}


def test_a_code_is_good_once(db, api, outbox):
    verify(api, outbox)
    replay = api(TOKENS, {"phone": PHONE, "code": outbox.code(PHONE)})
    assert replay.status_code == 400
    assert replay.json() == {"code": ["这个验证码已经用过了,请重新获取。"]}
    assert ResidentToken.objects.count() == 1


def test_no_code_asked_for_and_a_malformed_code(db, api, outbox):
    assert api(TOKENS, {"phone": PHONE, "code": "123456"}).json() == {"code": ["请先获取验证码。"]}
    assert api(TOKENS, {"phone": PHONE, "code": "12ab"}).json() == {"code": ["验证码是 6 位数字。"]}


def test_a_new_code_after_sixty_seconds_and_only_the_latest_counts(db, api, outbox):
    api(CODES, {"phone": PHONE})
    again = api(CODES, {"phone": PHONE})
    assert again.status_code == 429 and int(again["Retry-After"]) <= 60
    assert "请 1 分钟后再试" in again.json()["detail"]
    first = outbox.code(PHONE)
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert api(CODES, {"phone": PHONE}).status_code == 202
    assert len(outbox.to(PHONE)) == 2
    second = outbox.code(PHONE)
    if first != second:
        assert api(TOKENS, {"phone": PHONE, "code": first}).status_code == 400
    assert api(TOKENS, {"phone": PHONE, "code": second}).status_code == 201


def test_code_requests_are_limited_per_address_and_per_phone(db, api, outbox, settings):
    settings.PHONE_CODE_RATE_LIMIT_IP = 2
    settings.PHONE_CODE_RESEND_SECONDS = 0
    assert api(CODES, {"phone": "13800000001"}).status_code == 202
    assert api(CODES, {"phone": "13800000002"}).status_code == 202
    limited = api(CODES, {"phone": "13800000003"})
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    assert "操作太频繁" in limited.json()["detail"]
    assert len(outbox.all()) == 2
    settings.PHONE_CODE_RATE_LIMIT_IP = 100
    settings.PHONE_CODE_RATE_LIMIT_PHONE = 2
    assert api(CODES, {"phone": PHONE}).status_code == 202
    assert api(CODES, {"phone": PHONE}).status_code == 202
    assert api(CODES, {"phone": PHONE}).status_code == 429


def test_code_tries_are_limited_per_address(db, api, outbox, settings):
    settings.PHONE_CHECK_RATE_LIMIT_IP = 3
    for _ in range(3):
        assert api(TOKENS, {"phone": PHONE, "code": "000000"}).status_code == 400
    assert api(TOKENS, {"phone": PHONE, "code": "000000"}).status_code == 429


# --- The token on resident writes ---------------------------------------------------------------


def test_booking_without_a_live_token_is_401_in_chinese_and_saves_nothing(cast, api, outbox):
    activity = published_activity(cast.branch)
    url = f"/api/v1/activities/{activity.pk}/bookings/"
    body = {"name": "张三", "phone": PHONE, "seats": 1}
    token = verify(api, outbox)["token"]
    ResidentToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for extra in ({}, {"HTTP_X_RESIDENT_TOKEN": "made-up"}, {"HTTP_X_RESIDENT_TOKEN": token}):
        response = api(url, body, **extra)
        assert response.status_code == 401
        assert response.json()["detail"].startswith("请先验证手机号码")
        assert response["WWW-Authenticate"] == "ResidentToken"
    assert not Booking.objects.exists()


def test_the_phone_of_a_write_is_the_tokens(cast, api, outbox):
    activity = published_activity(cast.branch)
    token = verify(api, outbox)["token"]
    response = api(
        f"/api/v1/activities/{activity.pk}/bookings/",
        {"name": "张三", "phone": "13900000001", "seats": 1},
        HTTP_X_RESIDENT_TOKEN=token,
    )
    assert response.status_code == 201
    assert Booking.objects.get().phone == PHONE


def test_with_verification_off_any_well_formed_number_books(cast, api, outbox, settings):
    settings.RESIDENT_VERIFICATION = "off"
    activity = published_activity(cast.branch)
    response = api(
        f"/api/v1/activities/{activity.pk}/bookings/", {"name": "张三", "phone": PHONE, "seats": 1}
    )
    assert response.status_code == 201
    assert not Resident.objects.exists()


def test_the_schema_documents_the_verification(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "202" in schema["paths"]["/api/v1/phone-codes/"]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/phone-tokens/"]["post"]["responses"]
    booking = schema["paths"]["/api/v1/activities/{id}/bookings/"]["post"]
    assert "401" in booking["responses"]
    assert "X-Resident-Token" in [p["name"] for p in booking["parameters"]]
    assert "401" in schema["paths"]["/api/v1/demands/"]["post"]["responses"]


# --- The verify page ----------------------------------------------------------------------------


def test_the_verify_page_sends_a_code_then_sets_a_cookie_and_goes_back(
    cast, outbox, django_capture_on_commit_callbacks
):
    activity = published_activity(cast.branch)
    back = f"/activities/{activity.pk}/"
    client = consenting_client()
    page = client.get(f"/residents/verify/?next={back}")
    assert page.status_code == 200 and 'name="phone"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/residents/verify/", {"step": "phone", "phone": PHONE, "next": back})
    html = sent.content.decode()
    assert sent.status_code == 200 and 'name="code"' in html
    assert outbox.code(PHONE) not in html  # shown only in DEBUG with the console backend
    wrong = client.post(
        "/residents/verify/", {"step": "code", "phone": PHONE, "code": "000000", "next": back}
    )
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    done = client.post(
        "/residents/verify/",
        {"step": "code", "phone": PHONE, "code": outbox.code(PHONE), "next": back},
    )
    assert done.status_code == 302 and done["Location"] == back
    cookie = done.cookies[web.COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 30 * 86400
    assert ResidentToken.objects.get().resident.phone == PHONE
    # A cookie that was tampered with counts for nothing.
    stranger = consenting_client()
    stranger.cookies[web.COOKIE] = cookie.value[:-2] + "xx"
    assert "换一个号码" not in stranger.get(back).content.decode()
    # The booking form now shows the verified phone, not editable, with a way to change it.
    html = client.get(back).content.decode()
    assert f'value="{PHONE}"' in html and "readonly" in html and "换一个号码" in html


def test_the_verify_page_takes_a_number_as_people_write_it_and_refuses_others(db, outbox):
    client = consenting_client()
    sent = client.post("/residents/verify/", {"step": "phone", "phone": "+86 138-0013-8000"})
    assert sent.status_code == 200 and PhoneCode.objects.filter(phone=PHONE).exists()
    bad = client.post("/residents/verify/", {"step": "phone", "phone": "12345678901"})
    assert bad.status_code == 400 and "11 位中国大陆手机号码" in bad.content.decode()


def test_the_verify_page_goes_back_only_to_this_site(db, outbox):
    client = consenting_client()
    client.post("/residents/verify/", {"step": "phone", "phone": PHONE})
    done = client.post(
        "/residents/verify/",
        {"step": "code", "phone": PHONE, "code": "x", "next": "https://evil.example/"},
    )
    assert done.status_code == 400
    for n, target in enumerate(["https://evil.example/", "//other.host/", "/\\evil"]):
        phone = f"1390000000{n + 1}"
        _row, code = services.phone_code_request(phone=phone)
        done = client.post(
            "/residents/verify/", {"step": "code", "phone": phone, "code": code, "next": target}
        )
        assert done.status_code == 302 and done["Location"] == "/", target


def test_in_debug_with_the_console_backend_the_page_and_the_api_show_the_code(db, settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    response = consenting_client().post("/residents/verify/", {"step": "phone", "phone": PHONE})
    assert "开发环境未接短信服务,验证码是" in response.content.decode()
    body = (
        consenting_client()
        .post(CODES, {"phone": "13900000001"}, content_type="application/json")
        .json()
    )
    token = consenting_client().post(
        TOKENS,
        {"phone": "13900000001", "code": body["debug_code"]},
        content_type="application/json",
    )
    assert token.status_code == 201
    settings.DEBUG = False
    body = (
        consenting_client()
        .post(CODES, {"phone": "13900000002"}, content_type="application/json")
        .json()
    )
    assert "debug_code" not in body


def test_a_page_write_without_a_verified_phone_is_401_and_saves_nothing(cast):
    activity = published_activity(cast.branch)
    response = consenting_client().post(
        f"/activities/{activity.pk}/", {"name": "张三", "phone": PHONE, "seats": 1}
    )
    assert response.status_code == 401
    html = response.content.decode()
    assert (
        "需要先验证手机号码" in html
        and f"/residents/verify/?next=%2Factivities%2F{activity.pk}%2F" in html
    )
    assert not Booking.objects.exists()


def test_a_booking_page_cancels_only_for_the_phone_that_booked(cast):
    activity = published_activity(cast.branch)
    booking = activity_services.booking_create(
        activity_id=activity.pk, name="张三", phone=PHONE, seats=1
    )
    url = BOOKING_LINK.url(booking.code)
    token = BOOKING_LINK.token(booking.code)
    client = consenting_client()
    verify_client(client, "13900000001")  # someone else's verified phone
    assert "请先验证预约时填写的手机号码" in client.get(url).content.decode()
    response = client.post(f"/bookings/{booking.code}/cancel/", {"t": token})
    assert response.status_code == 401
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    verify_client(client, PHONE)
    assert client.post(f"/bookings/{booking.code}/cancel/", {"t": token}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_expired_tokens_and_old_codes_are_pruned_and_the_verified_phone_stays(db):
    _row, code = services.phone_code_request(phone=PHONE)
    services.phone_token_create(phone=PHONE, code=code)
    later = timezone.now() + timedelta(days=31)
    assert services.residents_prune(now=later) == (1, 1)
    assert not ResidentToken.objects.exists() and not PhoneCode.objects.exists()
    assert Resident.objects.filter(phone=PHONE).exists()
