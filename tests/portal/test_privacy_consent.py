"""A short privacy notice and an explicit agreement at every form that collects a name or phone
(booking, 点单, venue reservation, survey, phone verification) and on the API's resident writes;
the agreed notice's version is kept with the record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from activities.models import Booking
from activities.orders.models import Order
from activities.residents.models import PhoneCode, Resident
from activities.venues.models import Reservation
from evaluation.scoring.models import SatisfactionResponse
from tests.activities.factories import published_activity
from tests.activities.venues.factories import in_days, local, make_venue
from tests.api import assert_field_error
from tests.conftest import verify_client, verify_phone

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
CONSENT_ERROR = "请阅读并同意《隐私政策》后再提交。"


@pytest.fixture
def version(settings):
    settings.PRIVACY_NOTICE_VERSION = "2026-12"
    return "2026-12"


def _pages(cast):
    """(page, form data, the model it saves) of each resident form."""
    activity = published_activity(cast.branch)
    venue = make_venue(cast.branch)
    return {
        "booking": (
            reverse("activities:activity_detail", args=[activity.pk]),
            {"name": "张三", "phone": PHONE, "seats": "1"},
            Booking,
        ),
        "order": (
            f"/orders/village/{cast.point.pk}/",
            {"item": "", "name": "张三", "phone": PHONE, "description": "想看花灯戏"},
            Order,
        ),
        "reservation": (
            reverse("venues:venue_detail", args=[venue.pk]),
            {
                "day": in_days(2).isoformat(),
                "start": "10:00",
                "end": "11:00",
                "name": "张三",
                "phone": PHONE,
                "purpose": "合唱排练",
                "party_size": "10",
            },
            Reservation,
        ),
        "survey": (
            reverse("evaluation:survey", args=[cast.point.pk]),
            {"rating": "4", "comment": "", "phone": PHONE},
            SatisfactionResponse,
        ),
    }


KINDS = ["booking", "order", "reservation", "survey"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_form_shows_the_notice_and_a_required_agreement(client, cast, kind):
    verify_client(client, PHONE)
    url, _data, _model = _pages(cast)[kind]
    body = client.get(url).content.decode()
    assert 'class="help consent-notice"' in body
    assert 'href="/privacy/"' in body
    assert 'name="consent"' in body and 'type="checkbox"' in body


@pytest.mark.parametrize("kind", KINDS)
def test_a_form_without_the_agreement_saves_nothing(client, cast, kind):
    verify_client(client, PHONE)
    url, data, model = _pages(cast)[kind]
    client.send_consent = False
    response = client.post(url, data)
    assert response.status_code in (200, 400)
    assert CONSENT_ERROR in response.content.decode()
    assert not model.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_the_agreed_version_is_kept_with_the_record(client, cast, kind, version):
    verify_client(client, PHONE)
    url, data, model = _pages(cast)[kind]
    response = client.post(url, {**data, "consent": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = model.objects.get()
    assert saved.consent_version == version and saved.consented_at is not None


def test_the_verify_page_asks_for_the_agreement_before_sending_a_code(client, version):
    client.send_consent = client.verify_phones = False
    response = client.post("/residents/verify/", {"step": "phone", "phone": PHONE})
    assert response.status_code == 400
    assert CONSENT_ERROR in response.content.decode()
    assert not PhoneCode.objects.exists()
    client.post("/residents/verify/", {"step": "phone", "phone": PHONE, "consent": "on"})
    assert PhoneCode.objects.filter(phone=PHONE).exists()


def test_a_verified_phone_keeps_the_version_agreed_to(version):
    verify_phone(PHONE)
    assert Resident.objects.get(phone=PHONE).consent_version == ""  # the services alone: none
    from activities.residents import services

    _row, code = services.phone_code_request(phone="13900139000")
    services.phone_token_create(phone="13900139000", code=code, consent_version=version)
    assert Resident.objects.get(phone="13900139000").consent_version == version


def test_the_privacy_page_says_what_why_who_how_long_and_the_rights(client, version, settings):
    settings.RESIDENT_DATA_RETENTION_DAYS = 365
    body = client.get("/privacy/").content.decode()
    for words in (
        "我们收集什么",
        "为什么收集",
        "谁能看到",
        "保存多久",
        "您的权利",
        "365 天",
        version,
    ):
        assert words in body


# --- The API ------------------------------------------------------------------------------------


def _api_writes(cast):
    activity = published_activity(cast.branch)
    venue = make_venue(cast.branch)
    day = in_days(2)
    return {
        "booking": (
            f"/api/v1/activities/{activity.pk}/bookings/",
            {"name": "张三", "phone": PHONE, "seats": 1},
            Booking,
        ),
        "demand": (
            "/api/v1/demands/",
            {"point": cast.point.pk, "name": "张三", "phone": PHONE, "description": "想看花灯戏"},
            Order,
        ),
        "reservation": (
            f"/api/v1/venues/{venue.pk}/reservations/",
            {
                "start": local(day, 10).isoformat(),
                "end": local(day, 11).isoformat(),
                "name": "张三",
                "phone": PHONE,
                "purpose": "合唱排练",
                "party_size": 10,
            },
            Reservation,
        ),
    }


@pytest.mark.parametrize("kind", ["booking", "demand", "reservation"])
@pytest.mark.parametrize("consent", [None, False, "maybe"])
def test_an_api_write_without_consent_is_400_and_saves_nothing(client, cast, kind, consent):
    url, body, model = _api_writes(cast)[kind]
    client.send_consent = False
    if consent is not None:
        body = {**body, "consent": consent}
    response = client.post(url, body, content_type="application/json")
    assert_field_error(response, "consent")
    if consent is None:
        assert response.json()["consent"] == [CONSENT_ERROR]
    assert not model.objects.exists()


@pytest.mark.parametrize("kind", ["booking", "demand", "reservation"])
def test_an_api_write_with_consent_keeps_the_version(client, cast, kind, version):
    url, body, model = _api_writes(cast)[kind]
    response = client.post(url, {**body, "consent": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    saved = model.objects.get()
    assert saved.consent_version == version and saved.consented_at is not None


def test_a_code_request_needs_consent(client, version):
    client.send_consent = client.verify_phones = False
    response = client.post(
        "/api/v1/phone-codes/", {"phone": PHONE}, content_type="application/json"
    )
    assert_field_error(response, "consent")
    assert not PhoneCode.objects.exists()
    response = client.post(
        "/api/v1/phone-codes/", {"phone": PHONE, "consent": True}, content_type="application/json"
    )
    assert response.status_code == 202


def test_the_schema_documents_consent(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    for name in ("BookingCreate", "DemandCreate", "ReservationCreate", "PhoneCode"):
        name += "Request"
        assert "consent" in components[name]["required"], name
