from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activities.models import Activity, Category
from activities.orders import services
from activities.orders.models import MenuItem, Order
from activities.orders.services import escalate_overdue_orders

pytestmark = pytest.mark.django_db


def menu_item(hall, **fields) -> MenuItem:
    defaults = {"category": Category.TRAINING, "title": "广场舞辅导", "lead_days": 7}
    defaults.update(fields)
    return MenuItem.objects.create(hall=hall, **defaults)


def order(cast, **fields) -> Order:
    defaults = {
        "point_id": cast.point.pk,
        "name": "王村长",
        "phone": "13700000001",
        "description": "村里想办一期广场舞培训",
    }
    defaults.update(fields)
    return services.order_create(**defaults)


def test_a_menu_order_goes_to_the_hall_that_offers_it(cast):
    item = menu_item(cast.county)
    placed = order(cast, item_id=item.pk, preferred_date=timezone.localdate() + timedelta(days=10))
    assert placed.handler == cast.county
    assert placed.status == Order.Status.SUBMITTED
    assert placed.code.startswith("D") and len(placed.code) == 8
    assert [e.action for e in placed.events.all()] == ["submitted"]


def test_a_free_request_goes_to_the_branch_above_the_village(cast):
    placed = order(cast)
    assert placed.handler == cast.branch


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"point_id": 999999}, "point"),
        ({"point_id": "abc"}, "point"),
        ({"phone": "123"}, "phone"),
        ({"name": ""}, "name"),
        ({"description": " "}, "description"),
        ({"description": "长" * 1001}, "description"),
        ({"item_id": 999999}, "item"),
    ],
)
def test_bad_orders_name_the_field_and_save_nothing(cast, fields, field):
    with pytest.raises(ValidationError) as exc:
        order(cast, **fields)
    assert field in exc.value.message_dict
    assert not Order.objects.exists()


def test_only_a_village_point_orders(cast):
    with pytest.raises(ValidationError) as exc:
        order(cast, point_id=cast.branch.pk)
    assert "point" in exc.value.message_dict


def test_a_menu_is_open_only_to_the_points_below_its_hall(cast):
    item = menu_item(cast.other_county)
    with pytest.raises(ValidationError) as exc:
        order(cast, item_id=item.pk)
    assert "item" in exc.value.message_dict


def test_lead_time_and_monthly_limit_are_enforced(cast):
    item = menu_item(cast.branch, lead_days=7, monthly_limit=1)
    with pytest.raises(ValidationError) as exc:
        order(cast, item_id=item.pk, preferred_date=timezone.localdate() + timedelta(days=2))
    assert "preferred_date" in exc.value.message_dict
    order(cast, item_id=item.pk)
    with pytest.raises(ValidationError) as exc:
        order(cast, item_id=item.pk, phone="13700000002")
    assert "item" in exc.value.message_dict


def test_an_order_moves_through_every_step_and_keeps_who_and_when(cast):
    placed = order(cast)
    services.order_accept(order=placed, by_user=cast.branch_staff)
    start = timezone.now() - timedelta(days=14)
    scheduled = services.order_schedule(
        order=placed,
        by_user=cast.branch_staff,
        title="广场舞培训(点单)",
        start=start,
        end=start + timedelta(hours=2),
        capacity=30,
    )
    assert scheduled.activity.venue_hall == cast.point
    assert scheduled.activity.hall == cast.branch
    assert scheduled.activity.status == Activity.Status.PUBLISHED
    services.order_complete(order=scheduled, by_user=cast.branch_staff)
    rated = services.order_rate(
        code=placed.code.lower(), phone="13700000001", rating=5, comment="好"
    )
    assert rated.status == Order.Status.RATED and rated.rating == 5
    events = list(rated.events.values_list("action", "by_user__username", "by_phone"))
    assert [e[0] for e in events] == ["submitted", "accepted", "scheduled", "done", "rated"]
    assert events[1][1] == "branch_staff"
    assert events[4][2] == "13700000001"
    assert rated.answered_at is not None and rated.done_at is not None


