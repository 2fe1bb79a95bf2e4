"""``seed_demo`` builds the Kunming demo; a second run changes nothing and prints the same."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from activities import services as activity_services
from activities.models import Activity, Booking
from activities.orders.models import Order
from network.management.commands.check_tree import find_damage
from network.models import Hall

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> tuple:
    return (
        Hall.objects.count(),
        sorted(Booking.objects.values_list("code", "phone", "status")),
        sorted(Order.objects.values_list("code", "status")),
        Activity.objects.count(),
    )


def test_seed_demo_runs_twice_to_the_same_result(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = seed()
    before = snapshot()

    assert seed() == first
    assert snapshot() == before
    assert find_damage() == []
    assert "共 1838 个馆" in first
    assert f"演示活动:{before[3]} 场" in first
    # The booking it prints can be looked up by a resident, with the code it prints.
    code, phone = re.search(r"预约码 (\w+),手机号码 (\d+)", first).groups()
    assert activity_services.booking_lookup(code=code, phone=phone) is not None
