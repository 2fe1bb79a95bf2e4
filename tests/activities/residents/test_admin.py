"""The delivery records in the admin: superusers read them; nobody changes them; a hall's staff
and officials see nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from activities.residents import services
from activities.residents.models import Message

LIST = "/admin/residents/message/"


def message(i: int = 0) -> Message:
    return services.message_send(
        phone=f"1380000{i:04d}", template="order_done", params={"code": f"D{i:07d}"}, urgent=True
    )


def test_a_superuser_reads_the_records_in_fixed_queries(cast, django_assert_num_queries):
    client = Client()
    client.force_login(cast.superuser)
    message(0)
    client.get(LIST)  # the session and the user, read once
    with django_assert_num_queries(8):
        assert client.get(LIST).status_code == 200
    for i in range(1, 20):
        message(i)
    with django_assert_num_queries(8):
        html = client.get(LIST).content.decode()
    assert "138****0019" in html and "13800000019" not in html
    record = Message.objects.first()
    page = client.get(f"{LIST}{record.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"{LIST}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403


@pytest.mark.parametrize("username", ["county_director", "county_official", "branch_staff"])
def test_staff_and_officials_see_no_messages(cast, username):
    record = message()
    client = Client()
    client.force_login(getattr(cast, username))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{record.pk}/change/").status_code == 403
    assert "residents/message" not in client.get("/admin/").content.decode()
