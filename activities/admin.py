"""Activities, bookings and notices in the admin, each scoped by ``ScopedAdminMixin``.

Activities are written only through ``activities.services``: the add/change form validates, and
``save_model`` calls ``activity_create``/``activity_update``; a rule the service refuses comes
back as an error on the form with nothing saved (``ScopedAdminMixin.changeform_view``); publishing and cancelling are actions that call
``activity_publish``/``activity_cancel``. Bookings are read here; their seats and status change
only through the services (booking, cancelling, check-in on the staff check-in page).
An activity's attendance (参与人次) is entered on its own page, "登记参与人次", linked from the
activity's change page and from the check-in page; the list shows each activity's participants.
"""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.residents.admin_privacy import ResidentPhoneAdminMixin, may_see_full_phones
from activities.residents.models import PersonalDataAccess
from activities.residents.services import personal_data_access_log
from common.forms import add_service_errors
from common.uploads import MB, checked_picture_field
from network.admin_scope import ScopedAdminMixin
from network.selectors import person_name

from . import selectors, services
from .course_admin import CourseAdminMixin, CourseSessionInline
from .exports import write_signup_list
from .forms import AttendanceForm
from .models import Activity, Attendance, Booking, Notice

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ACTIVITY_FORM_FIELDS = [
    "hall",
    "venue_hall",
    "category",
    "title",
    "description",
    "picture",
    "venue",
    "start",
    "end",
    "capacity",
    "booking_opens",
    "booking_closes",
    "cancel_deadline",
    "max_seats_per_booking",
    "group_limit",
    "completion_share",
    "featured",
]


class ActivityAdminForm(forms.ModelForm):
    """Validates the input; ``ActivityAdmin.save_model`` writes it through the services."""

    class Meta:
        model = Activity
        fields = ACTIVITY_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "venue_hall" in self.fields:
            self.fields["venue_hall"].required = False
            self.fields["venue_hall"].help_text = _(
                "留空即为主办馆;在下属的馆举办(如流动服务到村)时选择该馆。"
            )

    def clean_picture(self):
        return checked_picture_field(
            self.cleaned_data.get("picture"), max_bytes=settings.PICTURE_MAX_MB * MB
        )

    def _post_clean(self) -> None:
        # Django's model validation is the service's to run (ActivityAdmin.save_model): its
        # messages name the rule broken instead of a database constraint's name.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