def test_steps_out_of_order_are_refused(cast):
    placed = order(cast)
    with pytest.raises(ValidationError):
        services.order_complete(order=placed, by_user=cast.branch_staff)
    with pytest.raises(ValidationError):
        services.order_rate(code=placed.code, phone=placed.phone, rating=4)
    with pytest.raises(ValidationError) as exc:
        services.order_reject(order=placed, by_user=cast.branch_staff, reason="")
    assert "reason" in exc.value.message_dict
    rejected = services.order_reject(order=placed, by_user=cast.branch_staff, reason="场地维修")
    assert rejected.reject_reason == "场地维修"
    with pytest.raises(ValidationError):
        services.order_accept(order=placed, by_user=cast.branch_staff)


def test_rating_needs_the_matching_phone_and_a_score_from_1_to_5(cast):
    placed = order(cast)
    with pytest.raises(ValidationError) as exc:
        services.order_rate(code=placed.code, phone="13999999999", rating=5)
    assert "code" in exc.value.message_dict


def test_the_answer_is_due_five_working_days_later_holidays_excluded(cast):
    # Placed on Wednesday 2026-09-30: 10-01..07 are the National Day holiday, Saturday 10-10 is
    # worked instead, so the fifth working day is Tuesday 10-13 (fixtures/holidays.csv).
    placed = services.order_create(
        point_id=cast.point.pk,
        name="李四",
        phone="13700000009",
        description="想请剧团来村里演出",
        now=timezone.make_aware(datetime(2026, 9, 30, 10, 0)),
    )
    assert timezone.localtime(placed.respond_by).date().isoformat() == "2026-10-13"


def test_an_unanswered_order_escalates_to_the_parent_hall_by_itself(cast):
    placed = order(cast)
    assert placed.handler == cast.branch
    assert escalate_overdue_orders.apply().get() == 0  # not overdue yet
    Order.objects.filter(pk=placed.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    assert escalate_overdue_orders.apply().get() == 1
    placed.refresh_from_db()
    assert placed.handler == cast.county
    assert placed.escalations == 1
    assert placed.respond_by > timezone.now()
    last = placed.events.last()
    assert last.action == "escalated" and "上报至 官渡区文化馆" in last.note
    # An answered order stays where it is.
    services.order_accept(order=placed, by_user=cast.county_director)
    Order.objects.filter(pk=placed.pk).update(respond_by=timezone.now() - timedelta(days=9))
    assert escalate_overdue_orders.apply().get() == 0


def test_an_order_is_not_done_before_its_activity_has_ended(cast):
    placed = order(cast)
    services.order_accept(order=placed, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=3)
    scheduled = services.order_schedule(
        order=placed, by_user=cast.branch_staff, title="广场舞培训", start=start,
        end=start + timedelta(hours=2),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.order_complete(order=scheduled, by_user=cast.branch_staff, note="已办")
    message = exc.value.message_dict["status"][0]
    assert "广场舞培训" in message and "结束后才能标记完成" in message
    end = timezone.localtime(start + timedelta(hours=2))
    assert f"{end:%Y-%m-%d %H:%M}" in message
    with pytest.raises(ValidationError):
        services.order_rate(code=placed.code, phone=placed.phone, rating=5)
    scheduled.refresh_from_db()
    assert scheduled.status == Order.Status.SCHEDULED and scheduled.done_at is None

    done = services.order_complete(
        order=scheduled, by_user=cast.branch_staff, now=start + timedelta(hours=2, minutes=5)
    )
    assert done.status == Order.Status.DONE
    assert services.order_rate(code=placed.code, phone=placed.phone, rating=5).rating == 5


def test_an_order_held_without_being_scheduled_is_completed_with_a_note(cast):
    placed = order(cast)
    services.order_accept(order=placed, by_user=cast.branch_staff)
    with pytest.raises(ValidationError) as exc:
        services.order_complete(order=placed, by_user=cast.branch_staff, note="  ")
    assert "写明举办的时间和地点" in exc.value.message_dict["note"][0]
    done = services.order_complete(
        order=placed, by_user=cast.branch_staff, note="12月5日在村活动室已举办"
    )
    assert done.status == Order.Status.DONE and done.activity_id is None
    assert done.events.last().note == "12月5日在村活动室已举办"
