"""The residents' venue pages: a hall's venues, a venue's week of free and taken slots with the
form to reserve a range, and a reservation looked up by code and phone, and cancelled.

A reservation's page is reached only through a link signed by the server (after reserving or
after a lookup by phone + code), so a guessed code alone shows nothing. No page needs script.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from activities.residents import web as residents
from common.codes import normalize_code
from common.forms import add_service_errors
from common.privacy import consented
from common.signing import SignedLink
from common.storage import serve_image
from network.models import Hall

from . import selectors, services
from .forms import LookupForm, ReservationForm
from .models import Reservation

VENUES_PER_PAGE = 20
RATE_LIMITED_PAGE = "venues/rate_limited.html"
RESERVATION_LINK = SignedLink(salt="venues.reservation-page", viewname="venues:reservation_detail")


def _int(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def venue_list(request: HttpRequest) -> HttpResponse:
    """Bookable venues: of one hall (``?hall=``), within an area (``?within=``), or all."""
    hall_id, within = _int(request.GET.get("hall")), _int(request.GET.get("within"))
    hall = None
    if hall_id or within:
        hall = Hall.objects.filter(pk=hall_id or within).only("pk", "name").first()
        if hall is None:
            raise Http404(_("没有这个馆。"))
    venues = selectors.venues_public(hall=hall_id, within=None if hall_id else within)
    page = Paginator(venues, VENUES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "venues/venue_list.html",
        {"page": page, "hall": hall, "whole_area": bool(within and not hall_id)},
    )


def _week(request: HttpRequest, today: date) -> date:
    """The Monday of the week asked for (``?week=`` any date in it), this week by default,
    kept between this week and the last one that may be booked."""
    asked = None
    try:
        asked = parse_date(request.GET.get("week") or "")
    except ValueError:
        asked = None
    first, last = selectors.shown_weeks(today)
    monday = selectors.week_start(asked) if asked else first
    return min(max(monday, first), last)


def venue_photo(request: HttpRequest, venue_id: int) -> HttpResponse:
    venue = selectors.venue_public(venue_id)
    if venue is None or not venue.photo:
        raise Http404(_("没有这张照片。"))
    return serve_image(request, venue.photo, missing=_("照片已不存在。"))


def venue_detail(request: HttpRequest, venue_id: int) -> HttpResponse:
    venue = selectors.venue_public(venue_id)
    if venue is None:
        raise Http404(_("没有这个场馆,或它暂停预约。"))
    status = 200
    if request.method == "POST" and residents.unverified(request):
        # Nothing is read from the form: where the form was, the page asks to verify first.
        form = ReservationForm(venue=venue)
        status = 401
    elif request.method == "POST":
        phone = residents.verified_phone(request) or (request.POST.get("phone") or "").strip()
        limited = services.RESERVATION_BUDGET.page(request, template=RATE_LIMITED_PAGE, phone=phone)
        if limited is not None:
            return limited
        form = ReservationForm(request.POST, venue=venue)
        residents.bind_phone(form, request)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                reservation = services.reservation_create(
                    venue_id=venue.pk, venue=venue, start=data["start_at"], end=data["end_at"],
                    name=data["name"], phone=data["phone"], purpose=data["purpose"],
                    party_size=data["party_size"],
                    consent_version=consented(data)["consent_version"],
                )  # fmt: skip
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(RESERVATION_LINK.url(reservation.code))
    else:
        initial = {key: request.GET.get(key) for key in ("day", "start", "end")}
        form = ReservationForm(venue=venue, initial={k: v for k, v in initial.items() if v})
        residents.bind_phone(form, request)
    today = timezone.localdate()
    monday = _week(request, today)
    days = selectors.venue_days(venue, monday, 7)
    first, last = selectors.shown_weeks(today)
    times = sorted({timezone.localtime(s.start).time() for d in days for s in d.slots})
    rows = [
        (
            at,
            [
                next((s for s in d.slots if timezone.localtime(s.start).time() == at), None)
                for d in days
            ],
        )
        for at in times
    ]
    return render(
        request,
        "venues/venue_detail.html",
        {
            "venue": venue,
            "form": form,
            "days": days,
            "rows": rows,
            "monday": monday,
            "previous": monday - timedelta(weeks=1) if monday > first else None,
            "next": monday + timedelta(weeks=1) if monday < last else None,
            "today": today,
            "resident": residents.phone_context(request),
        },
        status=status,
    )


# --- A reservation ------------------------------------------------------------------------------


def _reservation_for_token(request: HttpRequest, code: str) -> Reservation:
    return RESERVATION_LINK.find(
        request,
        code,
        normalize=normalize_code,
        select=lambda c: (
            Reservation.objects.select_related("venue", "venue__hall", "team")
            .filter(code=c)
            .first()
        ),
        not_found=_("没有找到这个预约。"),
    )


def _reservation_page(request: HttpRequest, reservation: Reservation, *, errors=(), status=200):
    return render(
        request,
        "venues/reservation_detail.html",
        {
            "reservation": reservation,
            "token": RESERVATION_LINK.token(reservation.code),
            "can_cancel": reservation.status in Reservation.CANCELLABLE
            and reservation.start > timezone.now(),
            "errors": errors,
            "masked_phone": f"{reservation.phone[:3]}****{reservation.phone[-4:]}",
            "resident": residents.phone_context(request),
            "may_act": residents.may_act_for(request, reservation.phone),
        },
        status=status,
    )


def reservation_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _reservation_page(request, _reservation_for_token(request, code))


@require_POST
def reservation_cancel(request: HttpRequest, code: str) -> HttpResponse:
    reservation = _reservation_for_token(request, code)
    if not residents.may_act_for(request, reservation.phone):
        message = _("取消预约前,请先验证预约时填写的手机号码。")
        return _reservation_page(request, reservation, errors=[message], status=401)
    limited = services.RESERVATION_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
    if limited is not None:
        return limited
    try:
        services.reservation_cancel(code=reservation.code, phone=reservation.phone)
    except ValidationError as exc:
        return _reservation_page(request, reservation, errors=exc.messages, status=400)
    return redirect(RESERVATION_LINK.url(reservation.code) + "&cancelled=1")


def reservation_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        limited = services.RESERVATION_BUDGET.page(request, template=RATE_LIMITED_PAGE, lookup=True)
        if limited is not None:
            return limited
        form = LookupForm(request.POST)
        if form.is_valid():
            reservation = services.reservation_lookup(
                code=form.cleaned_data["code"], phone=form.cleaned_data["phone"]
            )
            if reservation is not None:
                return redirect(RESERVATION_LINK.url(reservation.code))
            # One message for an unknown code and for a wrong phone: a guess learns nothing.
            form.add_error(None, _("预约码与手机号码不匹配,请核对后再试。"))
    else:
        form = LookupForm()
    return render(request, "venues/reservation_lookup.html", {"form": form})