@admin.register(Activity)
class ActivityAdmin(CourseAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "hall"
    allow_delete = False  # an activity is cancelled, never deleted: its bookings are on record
    form = ActivityAdminForm
    change_form_template = "activities/staff/admin_activity_change_form.html"
    inlines = [CourseSessionInline]
    list_display = [
        "title",
        "category",
        "hall",
        "venue_hall",
        "start",
        "capacity",
        "seats_taken",
        "seats_left_display",
        "participants_display",
        "status",
    ]
    list_filter = ["status", "category", "hall"]
    list_select_related = ["hall", "venue_hall"]
    search_fields = ["title", "venue", "hall__name", "venue_hall__name"]
    search_help_text = gettext_lazy("按标题、场地或馆名搜索")
    date_hierarchy = "start"
    ordering = ["-start", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    save_as = False
    actions = ["publish_activities", "cancel_activities"]
    # The actions that write; officials get 403 for them rather than "no action selected".
    fieldsets = [
        (None, {"fields": ["hall", "venue_hall", "category", "title", "description", "picture"]}),
        (gettext_lazy("时间与地点"), {"fields": ["venue", ("start", "end")]}),
        (
            gettext_lazy("预约"),
            {
                "fields": [
                    ("capacity", "max_seats_per_booking"),
                    ("booking_opens", "booking_closes"),
                    "cancel_deadline",
                ]
            },
        ),
        (
            gettext_lazy("培训班"),
            {
                "fields": [("group_limit", "completion_share")],
                "description": gettext_lazy(
                    "在下方添加课次(或保存后用“按周重复添加课次”)即为培训班:学员一次报名全部课次,"
                    "每次课点名,出勤达到比例即为结业。"
                ),
            },
        ),
        (gettext_lazy("展示"), {"fields": ["featured"]}),
        (
            gettext_lazy("状态"),
            {"fields": ["status", "seats_taken", "created_by_name", "created_at", "cancelled_at"]},
        ),
    ]
    readonly_fields = ["status", "seats_taken", "created_by_name", "created_at", "cancelled_at"]

    @admin.display(description=gettext_lazy("创建人"))
    def created_by_name(self, activity: Activity) -> str:
        return person_name(activity.created_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("剩余座位"))
    def seats_left_display(self, activity: Activity):
        left = activity.seats_left
        return _("无需预约") if left is None else left

    @admin.display(description=gettext_lazy("参与人次"), ordering="participants")
    def participants_display(self, activity: Activity):
        """The figure every statistic counts, and where it came from."""
        if activity.roll_call_seats is not None:
            how = _("课次点名")
        elif activity.attendance_method:
            how = Attendance.Method(activity.attendance_method).label
        elif activity.checked_in_seats:
            how = _("预约签到")
        else:
            return "—"
        return f"{activity.participants}({how})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Activity]:
        return selectors.with_participants(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets[:-1]
        return self.fieldsets

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A cancelled activity stays on record as it was.
        if obj is not None and obj.status == Activity.Status.CANCELLED:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        if data.get("picture") is False:  # the "clear" box of the picture
            data["picture"] = ""
        if not change:
            fields = {k: data[k] for k in ACTIVITY_FORM_FIELDS if k in data and k != "hall"}
            saved = services.activity_create(hall=data["hall"], created_by=request.user, **fields)
        else:
            changed = {k: data[k] for k in form.changed_data if k in data}
            if "venue_hall" in changed and changed["venue_hall"] is None:
                changed["venue_hall"] = data.get("hall") or obj.hall
            saved = services.activity_update(activity=obj, **changed)
        obj.pk = saved.pk

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "staff_links": self._staff_links(obj),
            "is_draft": obj.status == Activity.Status.DRAFT,
            "may_publish": obj.status == Activity.Status.DRAFT
            and self.has_change_permission(request, obj),
        }
        if may_see_full_phones(request.user, obj.hall_id):
            extra_context["full_signup_url"] = reverse(
                f"{self.admin_site.name}:activities_activity_signup", args=[obj.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        """A new activity is a draft that residents cannot see yet: say so, and open its page,
        where 发布 makes it public."""
        response = super().response_add(request, obj, post_url_continue)
        if obj.status != Activity.Status.DRAFT or "_popup" in request.POST:
            return response
        self.message_user(
            request,
            _("活动“%(title)s”已保存为草稿,群众还看不到;核对无误后请点“发布”。")
            % {"title": obj.title},
            messages.WARNING,
        )
        if "_addanother" in request.POST:
            return response
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:activities_activity_change", args=[obj.pk])
        )

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """发布 on a draft's own page: the same service as the list's action."""
        activity = self.get_object(request, object_id)
        change_url = reverse(
            f"{self.admin_site.name}:activities_activity_change", args=[activity.pk]
        )
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        if not self.has_change_permission(request, activity):
            raise PermissionDenied
        try:
            services.activity_publish(activity=activity)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("活动“%(title)s”已发布,群众现在可以看到并预约。") % {"title": activity.title},
            )
        return HttpResponseRedirect(change_url)

    def _staff_links(self, activity: Activity) -> list[tuple[str, str]]:
        bookings = reverse(f"{self.admin_site.name}:activities_booking_changelist")
        by_activity = {"activity__id__exact": activity.pk}
        return [
            (_("预约名单"), f"{bookings}?{urlencode(by_activity)}"),
            (
                _("候补名单"),
                f"{bookings}?{urlencode({**by_activity, 'status__exact': 'waitlisted'})}",
            ),
            (
                _("下载报名名单(Excel)"),
                reverse(f"{self.admin_site.name}:activities_activity_signup", args=[activity.pk]),
            ),
            (_("签到页"), reverse("activities_staff:checkin_activity", args=[activity.pk])),
            (
                _("登记参与人次"),
                reverse(
                    f"{self.admin_site.name}:activities_activity_attendance", args=[activity.pk]
                ),
            ),
            (
                _("课次与点名"),
                reverse(f"{self.admin_site.name}:activities_activity_sessions", args=[activity.pk]),
            ),
        ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/signup.xlsx",
                self.admin_site.admin_view(self.signup_view),
                name="activities_activity_signup",
            ),
            path(
                "<path:object_id>/attendance/",
                self.admin_site.admin_view(self.attendance_view),
                name="activities_activity_attendance",
            ),
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="activities_activity_publish",
            ),
            *self.course_urls(),
            *super().get_urls(),
        ]

    def signup_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The sign-up list of one activity in the user's scope (404 outside it), phones masked;
        a POST with ``full=1`` gives full numbers to staff of the organising hall, logged."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = self.get_object(request, object_id)
        full = request.method == "POST" and request.POST.get("full") == "1"
        if full and not may_see_full_phones(request.user, activity.hall_id):
            raise PermissionDenied
        buffer = io.BytesIO()
        rows = write_signup_list(activity, buffer, full_phones=full)
        if full:
            personal_data_access_log(
                user=request.user,
                record=activity,
                reason=PersonalDataAccess.Reason.EXPORT,
                rows=rows,
            )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="signup-{activity.pk}-{stamp}.xlsx"'
        )
        return response

    def attendance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """登记参与人次: staff of the activity's hall or a hall above record how many took part;
        the form starts from the checked-in seats. Officials see the figure and its log."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = self.get_object(request, object_id)  # 404 outside the scope
        may_write = self.has_change_permission(request, activity)
        if request.method == "POST" and not may_write:
            raise PermissionDenied
        initial = services.attendance_initial(activity=activity)
        form = AttendanceForm(
            request.POST if request.method == "POST" else None,
            initial=initial,
            activity=activity,
            user=request.user,
        )
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.attendance_record(
                        activity=activity, **form.cleaned_data, by=request.user
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        _("已登记《%(title)s》的参与人次:%(n)d。")
                        % {"title": activity.title, "n": form.cleaned_data["head_count"]},
                    )
                    return HttpResponseRedirect(request.path)
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("登记参与人次"),
            "opts": self.opts,
            "activity": activity,
            "form": form,
            "may_write": may_write,
            "refusal": self._attendance_refusal(request, activity, initial) if may_write else "",
            "checked_in": selectors.checked_in_seats(activity),
            "attendance": selectors.attendance_of(activity),
            "changes": selectors.attendance_changes(activity),
        }
        return TemplateResponse(
            request, "activities/staff/admin_attendance.html", context, status=status
        )

    @staticmethod
    def _attendance_refusal(request: HttpRequest, activity: Activity, initial: dict) -> str:
        """Why this activity cannot get attendance now (not started, cancelled), said before
        anyone types; empty when it can."""
        try:
            services.attendance_check(activity=activity, **initial, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            return " ".join(getattr(exc, "messages", [str(exc)]))
        return ""

    @admin.action(description=gettext_lazy("发布"), permissions=["change"])
    def publish_activities(self, request: HttpRequest, queryset: QuerySet[Activity]):
        published = skipped = 0
        for activity in queryset:
            try:
                services.activity_publish(activity=activity)
            except ValidationError:
                skipped += 1
            else:
                published += 1
        if published:
            self.message_user(request, _("已发布 %(n)d 个活动。") % {"n": published})
        if skipped:
            self.message_user(
                request,
                _("%(n)d 个活动不是草稿,未发布。") % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("取消活动"), permissions=["change"])
    def cancel_activities(self, request: HttpRequest, queryset: QuerySet[Activity]):
        """Asks first (the bookings of each activity are cancelled too), like Django's delete."""
        live = queryset.exclude(status=Activity.Status.CANCELLED)
        if request.POST.get("confirm") != "yes":
            rows = [
                (activity, activity.bookings.exclude(status=Booking.Status.CANCELLED).count())
                for activity in live.select_related("hall")
            ]
            context = {
                **self.admin_site.each_context(request),
                "title": _("确认取消活动"),
                "opts": self.opts,
                "rows": rows,
                "already": queryset.count() - len(rows),
                "selected": list(queryset.values_list("pk", flat=True)),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "activities/staff/admin_cancel_confirm.html", context)
        reason = (request.POST.get("reason") or "").strip()[:120]
        cancelled = 0
        for activity in live:
            services.activity_cancel(activity=activity, reason=reason)
            cancelled += 1
        if cancelled:
            self.message_user(
                request, _("已取消 %(n)d 个活动,其预约已一并取消并保留记录。") % {"n": cancelled}
            )
        else:
            self.message_user(request, _("所选活动都已取消,无需再操作。"), messages.WARNING)
        return None


