"""Writes for orders (点单) and service menus, and the Celery task that escalates overdue orders.

Every status change goes through ``_order_step``: it locks the order's row and asks the model
whether the step may be taken (``Order.can``), so two staff answering at once cannot both win
and no caller keeps its own list of allowed statuses. Every step leaves an ``OrderEvent``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Category
from activities.residents.services import message_send
from activities.services import NAME_MAX, activity_create, activity_publish
from common import privacy
from common.codes import new_code, normalize_code
from common.ratelimit import Budget
from common.validators import mobile_validator
from common.workdays import working_days_after
from network.models import Hall, HallKind, subtree_q

from .models import MenuItem, Order, OrderEvent
from .selectors import menu_usage

DESCRIPTION_MAX = 1000
# The same limits as booking, counted apart: ordering does not eat a resident's booking budget.
ORDER_BUDGET = Budget(
    "order", "BOOKING_RATE_LIMIT_IP", "BOOKING_RATE_LIMIT_PHONE", "BOOKING_RATE_WINDOW"
)

# --- Service menus ------------------------------------------------------------------------------

MENU_ITEM_FIELDS = (
    "hall",
    "category",
    "title",
    "description",
    "orderers",
    "lead_days",
    "monthly_limit",
    "active",
)


@transaction.atomic
def menu_item_create(
    *,
    hall: Hall,
    category: str,
    title: str,
    description: str = "",
    orderers: str = MenuItem.Orderers.ANYONE,
    lead_days: int = 7,
    monthly_limit: int | None = None,
    active: bool = True,
) -> MenuItem:
    item = MenuItem(
        hall=hall,
        category=category,
        title=title,
        description=description,
        orderers=orderers,
        lead_days=lead_days,
        monthly_limit=monthly_limit,
        active=active,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def menu_item_update(*, item: MenuItem, **fields) -> MenuItem:
    """Change a menu item. Items are switched off (``active=False``), never deleted: orders
    point at them."""
    unknown = set(fields) - set(MENU_ITEM_FIELDS)
    if unknown:
        raise TypeError(f"not menu item fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(item, name, value)
    item.full_clean()
    if fields:
        item.save(update_fields=list(fields))
    return item


# --- Orders -------------------------------------------------------------------------------------


def _order_event(order, *, action: str, from_status: str, by_user=None, by_phone="", note=""):
    OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=order.status,
        by_user=by_user,
        by_phone=by_phone,
        note=note[:500],
        hall=order.handler,
    )


def order_create(
    *,
    point_id,
    name: str,
    phone: str,
    description: str,
    item_id=None,
    preferred_date=None,
    requested_by=None,
    now: datetime | None = None,
    consent_version: str = "",
) -> Order:
    """A village orders a menu item, or asks for something not on any menu. ``consent_version``
    is the privacy notice the orderer agreed to (kept with the order)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    point = None
    try:
        point = Hall.objects.filter(pk=int(point_id)).first()
    except (TypeError, ValueError):
        pass
    if point is None:
        errors["point"] = _("没有这个村(社区)服务点,请从列表中选择。")
    elif point.kind != HallKind.POINT:
        errors["point"] = _("点单须由村(社区)基层服务点提出,“%(name)s”不是基层服务点。") % {
            "name": point.name
        }
    name = (name or "").strip()
    phone = (phone or "").strip()
    description = (description or "").strip()
    if not name:
        errors["name"] = _("请填写联系人。")
    elif len(name) > NAME_MAX:
        errors["name"] = _("联系人最多 %(n)d 个字。") % {"n": NAME_MAX}
    try:
        mobile_validator(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if not description:
        errors["description"] = _("请说明需要什么服务。")
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = _("需求说明最多 1000 字。")
    item = None
    if item_id not in (None, ""):
        try:
            item = MenuItem.objects.select_related("hall").filter(pk=int(item_id)).first()
        except (TypeError, ValueError):
            item = None
        if item is None or not item.active:
            errors["item"] = _("没有这个服务菜单项,或它已停止点单。")
    today = timezone.localdate(now)
    if preferred_date is not None and preferred_date < today:
        errors["preferred_date"] = _("希望日期不能早于今天。")
    if errors:
        raise ValidationError(errors)
    if item is not None:
        _check_menu_item(item, point=point, requested_by=requested_by, today=today)
        if preferred_date is not None:
            earliest = today + timedelta(days=item.lead_days)
            if preferred_date < earliest:
                raise ValidationError(
                    {
                        "preferred_date": _("该服务须提前 %(n)d 天点单,最早可选 %(date)s。")
                        % {"n": item.lead_days, "date": earliest.isoformat()}
                    }
                )
        _check_monthly_limit(item, point=point, today=today)
        handler = item.hall
    else:
        handler = Hall.objects.get(pk=point.parent_id)
    return _order_save(
        point=point,
        item=item,
        handler=handler,
        name=name,
        phone=phone,
        description=description,
        preferred_date=preferred_date,
        requested_by=requested_by,
        now=now,
        consent_version=consent_version,
    )


def _check_menu_item(item: MenuItem, *, point: Hall, requested_by, today) -> None:
    # Tree numbers on the callers' copies may be stale: ask the database.
    below = Hall.objects.filter(subtree_q(item.hall_id), pk=point.pk).exists()
    if not below:
        raise ValidationError(
            {"item": _("“%(hall)s”的服务菜单只对其下属服务点开放。") % {"hall": item.hall.name}}
        )
    if item.orderers == MenuItem.Orderers.POINTS and requested_by is None:
        raise ValidationError({"item": _("该服务只接受基层服务点工作人员点单。")})
    if item.orderers == MenuItem.Orderers.RESIDENTS and requested_by is not None:
        raise ValidationError({"item": _("该服务只接受群众点单。")})


def _check_monthly_limit(item: MenuItem, *, point: Hall, today) -> None:
    if item.monthly_limit is None:
        return
    used = menu_usage(point, today=today, item_ids=[item.pk]).get(item.pk, 0)
    if used >= item.monthly_limit:
        raise ValidationError({"item": _("本服务点本月已点 %(n)d 次,达到每月限量。") % {"n": used}})


@transaction.atomic
def _order_save(
    *,
    point,
    item,
    handler,
    name,
    phone,
    description,
    preferred_date,
    requested_by,
    now,
    consent_version="",
) -> Order:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    code="D" + new_code()[:7],
                    point=point,
                    item=item,
                    handler=handler,
                    name=name,
                    phone=phone,
                    description=description,
                    preferred_date=preferred_date,
                    requested_by=requested_by,
                    respond_by=working_days_after(now, settings.ORDER_RESPONSE_WORKING_DAYS),
                    consent_version=consent_version,
                    consented_at=now if consent_version else None,
                )
            break
        except IntegrityError as exc:
            if "code" not in str(exc):
                raise
    else:
        raise RuntimeError("could not draw a unique order code")
    _order_event(order, action="submitted", from_status="", by_user=requested_by, by_phone=phone)
    return order


