from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from activities.orders.views import ORDER_LINK
from activities.residents import web as residents
from activities.services import BOOKING_BUDGET, booking_cancel, booking_lookup
from activities.views import BOOKING_LINK, RATE_LIMITED_PAGE, home_sections
from common.pagecache import public_page
from network.models import Hall
from network.selectors import directory_counties, user_scope

from . import selectors
from .screen import screen_for
from .services import screen_link_find

# Enough for a province; past this the home page points to the full directory instead.
HOME_COUNTIES_MAX = 200


@public_page
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


# --- The big screen (大屏) ---------------------------------------------------------------------

SCREEN_REFRESH_SECONDS = 300


def _screen_page(request: HttpRequest, halls, *, public: bool) -> HttpResponse:
    response = render(
        request,
        "portal/screen.html",
        {
            "screen": screen_for(halls),
            "refresh": SCREEN_REFRESH_SECONDS,
            "public": public,
        },
    )
    # The secret link must not travel on to another site in a Referer header.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def screen(request: HttpRequest) -> HttpResponse:
    """The big screen of a signed-in staff member's scope."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    scope = user_scope(user)
    if scope.everything:
        halls = None
    elif not scope.ranges:
        raise Http404(_("您的账号不属于任何文化馆。"))
    else:
        halls = list(
            Hall.objects.filter(memberships__user=user).distinct().order_by("tree_id", "lft")
        )
    return _screen_page(request, halls, public=False)


def screen_public(request: HttpRequest, token: str) -> HttpResponse:
    """A hall's big screen through its secret link, without an account (read-only, nothing
    personal on it). A reset link, or any other token, answers 404."""
    link = screen_link_find(token)
    if link is None:
        raise Http404(_("大屏链接无效或已重置。"))
    return _screen_page(request, [link.hall], public=True)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    """403 in words: inside the admin, the admin's own page that says why (an official reads
    and exports, and changes nothing) with a way back; elsewhere, the site's page."""
    user = getattr(request, "user", None)
    if request.path.startswith("/admin/") and user is not None and user.is_authenticated:
        referer = request.META.get("HTTP_REFERER", "")
        back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else ""
        context = {
            **admin.site.each_context(request),
            "read_only": user_scope(user).read_only,
            "back": back,
        }
        return render(request, "admin/403.html", context, status=403)
    return render(request, "403.html", status=403)
