"""Courses (培训班) in the activity's admin: its sessions as an inline, the "重复" helper that
lays out weekly sessions, and the roll-call (点名) of each session with every booking's
completion. Mixed into ``ActivityAdmin``; every page answers 404 outside the account's scope
(``ScopedAdminMixin.get_object``), and writes go through ``activities.courses``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from network.admin_scope import ScopedInlineMixin

from . import courses, selectors
from .models import CourseSession

WEEKDAYS = [
    (0, gettext_lazy("星期一")),
    (1, gettext_lazy("星期二")),
    (2, gettext_lazy("星期三")),
    (3, gettext_lazy("星期四")),
    (4, gettext_lazy("星期五")),
    (5, gettext_lazy("星期六")),
    (6, gettext_lazy("星期日")),
]


class CourseSessionInline(ScopedInlineMixin, admin.TabularInline):
    model = CourseSession
    extra = 0
    fields = ["start", "end", "place"]
    verbose_name = gettext_lazy("课次")
    verbose_name_plural = gettext_lazy("课次(填写后即为培训班,学员一次报名全部课次)")


class RepeatForm(forms.Form):
    """重复: weekly sessions on one weekday, for a number of weeks or until a date."""

    first_day = forms.DateField(
        label=gettext_lazy("从哪天起"), widget=forms.DateInput(attrs={"type": "date"})
    )
    weekday = forms.TypedChoiceField(label=gettext_lazy("每周"), choices=WEEKDAYS, coerce=int)
    starts = forms.TimeField(
        label=gettext_lazy("上课时间"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends = forms.TimeField(
        label=gettext_lazy("下课时间"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    weeks = forms.IntegerField(
        label=gettext_lazy("共几周"), required=False, min_value=1, max_value=courses.MAX_SESSIONS
    )
    until = forms.DateField(
        label=gettext_lazy("或截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    skip_holidays = forms.BooleanField(
        label=gettext_lazy("跳过法定节假日"), required=False, initial=True
    )
    place = forms.CharField(label=gettext_lazy("上课地点"), required=False, max_length=120)

    def clean(self):
        data = super().clean()
        if self._errors:
            return data
        if not data.get("weeks") and not data.get("until"):
            self.add_error("weeks", _("请填写周数或截止日期。"))
        elif data.get("until") and data["until"] < data["first_day"]:
            self.add_error("until", _("截止日期不能早于开始日期。"))
        if data.get("ends") and data.get("starts") and data["ends"] <= data["starts"]:
            self.add_error("ends", _("下课时间必须晚于上课时间。"))
        return data


class CourseAdminMixin:
    """The course pages of ``ActivityAdmin``."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not CourseSession:
            return super().save_formset(request, form, formset, change)
        saved = formset.save(commit=False)
        courses.course_sessions_save(
            activity=form.instance, saved=saved, deleted=list(formset.deleted_objects)
        )

    def course_urls(self):
        site = self.admin_site
        return [
            path(
                "<path:object_id>/sessions/repeat/",
                site.admin_view(self.repeat_view),
                name="activities_activity_repeat",
            ),
            path(
                "<path:object_id>/sessions/<int:session_id>/roll/",
                site.admin_view(self.roll_view),
                name="activities_activity_roll",
            ),
            path(
                "<path:object_id>/sessions/",
                site.admin_view(self.sessions_view),
                name="activities_activity_sessions",
            ),
        ]

    def _context(self, request: HttpRequest, activity, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "activity": activity,
            "may_write": self.has_change_permission(request, activity),
        }

    def repeat_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """重复: add weekly sessions; the dates skipped for public holidays are said."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = self.get_object(request, object_id)  # 404 outside the scope
        if not self.has_change_permission(request, activity):
            raise PermissionDenied
        form = RepeatForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    made = courses.course_sessions_repeat(activity=activity, **form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    message = _("已添加 %(n)d 次课。") % {"n": len(made.created)}
                    if made.skipped:
                        message += _("跳过法定节假日:%(days)s。") % {
                            "days": "、".join(d.isoformat() for d in made.skipped)
                        }
                    self.message_user(request, message)
                    return HttpResponseRedirect(
                        reverse(
                            f"{self.admin_site.name}:activities_activity_sessions",
                            args=[activity.pk],
                        )
                    )
            status = 400
        context = {**self._context(request, activity, _("按周重复添加课次")), "form": form}
        return TemplateResponse(
            request, "activities/staff/admin_course_repeat.html", context, status=status
        )

    def sessions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """课次与点名: the sessions, each with its roll-call link, and every booking's
        attendance and completion."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = self.get_object(request, object_id)
        context = {
            **self._context(request, activity, _("课次与点名")),
            "sessions": selectors.course_sessions(activity),
            "roll": selectors.course_roll(activity),
            "now": timezone.now(),
        }
        return TemplateResponse(request, "activities/staff/admin_course_sessions.html", context)

    def roll_view(self, request: HttpRequest, object_id: str, session_id: int) -> HttpResponse:
        """点名: tick who came to one session."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = self.get_object(request, object_id)
        session = CourseSession.objects.filter(pk=session_id, activity=activity).first()
        if session is None:
            raise Http404(_("没有这次课。"))
        session.activity = activity
        may_write = self.has_change_permission(request, activity)
        error = ""
        if request.method == "POST":
            if not may_write:
                raise PermissionDenied
            try:
                present = {int(v) for v in request.POST.getlist("present")}
            except ValueError:
                present = None
                error = _("名单有误,请刷新后重新点名。")
            if present is not None:
                try:
                    n = courses.session_roll_record(
                        session=session, present=present, by=request.user
                    )
                except (ValidationError, PermissionDenied) as exc:
                    error = " ".join(getattr(exc, "messages", [str(exc)]))
                else:
                    self.message_user(request, _("已保存点名:到课 %(n)d 人。") % {"n": n})
                    return HttpResponseRedirect(request.path)
        refusal = ""
        if may_write and not error:
            try:
                courses.session_roll_check(session=session, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                refusal = " ".join(getattr(exc, "messages", [str(exc)]))
        context = {
            **self._context(request, activity, _("点名")),
            "may_write": may_write,
            "session": session,
            "bookings": selectors.session_roll(session),
            "error": error,
            "refusal": refusal,
        }
        return TemplateResponse(
            request,
            "activities/staff/admin_session_roll.html",
            context,
            status=400 if error else 200,
        )
