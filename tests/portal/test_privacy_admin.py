"""Residents' phones in the admin and the exports: masked for every role; the full number only
for staff of the organising hall, by a POST, logged; officials never."""

from __future__ import annotations

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from openpyxl import load_workbook

from activities import services as activities
from activities.models import Activity, Booking
from activities.orders import services as orders
from activities.residents.models import Message, PersonalDataAccess
from activities.venues.models import ReservationSeries
from common import privacy
from tests.activities.factories import published_activity
from tests.activities.venues.factories import _series, make_venue, reserve

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
MASKED = "138****8000"
SERIES_PHONE = "13900139000"


@pytest.fixture
def world(cast):
    """A booking, an order, a reservation and a series, all organised by 关上 branch."""
    activity = published_activity(cast.branch)
    cast.booking = activities.booking_create(
        activity_id=activity.pk, name="张三", phone=PHONE, seats=1
    )
    cast.order = orders.order_create(
        point_id=cast.point.pk, name="张三", phone=PHONE, description="想看一场花灯戏"
    )
    assert cast.order.handler_id == cast.branch.pk
    cast.reservation = reserve(make_venue(cast.branch), phone=PHONE)
    cast.series = _series(cast)
    return cast


def admin_url(obj, view="change"):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def list_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def records(world):
    return [world.booking, world.order, world.reservation, world.series]


READERS = ["branch_staff", "county_director", "county_official", "centre_director", "superuser"]


@pytest.mark.parametrize("who", READERS)
def test_every_role_sees_masked_phones_on_lists_and_change_pages(client, world, who):
    client.force_login(getattr(world, who))
    for record in records(world):
        full = SERIES_PHONE if isinstance(record, ReservationSeries) else PHONE
        for page in (list_url(type(record)), admin_url(record)):
            response = client.get(page)
            assert response.status_code == 200, page
            assert full not in response.content.decode(), page
        assert privacy.mask_phone(full) in client.get(admin_url(record)).content.decode()


def test_the_message_admin_masks_the_phone(client, world):
    message = Message.objects.filter(phone=PHONE).first()
    client.force_login(world.superuser)
    for page in (list_url(Message), admin_url(message)):
        body = client.get(page).content.decode()
        assert PHONE not in body and MASKED in body


@pytest.mark.parametrize("kind", ["booking", "order", "reservation", "series"])
def test_staff_of_the_organising_hall_reveal_a_phone_and_it_is_logged(client, world, kind):
    record = getattr(world, kind)
    full = SERIES_PHONE if kind == "series" else PHONE
    client.force_login(world.branch_staff)
    page = client.get(admin_url(record)).content.decode()
    assert admin_url(record, "phone") in page  # the page offers the reveal
    assert client.get(admin_url(record, "phone")).status_code == 405  # a deliberate POST only
    assert not PersonalDataAccess.objects.exists()
    response = client.post(admin_url(record, "phone"))
    assert response.status_code == 200
    assert full in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    log = PersonalDataAccess.objects.get()
    assert log.user == world.branch_staff
    assert log.reason == PersonalDataAccess.Reason.SHOW
    assert (log.content_type, log.object_id) == (
        ContentType.objects.get_for_model(record),
        record.pk,
    )


@pytest.mark.parametrize(
    "who", ["county_director", "county_official", "centre_director", "superuser"]
)
def test_nobody_else_in_scope_may_reveal(client, world, who):
    client.force_login(getattr(world, who))
    for record in records(world):
        assert admin_url(record, "phone") not in client.get(admin_url(record)).content.decode()
        assert client.post(admin_url(record, "phone")).status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_the_wrong_scope_gets_404(client, world):
    client.force_login(world.other_county_director)
    for record in records(world):
        assert client.post(admin_url(record, "phone")).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_an_anonymised_phone_cannot_be_revealed(client, world):
    Booking.objects.filter(pk=world.booking.pk).update(phone=privacy.phone_hash(PHONE))
    client.force_login(world.branch_staff)
    assert client.post(admin_url(world.booking, "phone")).status_code == 403


# --- The sign-up list ---------------------------------------------------------------------------


def _signup_phones(response) -> list:
    sheet = load_workbook(io.BytesIO(response.content))["报名名单"]
    return [row[3] for row in sheet.iter_rows(min_row=3, values_only=True)]


@pytest.mark.parametrize("who", READERS)
def test_the_signup_list_masks_phones_for_everyone(client, world, who):
    client.force_login(getattr(world, who))
    response = client.get(admin_url(world.booking.activity, "signup"))
    assert _signup_phones(response) == [MASKED]


def test_the_organising_hall_exports_full_numbers_on_request_and_it_is_logged(client, world):
    activity = world.booking.activity
    client.force_login(world.branch_staff)
    assert 'id="signup-full"' in client.get(admin_url(activity)).content.decode()
    response = client.post(admin_url(activity, "signup"), {"full": "1"})
    assert _signup_phones(response) == [PHONE]
    log = PersonalDataAccess.objects.get()
    assert (log.reason, log.rows, log.object_id) == (
        PersonalDataAccess.Reason.EXPORT,
        1,
        activity.pk,
    )
    assert log.content_type == ContentType.objects.get_for_model(Activity)


@pytest.mark.parametrize("who", ["county_director", "county_official", "superuser"])
def test_only_the_organising_hall_may_export_full_numbers(client, world, who):
    activity = world.booking.activity
    client.force_login(getattr(world, who))
    assert 'id="signup-full"' not in client.get(admin_url(activity)).content.decode()
    assert client.post(admin_url(activity, "signup"), {"full": "1"}).status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_full_numbers_of_another_scope_are_404(client, world):
    client.force_login(world.other_county_director)
    response = client.post(admin_url(world.booking.activity, "signup"), {"full": "1"})
    assert response.status_code == 404


def test_the_order_inline_masks_the_phone_of_its_records(client, world):
    # A resident's own step (rating) records the phone that took it.
    world.order.events.update(by_phone=PHONE)
    client.force_login(world.branch_staff)
    assert PHONE not in client.get(admin_url(world.order)).content.decode()
