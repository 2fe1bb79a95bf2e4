"""The residents' satisfaction survey: one answer per phone per hall per quarter, bad input shown
on the form, rate limits per address and per phone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.scoring.models import SatisfactionResponse
from evaluation.scoring.services import quarter_of
from network import services as network_services
from network.models import HallStatus
from tests.conftest import verify_client

pytestmark = pytest.mark.django_db


def survey(hall):
    return reverse("evaluation:survey", args=[hall.pk])


def answer(**changes):
    return {"rating": "4", "comment": "活动很丰富", "phone": "13800138000", **changes}


def test_a_resident_rates_a_hall_and_is_thanked(client, cast):
    verify_client(client, "13800138000")
    page = client.get(survey(cast.point))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('type="radio"') == 5 and 'inputmode="numeric"' in body

    response = client.post(survey(cast.point), answer())
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:survey_thanks", args=[cast.point.pk])
    assert "感谢您的评价" in client.get(response["Location"]).content.decode()
    saved = SatisfactionResponse.objects.get()
    assert (saved.hall_id, saved.rating, saved.comment, saved.phone) == (
        cast.point.pk, 4, "活动很丰富", "13800138000",
    )  # fmt: skip
    from django.utils import timezone

    assert saved.quarter == quarter_of(timezone.now())


def test_one_answer_per_phone_per_hall_per_quarter(client, cast):
    client.post(survey(cast.point), answer())
    again = client.post(survey(cast.point), answer(rating="1"))
    assert again.status_code == 200
    assert "本季度已经评价过" in str(again.context["form"].errors["phone"])
    # Another hall, or another phone, is a new answer.
    assert client.post(survey(cast.point2), answer()).status_code == 302
    assert client.post(survey(cast.point), answer(phone="13900139000")).status_code == 302
    assert SatisfactionResponse.objects.count() == 3
    assert SatisfactionResponse.objects.get(hall=cast.point, phone="13800138000").rating == 4


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": ""}, "rating"),
        ({"rating": "6"}, "rating"),
        ({"rating": "五"}, "rating"),
        ({"phone": "12345"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"comment": "太" * 501}, "comment"),
    ],
)
def test_bad_input_is_shown_and_nothing_saved(client, cast, settings, changes, field):
    if field == "phone":
        # With verification required the phone is the verified one and cannot be typed: a
        # phone typed wrong is shown on the field when verification is off.
        settings.RESIDENT_VERIFICATION = "off"
    response = client.post(survey(cast.point), answer(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_unknown_and_unopened_halls(client, cast):
    assert client.get(reverse("evaluation:survey", args=[999999])).status_code == 404
    planned = network_services.hall_create(
        parent=cast.branch, name="待建服务点", locality="待建", status=HallStatus.PLANNED
    )
    page = client.post(survey(planned), answer())
    assert page.status_code == 200 and "暂不能评价" in page.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_submissions_are_rate_limited_per_address(client, cast, settings):
    settings.SURVEY_RATE_LIMIT_IP = 3
    for i in range(3):
        client.post(survey(cast.point), answer(phone=f"1380013800{i}"))
    limited = client.post(survey(cast.point), answer(phone="13800138009"))
    assert limited.status_code == 429 and limited["Retry-After"]
    assert "操作太频繁" in limited.content.decode()
    assert SatisfactionResponse.objects.count() == 3
    # Another address is not held back.
    other = client.post(survey(cast.point), answer(phone="13800138009"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_submissions_are_rate_limited_per_phone(client, cast, settings):
    settings.SURVEY_RATE_LIMIT_PHONE = 2
    halls = [cast.point, cast.point2, cast.other_branch_point]
    for hall in halls[:2]:
        assert client.post(survey(hall), answer(), REMOTE_ADDR="10.0.0.1").status_code == 302
    limited = client.post(survey(halls[2]), answer(), REMOTE_ADDR="10.0.0.2")
    assert limited.status_code == 429
    assert not SatisfactionResponse.objects.filter(hall=halls[2]).exists()


def test_the_hall_page_links_to_its_survey(client, cast):
    page = client.get(reverse("network:hall_detail", args=[cast.point.pk]))
    assert survey(cast.point) in page.content.decode()
