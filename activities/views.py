"""The residents' pages: find an activity, book it, look the booking up and cancel it; notices.

A booking's page is reached only through a link signed by the server (after booking or after a
lookup by phone + code), so a guessed code alone shows nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from activities.residents import web as residents
from common.codes import normalize_code
from common.forms import add_service_errors
from common.pagecache import public_page
from common.pagination import RowsFirstPaginator
from common.privacy import consented
from common.signing import SignedLink
from common.storage import serve_image
from network.models import Hall
from network.navigation import map_links
from network.selectors import hall_opening

from . import selectors, services
from .calendar import activity_jsonld, calendar_ics
from .forms import (
    ActivityFilterForm,
    BookingForm,
    GroupBookingForm,
    LookupForm,
)
from .models import Activity, Booking
from .qr import qr_svg

ACTIVITIES_PER_PAGE = 12
NOTICES_PER_PAGE = 20
HOME_UPCOMING = 6
HOME_NOTICES = 5
# About 230 px for a version-1 code: big enough for a scanner held at arm's length, within 375 px.
QR_SCALE = 8
RATE_LIMITED_PAGE = "activities/rate_limited.html"
# Salted apart from every other signature: a token proves "the server gave this browser the
# booking", for one code.
BOOKING_LINK = SignedLink(salt="activities.booking-page", viewname="activities:booking_detail")


# --- Activities ---------------------------------------------------------------------------------


# A date range is each visitor's own pick: its pages are rendered for each request, not kept.
@public_page(params=(*ActivityFilterForm.base_fields, "page"), own=("date_from", "date_to"))
def activity_list(request: HttpRequest) -> HttpResponse:
    form, area = selectors.area_filter(
        request, ActivityFilterForm, unknown=_("没有这个场馆,已显示全部区域的活动。")
    )
    data = form.cleaned_data
    activities = selectors.activity_cards_public(
        within=area.pk if area else None,
        category=data.get("category") or None,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        seats_available=bool(data.get("seats")),
    )
    page = RowsFirstPaginator(activities, ACTIVITIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/activity_list.html",
        {"form": form, "page": page, "area": area, "now": timezone.now()},
    )


@public_page
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_public(activity_id)
    if activity is None:
        raise Http404(_("没有这个活动。"))
    status = 200
    # A course that takes groups shows a second form (团体报名); a POST says which one it is.
    takes_groups = activity.group_limit > 0
    as_group = takes_groups and request.method == "POST" and "group_kind" in request.POST
    form = BookingForm(activity=activity)
    group_form = GroupBookingForm(activity=activity) if takes_groups else None
    if request.method == "POST" and residents.unverified(request):
        # Nothing is read from the form: where the form was, the page asks to verify first.
        status = 401
    elif request.method == "POST":
        phone = residents.verified_phone(request) or (request.POST.get("phone") or "").strip()
        limited = services.BOOKING_BUDGET.page(request, template=RATE_LIMITED_PAGE, phone=phone)
        if limited is not None:
            return limited
        posted = (GroupBookingForm if as_group else BookingForm)(request.POST, activity=activity)
        residents.bind_phone(posted, request)
        if posted.is_valid():
            try:
                booking = services.booking_create(
                    activity_id=activity.pk, activity=activity, **consented(posted.cleaned_data)
                )
            except ValidationError as exc:
                add_service_errors(posted, exc)
            else:
                return redirect(BOOKING_LINK.url(booking.code))
        if as_group:
            group_form = posted
        else:
            form = posted
    for shown in (form, group_form):
        if shown is not None:
            residents.bind_phone(shown, request)
    now = timezone.now()
    return render(
        request,
        "activities/activity_detail.html",
        {
            "activity": activity,
            "form": form,
            "group_form": group_form,
            "sessions": selectors.course_sessions(activity),
            "state": activity.booking_state(now),
            "now": now,
            "no_show_limit": settings.NO_SHOW_LIMIT,
            "no_show_window_days": settings.NO_SHOW_WINDOW_DAYS,
            "no_show_ban_days": settings.NO_SHOW_BAN_DAYS,
            "share_url": request.build_absolute_uri(activity_url(activity)),
            "jsonld": activity_jsonld(
                activity,
                url=request.build_absolute_uri(activity_url(activity)),
                organizer_url=request.build_absolute_uri(
                    reverse("network:hall_detail", args=[activity.hall_id])
                ),
            ),
            "map_links": map_links(activity.venue_hall),
            "opening": hall_opening(activity.venue_hall, now=now),
            "resident": residents.phone_context(request),
        },
        status=status,
    )


def activity_picture(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The picture of a published activity (from the disk or the bucket; served in production
    too, where nothing serves MEDIA_URL)."""
    activity = selectors.activity_public(activity_id)
    if activity is None or not activity.picture:
        raise Http404(_("没有这张图片。"))
    return serve_image(request, activity.picture, missing=_("图片已不存在。"))


def activity_url(activity: Activity) -> str:
    return reverse("activities:activity_detail", args=[activity.pk])