@admin.register(Booking)
class BookingAdmin(ResidentPhoneAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Read-mostly: seats and status change only through the services."""

    scope_path = "activity__hall"
    allow_add = False
    allow_delete = False  # a booking is cancelled, never deleted
    list_display = [
        "code",
        "name",
        "masked_phone",
        "seats",
        "status",
        "activity_link",
        "created_at",
        "checked_in_at",
    ]
    list_filter = ["status"]
    list_select_related = ["activity"]
    search_fields = ["=code", "phone", "name"]
    search_help_text = gettext_lazy("按预约码、手机号码或姓名搜索")
    ordering = ["created_at", "pk"]
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "activity",
        "code",
        "name",
        "masked_phone",
        "seats",
        "status",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "cancel_reason",
        "checked_in_at",
        "checked_in_by_name",
    ]
    readonly_fields = fields
    actions = ["check_in_bookings"]
    change_form_template = "admin/residents/change_form.html"

    def organiser_hall(self, booking: Booking) -> int:
        return booking.activity.hall_id

    @admin.display(description=gettext_lazy("签到人"))
    def checked_in_by_name(self, booking: Booking) -> str:
        return person_name(booking.checked_in_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("活动"), ordering="activity__start")
    def activity_link(self, booking: Booking):
        url = reverse(
            f"{self.admin_site.name}:activities_activity_change", args=[booking.activity_id]
        )
        return format_html('<a href="{}">{}</a>', url, booking.activity.title)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only here; changes go through the services

    @admin.action(description=gettext_lazy("签到"), permissions=["change"])
    def check_in_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]):
        done = 0
        refused = []
        for booking in queryset:
            try:
                services.booking_check_in(code=booking.code, by_user=request.user)
            except ValidationError as exc:
                refused.append(f"{booking.code}:{' '.join(exc.messages)}")
            else:
                done += 1
        if done:
            self.message_user(request, _("已签到 %(n)d 个预约。") % {"n": done})
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(Notice)
class NoticeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "hall"
    list_display = ["title", "hall", "published_at", "pinned"]
    list_filter = ["pinned", "hall"]
    list_select_related = ["hall"]
    search_fields = ["title", "body"]
    ordering = ["-pinned", "-published_at"]
    date_hierarchy = "published_at"
    show_full_result_count = False
    fields = ["hall", "title", "body", "published_at", "pinned"]

    def get_changeform_initial_data(self, request: HttpRequest):
        return {"published_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k in self.fields}
        if change:
            changed = {k: data[k] for k in form.changed_data if k in data}
            saved = services.notice_update(notice=obj, **changed)
        else:
            hall = data.pop("hall")
            saved = services.notice_create(hall=hall, created_by=request.user, **data)
        obj.pk = saved.pk