def _order_step(order_id: int, step: Order.Step, now: datetime | None = None) -> Order:
    """The order, locked, when ``step`` may be taken from its status now."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise ValidationError({"order": _("点单不存在。")})
    if order.status in order.step_sources(step) and not order.can(step, now):
        # The status allows the step; only the scheduled activity holds it back.
        title = order.activity.title
        if step == Order.Step.SCHEDULE:
            raise ValidationError(
                {
                    "status": _("点单已排期为活动“%(title)s”;该活动取消后才能重新排期。")
                    % {"title": title}
                }
            )
        end = timezone.localtime(order.activity.end)
        raise ValidationError(
            {
                "status": _(
                    "活动“%(title)s”于 %(end)s 结束,结束后才能标记完成,点单人随后才能评价。"
                )
                % {"title": title, "end": f"{end:%Y-%m-%d %H:%M}"}
            }
        )
    if not order.can(step, now):
        raise ValidationError(
            {
                "status": _("点单当前为“%(status)s”,不能进行这一步。")
                % {"status": order.get_status_display()}
            }
        )
    return order


def _order_move(
    order: Order,
    step: Order.Step,
    *,
    action: str,
    by_user=None,
    by_phone: str = "",
    note: str = "",
    **fields,
) -> Order:
    """Takes ``step`` on the locked order: the new status and the order's ``fields`` in one
    save, and the event that records who did it."""
    previous = order.status
    order.status = Order.step_target(step)
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields])
    _order_event(
        order, action=action, from_status=previous, by_user=by_user, by_phone=by_phone, note=note
    )
    return order


def _tell(order: Order, template: str, **params) -> None:
    """An SMS to whoever ordered: a staff step they did not just ask for, so it waits out the
    quiet hours."""
    message_send(phone=order.phone, template=template, params={"code": order.code, **params})


@transaction.atomic
def order_accept(*, order: Order, by_user, note: str = "", now: datetime | None = None) -> Order:
    order = _order_step(order.pk, Order.Step.ACCEPT)
    order = _order_move(
        order,
        Order.Step.ACCEPT,
        action="accepted",
        by_user=by_user,
        note=note,
        answered_at=now or timezone.now(),
    )
    _tell(order, "order_accepted", hall=order.handler.name[:30])
    return order


@transaction.atomic
def order_reject(*, order: Order, by_user, reason: str, now: datetime | None = None) -> Order:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写不能受理的原因,点单人会看到它。")})
    order = _order_step(order.pk, Order.Step.REJECT)
    return _order_move(
        order,
        Order.Step.REJECT,
        action="rejected",
        by_user=by_user,
        note=reason,
        reject_reason=reason[:200],
        answered_at=order.answered_at or now or timezone.now(),
    )


@transaction.atomic
def order_schedule(
    *,
    order: Order,
    by_user,
    title: str,
    start: datetime,
    end: datetime,
    capacity: int | None = None,
    venue: str = "",
) -> Order:
    """Turn an accepted order into an activity held at the village that ordered it."""
    order = _order_step(order.pk, Order.Step.SCHEDULE)
    if capacity is not None and capacity < 1:
        # Otherwise the activity's rule about seats per booking would name a field the
        # scheduler never saw.
        raise ValidationError({"capacity": _("座位数至少为 1;无需预约的活动请留空。")})
    activity = activity_create(
        hall=order.handler,
        venue_hall=order.point,
        category=order.item.category if order.item_id else Category.OTHER,
        title=title,
        description=order.description,
        venue=venue,
        start=start,
        end=end,
        capacity=capacity,
        max_seats_per_booking=min(4, capacity) if capacity else 4,
        created_by=by_user,
    )
    activity_publish(activity=activity)
    order = _order_move(
        order,
        Order.Step.SCHEDULE,
        action="scheduled",
        by_user=by_user,
        note=f"{title} {timezone.localtime(start):%Y-%m-%d %H:%M}",
        activity=activity,
    )
    _tell(
        order,
        "order_scheduled",
        activity=title[:30],
        start=f"{timezone.localtime(start):%m-%d %H:%M}",
    )
    return order


@transaction.atomic
def order_complete(*, order: Order, by_user, note: str = "", now: datetime | None = None) -> Order:
    """Mark an order delivered: after its scheduled activity has ended, or, for an accepted
    order held without being scheduled here, with a note saying when and where."""
    order = _order_step(order.pk, Order.Step.COMPLETE, now)
    note = (note or "").strip()
    if order.completes_with_note() and not note:
        if order.activity_cancelled():
            message = _(
                "该点单排期的活动“%(title)s”已取消:如已另行举办,请在说明中写明举办的时间和地点"
                "再标记完成;否则请重新排期。"
            ) % {"title": order.activity.title}
        else:
            message = _(
                "该点单未经平台排期:如活动已经举办,请在说明中写明举办的时间和地点,再标记完成。"
            )
        raise ValidationError({"note": message})
    order = _order_move(
        order,
        Order.Step.COMPLETE,
        action="done",
        by_user=by_user,
        note=note,
        done_at=now or timezone.now(),
    )
    _tell(order, "order_done")
    return order


@transaction.atomic
def order_rate(*, code: str, phone: str, rating, comment: str = "") -> Order:
    """The person who ordered rates what they got, once."""
    order = (
        Order.objects.select_for_update()
        .filter(code=normalize_code(code), phone=(phone or "").strip())
        .first()
    )
    if order is None:
        raise ValidationError({"code": _("订单号与手机号码不匹配,请核对后再试。")})
    try:
        rating = int(rating)
        if not 1 <= rating <= 5:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({"rating": _("评分须为 1 到 5 之间的整数。")}) from None
    if not order.can(Order.Step.RATE):
        raise ValidationError({"status": _("服务完成后才能评价,且只能评价一次。")})
    return _order_move(
        order,
        Order.Step.RATE,
        action="rated",
        by_phone=order.phone,
        note=str(rating),
        rating=rating,
        rating_comment=(comment or "").strip()[:500],
    )


def orders_escalate_overdue(*, now: datetime | None = None) -> int:
    """Orders nobody answered by their deadline go up to the parent hall, each in its own
    transaction; rows another worker holds are skipped, not waited for."""
    now = now or timezone.now()
    moved = 0
    overdue = list(
        Order.objects.overdue(now)
        .filter(handler__parent__isnull=False)
        .values_list("pk", flat=True)[:1000]
    )
    for pk in overdue:
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .select_related("handler")
                .overdue(now)
                .filter(pk=pk)
                .first()
            )
            if order is None or order.handler.parent_id is None:
                continue
            old = order.handler
            order.handler = Hall.objects.get(pk=old.parent_id)
            order.escalations += 1
            order.respond_by = working_days_after(now, settings.ORDER_RESPONSE_WORKING_DAYS)
            order.save(update_fields=["handler", "escalations", "respond_by"])
            _order_event(
                order,
                action="escalated",
                from_status=order.status,
                note=_("%(old)s 超过答复期限未受理,自动上报至 %(new)s。")
                % {"old": old.name, "new": order.handler.name},
            )
            _tell(order, "order_escalated", hall=order.handler.name[:30])
            moved += 1
    return moved


@shared_task(acks_late=True)
def escalate_overdue_orders() -> int:
    """Run by beat every hour: overdue orders go up to the parent hall."""
    return orders_escalate_overdue()


# --- Residents' personal information -----------------------------------------------------------


@transaction.atomic
def order_anonymise_ended(
    *, before: datetime, phone: str | None = None, dry_run: bool = False
) -> int:
    """Anonymise orders that were settled (delivered, rated or refused) before ``before`` (of
    one ``phone`` when given) and the phone on their records: the contact's name goes, the phone
    becomes its keyed hash, the order with its status, dates and rating stays for the figures.
    An order still waiting for an answer keeps its contact. Idempotent."""
    settled = Coalesce("done_at", "answered_at", "created_at")
    rows = Order.objects.alias(settled=settled).filter(
        status__in=(*Order.FULFILLED, Order.Status.REJECTED), settled__lt=before
    )
    if phone is not None:
        rows = rows.filter(phone=phone)
    events = OrderEvent.objects.filter(order__in=rows.values("pk"))
    if dry_run:
        return privacy.count_unanonymised(rows)
    # The records first: they are found through the orders' rows as they are now.
    privacy.anonymise_rows(events, phone_field="by_phone")
    return privacy.anonymise_rows(rows, extra={"name": privacy.ANONYMOUS_NAME})
