"""The admin home page's 待办: what needs the account now, each with a count and a link to the
list where it is done.

Every count comes from the room that owns the data (orders, returns, dispatches, activities,
inspections, messages), over the account's scope, so the section costs the same few queries
whatever the size of the tree. An official reads and acts on nothing: only what is for
information (today's activities, windows closing) is listed for a read-only account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from activities.orders.selectors import orders_todo
from activities.residents.selectors import messages_failed
from activities.resources.selectors import dispatches_todo
from activities.selectors import activities_today
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import returns_todo
from evaluation.scoring.selectors import inspections_todo
from network.selectors import user_scope


@dataclass(frozen=True)
class TodoItem:
    key: str
    label: str
    count: int
    url: str
    detail: str = ""
    urgent: bool = False


def _url(name: str, **params) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


RETURN_ADMIN = {ReturnKind.SERVICE: "servicereturn", ReturnKind.ASSET: "assetreturn"}


def todo_for(user, now: datetime | None = None) -> list[TodoItem] | None:
    """The account's pending work, most urgent first; items with nothing pending are left out.
    ``None`` for an account with no scope."""
    scope = user_scope(user)
    if not scope.everything and not scope.ranges:
        return None
    now = now or timezone.now()
    acts = not scope.read_only
    items: list[TodoItem] = []

    if acts:
        orders = orders_todo(scope, now=now)
        items += [
            TodoItem(
                "orders_overdue",
                _("点单已逾期未答复"),
                orders["overdue"],
                _url("admin:orders_order_changelist", deadline="overdue"),
                urgent=True,
            ),
            TodoItem(
                "orders_due_soon",
                _("点单一天内到期待答复"),
                orders["due_soon"],
                _url("admin:orders_order_changelist", deadline="soon"),
                urgent=True,
            ),
            TodoItem(
                "orders_accepted",
                _("点单已受理待排期或完成"),
                orders["accepted"],
                _url("admin:orders_order_changelist", deadline="accepted"),
            ),
        ]
    returns = returns_todo(scope, now=now)
    for window, missing in returns.closing:
        items.append(
            TodoItem(
                f"window_{window.kind}_{window.year}",
                _("%(year)s 年%(kind)s填报即将截止")
                % {"year": window.year, "kind": window.get_kind_display()},
                missing,
                _url(f"admin:returns_{RETURN_ADMIN[window.kind]}_completeness", year=window.year),
                detail=_("截止 %(date)s,尚未报送的馆")
                % {"date": date_format(timezone.localtime(window.deadline), "SHORT_DATE_FORMAT")},
                urgent=True,
            )
        )
    if acts:
        for kind, label in ReturnKind.choices:
            changelist = f"admin:returns_{RETURN_ADMIN[kind]}_changelist"
            items.append(
                TodoItem(
                    f"returns_review_{kind}",
                    _("%(kind)s待审核") % {"kind": label},
                    returns.to_review[kind],
                    _url(changelist, review="mine"),
                )
            )
            items.append(
                TodoItem(
                    f"returns_returned_{kind}",
                    _("%(kind)s被退回待修改") % {"kind": label},
                    returns.returned[kind],
                    _url(changelist, status__exact="returned"),
                    urgent=True,
                )
            )
        dispatches = dispatches_todo(scope)
        items += [
            TodoItem(
                "dispatch_approve",
                _("调配申请待审批"),
                dispatches["approve"],
                _url("admin:resources_dispatch_changelist", mine="approve"),
            ),
            TodoItem(
                "dispatch_hand_over",
                _("调配已批准待交接"),
                dispatches["hand_over"],
                _url("admin:resources_dispatch_changelist", mine="owned", status__exact="approved"),
            ),
        ]
    today = activities_today(scope.q("hall__"), now=now)
    items.append(
        TodoItem(
            "activities_today",
            _("今日活动"),
            today["activities"],
            reverse("activities_staff:checkin"),
            detail=_("已签到 %(in)s / 已预约 %(booked)s 座")
            % {"in": today["checked_in"], "booked": today["booked"]},
        )
    )
    if acts:
        inspections = inspections_todo(scope.q("hall__"), today=timezone.localdate(now))
        items.append(
            TodoItem(
                "inspections_open",
                _("督查发现问题待整改"),
                inspections["open"],
                _url("admin:scoring_inspection_changelist", fixed_on__isnull="True"),
                detail=_("其中已超过整改期限 %(n)s 项") % {"n": inspections["overdue"]}
                if inspections["overdue"]
                else "",
                urgent=bool(inspections["overdue"]),
            )
        )
    if user.is_superuser:
        items.append(
            TodoItem(
                "messages_failed",
                _("短信发送失败"),
                messages_failed(),
                _url("admin:residents_message_changelist", status__exact="failed"),
                urgent=True,
            )
        )
    pending = [item for item in items if item.count]
    return sorted(pending, key=lambda item: not item.urgent)
