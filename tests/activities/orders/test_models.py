"""The rules declared once on ``Order``: the steps each status allows, and which orders are
fulfilled, answered on time or overdue, read the same through a query and on one order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.orders import services
from activities.orders.models import Order

S, Step = Order.Status, Order.Step


@pytest.mark.parametrize(
    ("status", "staff_steps", "rate"),
    [
        (S.SUBMITTED, [Step.ACCEPT, Step.REJECT], False),
        (S.ACCEPTED, [Step.REJECT, Step.SCHEDULE, Step.COMPLETE], False),
        (S.SCHEDULED, [Step.COMPLETE], False),
        (S.DONE, [], True),
        (S.RATED, [], False),
        (S.REJECTED, [], False),
    ],
)
def test_each_status_allows_its_steps(status, staff_steps, rate):
    order = Order(status=status)
    assert order.next_steps() == staff_steps
    assert order.can(Step.RATE) is rate
    assert order.can(Step.ESCALATE) is (status == S.SUBMITTED)


def test_every_step_leads_to_a_status():
    assert set(Order.TRANSITIONS) == set(Step)
    for step in Step:
        assert Order.step_target(step) in S.values
        assert set(Order.step_sources(step)) <= set(S.values)


@pytest.mark.django_db
def test_the_queries_and_the_order_in_hand_agree(cast):
    def place(phone):
        return services.order_create(
            point_id=cast.point.pk, name="王五", phone=phone, description="想看花灯戏"
        )

    waiting, late, on_time, done = (place(f"1370000000{n}") for n in range(4))
    Order.objects.filter(pk=late.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    services.order_accept(order=on_time, by_user=cast.branch_staff)
    services.order_accept(order=done, by_user=cast.branch_staff)
    start = timezone.now() - timedelta(days=3)
    services.order_schedule(
        order=done,
        by_user=cast.branch_staff,
        title="花灯戏",
        start=start,
        end=start + timedelta(hours=2),
    )
    services.order_complete(order=done, by_user=cast.branch_staff)

    assert list(Order.objects.overdue()) == [late]
    assert [o for o in Order.objects.all() if o.is_overdue()] == [late]
    assert set(Order.objects.answered_on_time()) == {on_time, done}
    assert list(Order.objects.fulfilled()) == [done]
    assert waiting not in Order.objects.answered_on_time()


@pytest.mark.django_db
def test_a_scheduled_order_is_completed_only_after_its_activity_ended(cast):
    order = services.order_create(
        point_id=cast.point.pk, name="王五", phone="13700000009", description="想看花灯戏"
    )
    services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=3)
    order = services.order_schedule(
        order=order, by_user=cast.branch_staff, title="花灯戏", start=start,
        end=start + timedelta(hours=2),
    )  # fmt: skip
    assert order.next_steps() == []
    assert not order.can(Step.COMPLETE)
    assert order.next_steps(now=start + timedelta(hours=1)) == []
    assert order.next_steps(now=start + timedelta(hours=2)) == [Step.COMPLETE]


@pytest.mark.django_db
def test_an_order_whose_activity_was_cancelled_is_scheduled_again_or_done_with_a_note(cast):
    from django.core.exceptions import ValidationError

    from activities import services as activity_services

    order = services.order_create(
        point_id=cast.point.pk, name="王五", phone="13700000009", description="想看花灯戏"
    )
    services.order_accept(order=order, by_user=cast.branch_staff)
    start = timezone.now() + timedelta(days=3)
    order = services.order_schedule(
        order=order, by_user=cast.branch_staff, title="花灯戏", start=start,
        end=start + timedelta(hours=2),
    )  # fmt: skip
    # While its activity stands, it cannot be scheduled twice.
    with pytest.raises(ValidationError, match="该活动取消后才能重新排期"):
        services.order_schedule(
            order=order, by_user=cast.branch_staff, title="又一场", start=start,
            end=start + timedelta(hours=2),
        )  # fmt: skip
    first = order.activity
    activity_services.activity_cancel(activity=first, reason="下雨")
    order.refresh_from_db()
    assert order.next_steps() == [Step.SCHEDULE, Step.COMPLETE]
    # Done without a note is refused, saying why.
    with pytest.raises(ValidationError, match="已取消") as refused:
        services.order_complete(order=order, by_user=cast.branch_staff)
    assert "note" in refused.value.message_dict
    # Scheduled again: a new activity, and the old one stays cancelled on record.
    later = start + timedelta(days=7)
    order = services.order_schedule(
        order=order, by_user=cast.branch_staff, title="花灯戏(改期)", start=later,
        end=later + timedelta(hours=2),
    )  # fmt: skip
    assert order.activity != first and order.status == Order.Status.SCHEDULED
    assert order.next_steps() == []
    # Cancelled again, and then held some other way: done with a note.
    activity_services.activity_cancel(activity=order.activity, reason="场地维修")
    order.refresh_from_db()
    order = services.order_complete(
        order=order, by_user=cast.branch_staff, note="12 月 20 日在村委会院坝演出"
    )
    assert order.status == Order.Status.DONE
