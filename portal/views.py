from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from activities.orders.views import ORDER_LINK
from activities.residents import web as residents
from activities.services import BOOKING_BUDGET, booking_cancel, booking_lookup
from activities.views import BOOKING_LINK, RATE_LIMITED_PAGE, home_sections
from common.pagecache import public_page
from common.privacy import mask_phone
from network.models import Hall
from network.selectors import directory_counties, user_scope

from . import selectors
from .privacy import erasure_request, kept_about
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


# --- 我的数据: see, download and remove what is kept about the phone (个人信息保护法) -----------------

DATA_SECTIONS = {
    "verified_phone": _lazy("已验证手机"),
    "bookings": _lazy("活动预约"),
    "orders": _lazy("点单"),
    "reservations": _lazy("场馆预约"),
    "survey_answers": _lazy("满意度评价"),
    "messages": _lazy("短信"),
}


FIELD_LABELS = {
    "code": _lazy("编号"),
    "activity__title": _lazy("活动"),
    "activity__start": _lazy("活动时间"),
    "point__name": _lazy("服务点"),
    "handler__name": _lazy("承办馆"),
    "venue__name": _lazy("场馆"),
    "hall__name": _lazy("被评价馆"),
    "name": _lazy("姓名"),
    "phone": _lazy("手机号码"),
    "seats": _lazy("座位数"),
    "description": _lazy("需求说明"),
    "preferred_date": _lazy("希望日期"),
    "start": _lazy("开始时间"),
    "end": _lazy("结束时间"),
    "purpose": _lazy("用途"),
    "party_size": _lazy("人数"),
    "quarter": _lazy("季度"),
    "rating": _lazy("评分"),
    "rating_comment": _lazy("评价"),
    "comment": _lazy("意见建议"),
    "template": _lazy("模板"),
    "text": _lazy("内容"),
    "status": _lazy("状态"),
    "created_at": _lazy("提交时间"),
    "verified_at": _lazy("最近验证时间"),
    "cancelled_at": _lazy("取消时间"),
    "checked_in_at": _lazy("签到时间"),
    "sent_at": _lazy("发送时间"),
    "consent_version": _lazy("同意的隐私政策版本"),
    "consented_at": _lazy("同意时间"),
}


def me_data(request: HttpRequest) -> HttpResponse:
    """Everything kept about the verified phone, section by section, with a download and the
    way to ask for its removal."""
    phone = _verified_or_redirect(request)
    if isinstance(phone, HttpResponse):
        return phone
    data = selectors.resident_data(phone)
    return render(
        request,
        "portal/me_data.html",
        {
            "sections": [
                (
                    key,
                    DATA_SECTIONS[key],
                    [
                        [(FIELD_LABELS.get(f, f), v) for f, v in row.items() if v not in (None, "")]
                        for row in rows
                    ],
                )
                for key, rows in data.items()
            ],
            "masked_phone": mask_phone(phone),
            "retention_days": settings.RESIDENT_DATA_RETENTION_DAYS,
        },
    )


def me_data_download(request: HttpRequest) -> HttpResponse:
    """The same as a JSON file: the resident's copy."""
    phone = _verified_or_redirect(request)
    if isinstance(phone, HttpResponse):
        return phone
    body = {
        "phone": phone,
        "exported_at": timezone.localtime().isoformat(timespec="seconds"),
        "privacy_notice": settings.PRIVACY_NOTICE_VERSION,
        **selectors.resident_data(phone),
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


def me_erase(request: HttpRequest) -> HttpResponse:
    """删除我的数据, after a confirmation: what has ended is anonymised now; an open booking,
    order or reservation keeps the phone until it ends (nothing is cancelled) and goes then."""
    phone = _verified_or_redirect(request)
    if isinstance(phone, HttpResponse):
        return phone
    context = {"masked_phone": mask_phone(phone)}
    if request.method == "POST":
        erasure = erasure_request(phone=phone)
        done = erasure.done_at is not None
        context.update(done=done, kept=0 if done else kept_about(phone))
        response = render(request, "portal/me_erased.html", context)
        if erasure.done_at is not None:
            # The verified phone is gone with its tokens: the browser's cookie proves nothing.
            response.delete_cookie(residents.COOKIE)
        return response
    return render(request, "portal/me_erase.html", context)
