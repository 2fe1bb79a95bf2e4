"""Admin of the quarterly and annual reports and of the joint meetings."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from common.storage import stored_download
from network.admin_scope import ScopedAdminMixin, ScopedInlineMixin
from network.selectors import halls_in_scope, person_name

from . import documents, services
from .models import JointMeeting, MeetingDecision, ReportRun


class ReportBuildForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=ReportRun.Kind.choices)
    period = forms.CharField(
        label=gettext_lazy("期间"),
        max_length=7,
        help_text=gettext_lazy("季度如 2026Q3,年度如 2026;只能生成已结束的期间,未结束的可预览。"),
    )
    hall = forms.ModelChoiceField(label=gettext_lazy("馆"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hall"].queryset = halls_in_scope(user).filter(
            kind__in=documents.REPORT_HALL_KINDS, status="open"
        )


@admin.register(ReportRun)
class ReportRunAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/reports/reportrun/change_list.html"
    list_display = (
        "hall",
        "kind",
        "period",
        "status",
        "attempts",
        "finished_at",
        "download_link",
        "print_link",
    )
    list_filter = ("kind", "status", "period")
    search_fields = ("hall__name", "hall__code", "period")
    list_select_related = ("hall",)
    fields = (
        "hall",
        "kind",
        "period",
        "status",
        "attempts",
        "claimed_by",
        "heartbeat_at",
        "started_at",
        "finished_at",
        "links",
        "error",
    )
    readonly_fields = fields
    # Runs are made by the schedule or by the 重新生成 action, and are kept: meetings link them.
    allow_add = False
    allow_delete = False
    actions = ["regenerate"]
    export_fields = (
        "hall",
        "kind",
        "period",
        "status",
        "attempts",
        "started_at",
        "finished_at",
        "error",
    )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("build/", wrap(self.build_view), name="reports_reportrun_build"),
            path(
                "<int:object_id>/progress/",
                wrap(self.progress_view),
                name="reports_reportrun_progress",
            ),
            path("<int:object_id>/print/", wrap(self.print_view), name="reports_reportrun_print"),
            path(
                "<int:object_id>/download/",
                wrap(self.download_view),
                name="reports_reportrun_download",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=gettext_lazy("下载"))
    def download_link(self, run: ReportRun):
        if run.status != ReportRun.Status.DONE or not run.file:
            return "—"
        url = reverse("admin:reports_reportrun_download", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, _("Excel"))

    @admin.display(description=gettext_lazy("打印"))
    def print_link(self, run: ReportRun):
        if run.status != ReportRun.Status.DONE:
            return "—"
        url = reverse("admin:reports_reportrun_print", args=[run.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("打印版"))

    @admin.display(description=gettext_lazy("报告"))
    def links(self, run: ReportRun):
        if run.status != ReportRun.Status.DONE:
            return "—"
        return format_html("{} · {}", self.download_link(run), self.print_link(run))

    def _run_or_404(self, request: HttpRequest, object_id) -> ReportRun:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.get_object(request, str(object_id))

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "may_build": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def build_view(self, request: HttpRequest) -> HttpResponse:
        """Build one report of an ended period (queued, then followed on its progress page), or
        download a preview up to today that is never stored as the period's report."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ReportBuildForm(
            request.POST or None,
            user=request.user,
            initial={
                "kind": ReportRun.Kind.QUARTERLY,
                "period": documents.period_just_ended(ReportRun.Kind.QUARTERLY).label,
            },
        )
        if request.method == "POST" and form.is_valid():
            kind, period, hall = (form.cleaned_data[k] for k in ("kind", "period", "hall"))
            try:
                if "_preview" in request.POST:
                    return self._preview_response(kind, period, hall)
                run = services.report_run_start(
                    kind=kind, period=period, hall=hall, by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("admin:reports_reportrun_progress", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("生成报告"),
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/reportrun/build.html", context)

    @staticmethod
    def _preview_response(kind: str, period: str, hall) -> HttpResponse:
        data = documents.preview_data(kind, hall, documents.parse_period(kind, period))
        buffer = io.BytesIO()
        documents.write_report_xlsx(data, buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"{hall.code or hall.pk}-{data['period']}-{kind}-preview-{data['preview_until']}"
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response

    def progress_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The run's status and progress, read from its row; the page refreshes while it runs."""
        run = self._run_or_404(request, object_id)
        running = run.status in (ReportRun.Status.PENDING, ReportRun.Status.RUNNING)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(run),
            "run": run,
            "running": running,
            "percent": run.percent,
        }
        return TemplateResponse(request, "admin/reports/reportrun/progress.html", context)

    def print_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        run = self._run_or_404(request, object_id)
        if run.status != ReportRun.Status.DONE:
            raise Http404(_("报告尚未生成完成。"))
        sections = [
            {
                **section,
                "svg": documents.chart_for(section),
                "shown": section["rows"][: documents.PRINT_ROWS],
                "more": max(len(section["rows"]) - documents.PRINT_ROWS, 0),
            }
            for section in run.data.get("sections", [])
        ]
        return TemplateResponse(
            request,
            "evaluation/reports/print.html",
            {
                "run": run,
                "title": documents.report_title(run.data),
                "data": run.data,
                "sections": sections,
                "meetings": run.meetings.prefetch_related("decisions").order_by("held_on"),
            },
        )

    def download_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        run = self._run_or_404(request, object_id)
        if run.status != ReportRun.Status.DONE or not run.file:
            raise Http404(_("报告尚未生成完成。"))
        return stored_download(
            run.file,
            filename=f"{documents.report_title(run.data) or run}.xlsx".replace(" ", "-"),
            missing=_("报告文件已不存在,请重新生成。"),
        )

    @admin.action(description=gettext_lazy("重新生成所选报告"), permissions=["change"])
    def regenerate(self, request: HttpRequest, queryset) -> None:
        queued = failed = 0
        for kind, period, hall_id in queryset.values_list("kind", "period", "hall_id"):
            try:
                services.build_report.delay(kind, period, hall_id, True)
                queued += 1
            except Exception as exc:  # noqa: BLE001 - eager runs raise here; say so, go on
                failed += 1
                self.message_user(request, _("生成失败:%(e)s") % {"e": exc}, messages.ERROR)
        if queued:
            self.message_user(
                request, _("已提交 %(n)s 份报告重新生成。") % {"n": queued}, messages.SUCCESS
            )


class MeetingDecisionInline(ScopedInlineMixin, admin.TabularInline):
    model = MeetingDecision
    extra = 1
    fields = ("decision", "owner", "owner_hall", "due_on", "done_on")


class JointMeetingForm(forms.ModelForm):
    user = None  # set per request by the admin

    class Meta:
        model = JointMeeting
        fields = ("hall", "quarter", "held_on", "place", "attendees", "agenda", "minutes", "report")

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            services.joint_meeting_check(meeting=self.instance, by=self.user)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(JointMeeting)
class JointMeetingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = JointMeetingForm
    list_display = ("hall", "quarter", "held_on", "place", "decisions_open", "report_link")
    list_filter = ("quarter",)
    search_fields = ("hall__name", "quarter", "agenda", "place")
    list_select_related = ("hall", "report")
    date_hierarchy = "held_on"
    fields = (
        "hall",
        "quarter",
        "held_on",
        "place",
        "attendees",
        "agenda",
        "minutes",
        "report",
        "created_by_name",
        "created_at",
    )
    readonly_fields = ("created_by_name", "created_at")
    inlines = [MeetingDecisionInline]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count("decisions", filter=Q(decisions__done_on__isnull=True)),
                decision_count=Count("decisions"),
            )
        )

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_field_queryset(self, db, db_field, request: HttpRequest):
        qs = super().get_field_queryset(db, db_field, request)
        if db_field.name == "report" and qs is not None:
            qs = qs.filter(kind=ReportRun.Kind.QUARTERLY).select_related("hall")
        return qs

    @admin.display(description=gettext_lazy("记录人"))
    def created_by_name(self, meeting: JointMeeting) -> str:
        return person_name(meeting.created_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("未办结决定"))
    def decisions_open(self, meeting: JointMeeting) -> str:
        return f"{meeting.open_count} / {meeting.decision_count}"

    @admin.display(description=gettext_lazy("季度报告"))
    def report_link(self, meeting: JointMeeting):
        run = meeting.report
        if run is None or run.status != ReportRun.Status.DONE:
            return "—"
        url = reverse("admin:reports_reportrun_print", args=[run.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, run.period)

    def save_model(self, request: HttpRequest, obj: JointMeeting, form, change: bool) -> None:
        services.joint_meeting_save(meeting=obj, by=request.user)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        decisions = formset.save(commit=False)
        services.meeting_decisions_save(
            meeting=form.instance, changed=decisions, deleted=formset.deleted_objects
        )
