"""The check-in page staff use on a phone at the door: find the party by its booking code (typed
or scanned), see who it is, mark it present.

Scope is the admin's: activities organised by a hall in the account's scope; others answer 404.
Officials may look but not check in.
"""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from common import privacy
from common.codes import normalize_code
from network.selectors import Scope, user_scope

from . import selectors, services
from .models import Activity, Booking

UPCOMING_LIMIT = 50
# A phone's last four digits are shared by about one party in ten thousand; more than this many
# matches means the door should ask for the code instead.
PHONE_MATCHES_LIMIT = 20

CONFIRMED = Q(status=Booking.Status.CONFIRMED)
CHECKED_IN = Booking.checked_in_q()


def mask_phone(phone: str) -> str:
    """138****8000: enough for the resident to recognise, too little to copy down (the
    portal's one mask, ``common.privacy``); what was typed into the search as it was."""
    return privacy.mask_phone(phone) if len(phone) == 11 else phone


def _start_of_today() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def _in_scope(scope: Scope) -> QuerySet[Activity]:
    return Activity.objects.filter(scope.q("hall__")).select_related("hall", "venue_hall")


def checkin_activities(scope: Scope) -> QuerySet[Activity]:
    """Published activities with booking, from today on, each with its confirmed and checked-in
    parties and seats: one query whatever their number."""
    confirmed = Q(bookings__status=Booking.Status.CONFIRMED)
    checked = Booking.checked_in_q("bookings__")
    return (
        _in_scope(scope)
        .filter(
            status=Activity.Status.PUBLISHED,
            capacity__isnull=False,
            end__gte=_start_of_today(),
        )
        .annotate(
            confirmed_parties=Count("bookings", filter=confirmed),
            confirmed_seats=Coalesce(Sum("bookings__seats", filter=confirmed), 0),
            checked_parties=Count("bookings", filter=checked),
            checked_seats=Coalesce(Sum("bookings__seats", filter=checked), 0),
        )
        .order_by("start", "pk")[:UPCOMING_LIMIT]
    )


def checkin_counts(activity: Activity) -> dict[str, int]:
    return activity.bookings.aggregate(
        confirmed_parties=Count("pk", filter=CONFIRMED),
        confirmed_seats=Coalesce(Sum("seats", filter=CONFIRMED), 0),
        checked_parties=Count("pk", filter=CHECKED_IN),
        checked_seats=Coalesce(Sum("seats", filter=CHECKED_IN), 0),
    )


def _find_booking(activity: Activity, code: str, scope: Scope) -> tuple[Booking | None, str]:
    """The booking of ``activity`` with ``code``, or an error that says what is wrong.

    A code outside the account's scope answers exactly as one that does not exist, so the page
    never tells whether someone elsewhere booked under it."""
    if not code:
        return None, _("请输入预约码。")
    booking = (
        Booking.objects.select_related("activity__hall")
        .filter(scope.q("activity__hall__"), code=code)
        .first()
    )
    if booking is None:
        return None, _("没有这个预约码:%(code)s,请核对后再输入。") % {"code": code}
    if booking.activity_id != activity.pk:
        return None, _("预约码 %(code)s 属于另一个活动《%(title)s》,不能在本活动签到。") % {
            "code": code,
            "title": booking.activity.title,
        }
    return booking, ""


def _phone_search(activity: Activity, raw: str) -> tuple[list[Booking], str]:
    digits = "".join(ch for ch in raw if not ch.isspace() and ch != "-")
    if not digits:
        return [], ""
    if not digits.isdigit() or len(digits) not in (4, 11):
        return [], _("请输入手机号码的后 4 位,或完整的 11 位号码。")
    found = selectors.bookings_by_phone(activity, digits, limit=PHONE_MATCHES_LIMIT)
    if not found:
        return [], _("本活动没有手机号码为 %(digits)s 的预约。") % {
            "digits": digits if len(digits) == 4 else mask_phone(digits)
        }
    return found, ""


@staff_member_required
def checkin_index(request: HttpRequest) -> HttpResponse:
    scope = user_scope(request.user)
    return render(
        request,
        "activities/staff/checkin_index.html",
        {"activities": checkin_activities(scope), "today": timezone.localdate()},
    )


@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def checkin_activity(request: HttpRequest, activity_id: int) -> HttpResponse:
    scope = user_scope(request.user)
    # The session count rides along in the same query: a course links to its roll-call.
    activity = get_object_or_404(selectors.with_session_count(_in_scope(scope)), pk=activity_id)
    status = 200
    if request.method == "POST":
        if scope.read_only:
            raise PermissionDenied(_("只读账号不能签到。"))
        code = normalize_code(request.POST.get("code", ""))
        booking, error = _find_booking(activity, code, scope)
        if booking is not None:
            try:
                booking = services.booking_check_in(code=code, by_user=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    _("已签到:%(name)s,%(seats)d 人(预约码 %(code)s)。")
                    % {"name": booking.name, "seats": booking.seats, "code": booking.code},
                )
                return redirect(request.path)
        status = 400
    else:
        code = normalize_code(request.GET.get("code", ""))
        booking, error = _find_booking(activity, code, scope) if code else (None, "")
    phone_query = request.GET.get("phone", "").strip()[:20] if request.method != "POST" else ""
    phone_matches, phone_error = _phone_search(activity, phone_query)
    context = {
        "activity": activity,
        "counts": checkin_counts(activity),
        "code": code,
        "booking": booking,
        "masked_phone": mask_phone(booking.phone) if booking else "",
        "phone_query": phone_query,
        "phone_matches": [(b, mask_phone(b.phone)) for b in phone_matches],
        "phone_error": phone_error,
        "error": error,
        "may_check_in": not scope.read_only,
        "lookup_url": request.path,
        # Once the doors open, the count of who came is one step away.
        "attendance_url": reverse("admin:activities_activity_attendance", args=[activity.pk])
        if activity.start <= timezone.now()
        else "",
        "sessions_url": reverse("admin:activities_activity_sessions", args=[activity.pk])
        if activity.session_count
        else "",
        "bookings_url": reverse("admin:activities_booking_changelist")
        + "?"
        + urlencode({"activity__id__exact": activity.pk}),
    }
    return render(request, "activities/staff/checkin_activity.html", context, status=status)
