from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from activities.orders.views import ORDER_LINK
from activities.residents import web as residents
from activities.services import BOOKING_BUDGET, booking_cancel, booking_lookup
from activities.views import BOOKING_LINK, RATE_LIMITED_PAGE, home_sections
from network.selectors import directory_counties

from . import selectors

# Enough for a province; past this the home page points to the full directory instead.
HOME_COUNTIES_MAX = 200


def home(request: HttpRequest) -> HttpResponse:
    """A search box and the counties of the network, grouped by city, as quick links."""
    counties = list(directory_counties()[: HOME_COUNTIES_MAX + 1])
    return render(
        request,
        "portal/home.html",
        {
            "counties": counties[:HOME_COUNTIES_MAX],
            "more": len(counties) > HOME_COUNTIES_MAX,
            **home_sections(),
        },
    )


def privacy(request: HttpRequest) -> HttpResponse:
    """隐私政策: what is kept about residents, why, who sees it, for how long, their rights."""
    return render(
        request,
        "portal/privacy.html",
        {
            "version": settings.PRIVACY_NOTICE_VERSION,
            "retention_days": settings.RESIDENT_DATA_RETENTION_DAYS,
        },
    )


# --- 我的: a verified phone's own page ------------------------------------------------------------


def _verified_or_redirect(request: HttpRequest) -> str | HttpResponse:
    phone = residents.verified_phone(request)
    if phone is None:
        return redirect(residents.verify_url(request.get_full_path()))
    return phone


def me(request: HttpRequest) -> HttpResponse:
    """Every booking, order and survey answer of the browser's verified phone, with each
    booking's code (a lost code is found here) and a way to cancel."""
    phone = _verified_or_redirect(request)
    if isinstance(phone, HttpResponse):
        return phone
    overview = selectors.resident_overview(phone)
    for booking in overview.bookings:
        booking.link = BOOKING_LINK.url(booking.code)
    for order in overview.orders:
        order.link = ORDER_LINK.url(order.code)
    return render(
        request,
        "portal/me.html",
        {
            "overview": overview,
            "masked_phone": f"{phone[:3]}****{phone[-4:]}",
            "resident": residents.phone_context(request),
            "cancelled": request.GET.get("cancelled", ""),
        },
    )


def me_cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancel one of the phone's bookings, after a confirmation step."""
    phone = _verified_or_redirect(request)
    if isinstance(phone, HttpResponse):
        return phone
    booking = booking_lookup(code=code, phone=phone)
    if booking is None:
        raise Http404(_("没有找到这个预约。"))
    errors: list[str] = []
    if request.method == "POST":
        limited = BOOKING_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
        if limited is not None:
            return limited
        try:
            booking_cancel(code=booking.code, phone=phone)
        except ValidationError as exc:
            errors = exc.messages
        else:
            return redirect(f"{reverse('me')}?{urlencode({'cancelled': booking.code})}")
    return render(
        request,
        "portal/me_cancel.html",
        {"booking": booking, "activity": booking.activity, "errors": errors},
        status=400 if errors else 200,
    )
