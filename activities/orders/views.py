"""The residents' order pages (点单): pick a village, see the menus open to it, order an item or
ask for something else, follow the order by its code, rate it once it is done.

Like a booking, an order's page is reached only through a link signed by the server (after
ordering, or after a lookup by phone + code): the code alone shows nothing, because the page
carries the requester's name and request.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from activities import selectors as activity_selectors
from activities.residents import web as residents
from activities.services import NAME_MAX
from common.codes import normalize_code
from common.forms import add_service_errors, consent_field, name_field, phone_field
from common.privacy import consented
from common.signing import SignedLink
from network.forms import COUNTY_CHOICES_MAX, county_choices
from network.models import Hall, Membership, Role

from . import selectors, services
from .models import MenuItem, Order

# The links residents already hold are signed with this salt: it keeps its old name.
ORDER_LINK = SignedLink(salt="activities.order-page", viewname="orders:detail")
RATE_LIMITED_PAGE = "orders/rate_limited.html"
SEARCH_MAX = 30
ORDER_CODE_MAX = 12

FREE_REQUEST = ""


# --- Helpers ------------------------------------------------------------------------------------


def _point_staff(request: HttpRequest, point: Hall) -> bool:
    """A signed-in member of the village's own point orders as the point (服务点点单), which
    opens the items meant for points only."""
    user = request.user
    if not user.is_authenticated:
        return False
    return (
        Membership.objects.filter(user=user, hall_id=point.pk).exclude(role=Role.OFFICIAL).exists()
    )


# --- Forms --------------------------------------------------------------------------------------


class VillagePickForm(forms.Form):
    """County → township → village; each select appears once the one above it is chosen."""

    county = forms.TypedChoiceField(
        label=gettext_lazy("县(区)"), required=False, coerce=int, empty_value=None
    )
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇(街道)"), required=False, coerce=int, empty_value=None
    )
    point = forms.TypedChoiceField(
        label=gettext_lazy("村(社区)"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data, *, counties, townships, points) -> None:
        super().__init__(data)
        self.fields["county"].choices = county_choices(counties, _("请选择县(区)"))
        self.fields["township"].choices = [
            ("", _("请选择乡镇(街道)")),
            *((h.pk, h.locality) for h in townships),
        ]
        self.fields["point"].choices = [
            ("", _("请选择村(社区)")),
            *((h.pk, h.locality) for h in points),
        ]
        self.fields["county"].error_messages["invalid_choice"] = _("没有这个县(区),请重新选择。")
        self.fields["township"].error_messages["invalid_choice"] = _(
            "所选乡镇(街道)不在该县(区),请重新选择。"
        )
        self.fields["point"].error_messages["invalid_choice"] = _(
            "所选村(社区)不在该乡镇(街道),请重新选择。"
        )


class OrderForm(forms.Form):
    item = forms.TypedChoiceField(
        label=gettext_lazy("点什么"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("这项服务不对本村开放,请重新选择。")},
    )
    name = name_field(
        gettext_lazy("联系人"),
        max_length=NAME_MAX,
        required=gettext_lazy("请填写联系人。"),
        too_long=gettext_lazy("联系人最多 %(limit_value)d 个字。"),
    )
    phone = phone_field()
    description = forms.CharField(
        label=gettext_lazy("需求说明"),
        max_length=services.DESCRIPTION_MAX,
        error_messages={
            "required": gettext_lazy("请说明需要什么服务。"),
            "max_length": gettext_lazy("需求说明最多 %(limit_value)d 字。"),
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferred_date = forms.DateField(
        label=gettext_lazy("希望日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请填写正确的日期,如 2026-06-01。")},
    )
    consent = consent_field()

    def __init__(self, *args, items: list[MenuItem], today=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [
            (FREE_REQUEST, _("其他需求(不在菜单上)")),
            *(
                (
                    i.pk,
                    f"{i.title}({i.hall.name})"
                    if getattr(i, "left_this_month", None) != 0
                    else _("%(title)s(%(hall)s,本月已达限量)")
                    % {"title": i.title, "hall": i.hall.name},
                )
                for i in items
            ),
        ]
        if today is None:
            return
        # The date picker offers only what the service will take: from today, or for the
        # chosen item from today plus its lead days (static/js/orders.js follows the choice).
        chosen = _int(self.data.get("item") if self.is_bound else self.initial.get("item"))
        lead = {i.pk: i.lead_days for i in items}
        earliest = today + timedelta(days=lead.get(chosen, 0))
        attrs = self.fields["preferred_date"].widget.attrs
        attrs["min"] = earliest.isoformat()
        attrs["data-today"] = today.isoformat()
        attrs["data-lead-days"] = json.dumps({str(pk): days for pk, days in lead.items()})
        if chosen in lead:
            self.fields["preferred_date"].help_text = _(
                "该服务须提前 %(n)d 天,最早可选 %(date)s。"
            ) % {
                "n": lead[chosen],
                "date": earliest.isoformat(),
            }


class LookupForm(forms.Form):
    phone = phone_field()
    code = forms.CharField(
        label=gettext_lazy("订单号"),
        max_length=ORDER_CODE_MAX,
        error_messages={
            "required": gettext_lazy("请填写订单号。"),
            "max_length": gettext_lazy("订单号是 D 开头的 8 位字母和数字。"),
        },
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data["code"]).replace(" ", "")


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("评分"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择 1 到 5 分。"),
            "invalid_choice": gettext_lazy("评分须为 1 到 5 之间的整数。"),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("评价(选填)"),
        required=False,
        max_length=500,
        error_messages={"max_length": gettext_lazy("评价最多 %(limit_value)d 字。")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- Pick a village -----------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def order_pick(request: HttpRequest) -> HttpResponse:
    counties = activity_selectors.area_counties(limit=COUNTY_CHOICES_MAX)
    county_id = _int(request.GET.get("county"))
    township_id = _int(request.GET.get("township"))
    townships = (
        activity_selectors.area_townships(county_id)
        if county_id in {h.pk for h in counties}
        else []
    )
    points = selectors.area_points(township_id) if township_id in {h.pk for h in townships} else []
    form = VillagePickForm(
        request.GET or None, counties=counties, townships=townships, points=points
    )
    if form.is_bound and form.is_valid() and form.cleaned_data.get("point"):
        return redirect("orders:village", point_id=form.cleaned_data["point"])
    # A NUL byte cannot go to PostgreSQL in a query; nobody types one.
    query = (request.GET.get("q") or "").replace("\x00", "").strip()[:40]
    found = selectors.point_search(query, limit=SEARCH_MAX) if query else None
    return render(
        request,
        "orders/pick.html",
        {"form": form, "query": query, "found": found, "search_max": SEARCH_MAX},
    )


# --- A village's menu and the order form ---------------------------------------------------------


def order_village(request: HttpRequest, point_id: int) -> HttpResponse:
    point = selectors.order_point(point_id)
    if point is None:
        raise Http404(_("没有这个村(社区)服务点。"))
    as_point = _point_staff(request, point)
    menu = list(selectors.menu_items_for_point(point))
    today = timezone.localdate()
    used = selectors.menu_usage(point, today=today)
    for item in menu:
        item.left_this_month = (
            None
            if item.monthly_limit is None
            else max(item.monthly_limit - used.get(item.pk, 0), 0)
        )
    excluded = MenuItem.Orderers.RESIDENTS if as_point else MenuItem.Orderers.POINTS
    orderable = [item for item in menu if item.orderers != excluded]
    # A point's own staff order for their point, signed in; a resident orders from a phone
    # verified in this browser when verification is required.
    resident = {} if as_point else residents.phone_context(request)
    status = 200
    if request.method == "POST" and not as_point and residents.unverified(request):
        form = OrderForm(items=orderable, today=today)  # its place says to verify first
        status = 401
    elif request.method == "POST":
        phone = residents.verified_phone(request) or (request.POST.get("phone") or "").strip()
        limited = services.ORDER_BUDGET.page(request, template=RATE_LIMITED_PAGE, phone=phone)
        if limited is not None:
            return limited
        form = OrderForm(request.POST, items=orderable, today=today)
        if not as_point:
            residents.bind_phone(form, request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.order_create(
                    point_id=point.pk,
                    item_id=data["item"],
                    name=data["name"],
                    phone=data["phone"],
                    description=data["description"],
                    preferred_date=data["preferred_date"],
                    requested_by=request.user if as_point else None,
                    consent_version=consented(data)["consent_version"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(ORDER_LINK.url(order.code))
    else:
        initial = {}
        wanted = _int(request.GET.get("item"))
        if wanted in {item.pk for item in orderable}:
            initial["item"] = wanted
        form = OrderForm(initial=initial, items=orderable, today=today)
        if not as_point:
            residents.bind_phone(form, request)
    return render(
        request,
        "orders/village.html",
        {
            "point": point,
            "chain": [h for h in (point.parent.parent.parent, point.parent.parent, point.parent)],
            "menu": menu,
            "orderable_ids": {item.pk for item in orderable},
            "as_point": as_point,
            "form": form,
            "response_days": settings.ORDER_RESPONSE_WORKING_DAYS,
            "today": today,
            "resident": resident,
        },
        status=status,
    )


# --- An order's page ------------------------------------------------------------------------------


def _order_for_token(request: HttpRequest, code: str) -> Order:
    return ORDER_LINK.find(
        request,
        code,
        normalize=normalize_code,
        select=selectors.order_public,
        not_found=_("没有找到这个点单。"),
    )


def _order_page(request: HttpRequest, order: Order, *, rating_form=None, status=200):
    if rating_form is None and order.can(Order.Step.RATE):
        rating_form = RatingForm()
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "steps": selectors.order_history(order),
            "token": ORDER_LINK.token(order.code),
            "rating_form": rating_form,
            "masked_phone": f"{order.phone[:3]}****{order.phone[-4:]}",
            "overdue": order.is_overdue(),
            "resident": residents.phone_context(request),
            "may_act": residents.may_act_for(request, order.phone),
        },
        status=status,
    )


def order_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _order_page(request, _order_for_token(request, code))


@require_POST
def order_rate(request: HttpRequest, code: str) -> HttpResponse:
    order = _order_for_token(request, code)
    if not residents.may_act_for(request, order.phone):
        # The page says why and links to the verify page.
        return _order_page(request, order, status=401)
    limited = services.ORDER_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
    if limited is not None:
        return limited
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.order_rate(
                code=order.code,
                phone=order.phone,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(ORDER_LINK.url(order.code) + "&rated=1")
    return _order_page(request, order, rating_form=form, status=400)


def order_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        limited = services.ORDER_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
        if limited is not None:
            return limited
        form = LookupForm(request.POST)
        if form.is_valid():
            order = selectors.order_for_phone(
                form.cleaned_data["code"], phone=form.cleaned_data["phone"]
            )
            if order is not None:
                return redirect(ORDER_LINK.url(order.code))
            # One message for an unknown code and a wrong phone: a guess learns nothing.
            form.add_error(None, _("订单号与手机号码不匹配,请核对后再试。"))
    else:
        form = LookupForm()
    return render(request, "orders/lookup.html", {"form": form})