def _calendar_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def activity_calendar(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The activity as an ``.ics`` to add to the phone's calendar; a cancelled one says so."""
    activity = selectors.activity_public(activity_id)
    if activity is None:
        raise Http404(_("没有这个活动。"))
    url = request.build_absolute_uri(activity_url(activity))
    selectors.attach_sessions([activity])  # a course: one event per session; none: no query
    body = calendar_ics([(activity, url)], name=activity.title)
    return _calendar_response(body, f"activity-{activity.pk}.ics")


def hall_calendar(request: HttpRequest, hall_id: int) -> HttpResponse:
    """A hall's feed to subscribe to: its activities that have not ended, a course as its
    sessions (two queries, three when a course is among them)."""
    hall = Hall.objects.filter(pk=hall_id).only("pk", "name").first()
    if hall is None:
        raise Http404(_("没有这个场馆。"))
    activities = [
        (activity, request.build_absolute_uri(activity_url(activity)))
        for activity in selectors.attach_sessions(list(selectors.activities_calendar(hall.pk)))
    ]
    body = calendar_ics(activities, name=hall.name)
    return _calendar_response(body, f"hall-{hall.pk}.ics")


# --- Bookings -----------------------------------------------------------------------------------


def _booking_for_token(request: HttpRequest, code: str) -> Booking:
    return BOOKING_LINK.find(
        request,
        code,
        normalize=normalize_code,
        select=selectors.booking_public,
        not_found=_("没有找到这个预约。"),
    )


def _booking_page(request: HttpRequest, booking: Booking, *, errors=(), status=200):
    now = timezone.now()
    activity = booking.activity
    live = booking.status != Booking.Status.CANCELLED
    position = (
        selectors.waitlist_position(booking)
        if booking.status == Booking.Status.WAITLISTED
        else None
    )
    ban = services.no_show_ban(booking.phone, now=now)
    return render(
        request,
        "activities/booking_detail.html",
        {
            "booking": booking,
            "activity": activity,
            "token": BOOKING_LINK.token(booking.code),
            "position": position,
            "qr": qr_svg(booking.code, scale=QR_SCALE) if live else "",
            "can_cancel": live
            and activity.status != Activity.Status.CANCELLED
            and now < activity.cancellable_until,
            "ban": ban,
            "errors": errors,
            "masked_phone": f"{booking.phone[:3]}****{booking.phone[-4:]}",
            "resident": residents.phone_context(request),
            "may_act": residents.may_act_for(request, booking.phone),
        },
        status=status,
    )


def booking_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _booking_page(request, _booking_for_token(request, code))


@require_POST
def booking_cancel(request: HttpRequest, code: str) -> HttpResponse:
    booking = _booking_for_token(request, code)
    if not residents.may_act_for(request, booking.phone):
        return _booking_page(
            request, booking, errors=[_("请先验证预约时的手机号码,再取消预约。")], status=401
        )
    if request.POST.get("ask"):
        # The booking page's 取消预约 asks first; the confirmation posts again without "ask".
        return render(
            request,
            "activities/booking_cancel_confirm.html",
            {
                "booking": booking,
                "activity": booking.activity,
                "token": BOOKING_LINK.token(booking.code),
            },
        )
    limited = services.BOOKING_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
    if limited is not None:
        return limited
    try:
        services.booking_cancel(code=booking.code, phone=booking.phone)
    except ValidationError as exc:
        return _booking_page(request, booking, errors=exc.messages, status=400)
    return redirect(BOOKING_LINK.url(booking.code) + "&cancelled=1")


def booking_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        limited = services.BOOKING_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
        if limited is not None:
            return limited
        form = LookupForm(request.POST)
        if form.is_valid():
            booking = services.booking_lookup(
                code=form.cleaned_data["code"], phone=form.cleaned_data["phone"]
            )
            if booking is not None:
                return redirect(BOOKING_LINK.url(booking.code))
            # One message for an unknown code and for a wrong phone: a guess learns nothing.
            form.add_error(None, _("预约码与手机号码不匹配,请核对后再试。"))
    else:
        form = LookupForm()
    return render(request, "activities/booking_lookup.html", {"form": form})


# --- Notices ------------------------------------------------------------------------------------


def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_public(), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "activities/notice_list.html", {"page": page})


def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_public(notice_id)
    if notice is None:
        raise Http404(_("没有这条公告。"))
    return render(request, "activities/notice_detail.html", {"notice": notice})


# --- The home page's sections -------------------------------------------------------------------


def home_sections() -> dict:
    """Context for ``activities/_home.html``: the home view merges it into its own (three
    queries whatever the number of activities)."""
    return {
        "upcoming_activities": list(
            selectors.as_cards(selectors.activities_public())[:HOME_UPCOMING]
        ),
        "featured_activities": list(
            selectors.as_cards(selectors.activities_featured(limit=HOME_UPCOMING))
        ),
        "recent_notices": list(selectors.notices_recent(limit=HOME_NOTICES)),
        "now": timezone.now(),
    }
