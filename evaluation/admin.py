"""The spreadsheet exports in the admin: queue one, follow its row's progress, download it.

The list shows the runs inside the account's scope, like every admin; the progress page and the
download belong to the account that started the run (and superusers).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.redirects import safe_redirect_url
from common.storage import stored_download
from network.admin_pages import AdminPages, messages_of, scoped_hall, year_or_404
from network.admin_scope import ScopedAdminMixin
from network.selectors import person_name

from . import exports, services
from .models import ExportRun


@admin.register(ExportRun)
class ExportRunAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "within"
    allow_add = False
    allow_delete = False
    list_display = ("kind_label", "year", "within", "status", "progress_label", "created_at")
    list_filter = ("status", "kind", "year")
    list_select_related = ("within",)
    fields = (
        "kind",
        "year",
        "within",
        "user_name",
        "status",
        "progress",
        "total",
        "attempts",
        "started_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields

    def save_model(self, request, obj, form, change) -> None:
        pass  # every field is read-only: a run is written by its worker (``services.export_run``)

    @admin.display(description=gettext_lazy("表格"))
    def kind_label(self, run: ExportRun) -> str:
        found = exports.EXPORTERS.get(run.kind)
        return str(found.verbose_name) if found else run.kind

    @admin.display(description=gettext_lazy("发起人"))
    def user_name(self, run: ExportRun) -> str:
        return person_name(run.user) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("进度"))
    def progress_label(self, run: ExportRun):
        url = reverse("admin:evaluation_export_status", args=[run.pk])
        return format_html('<a href="{}">{} / {}</a>', url, run.progress, run.total)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        pages = ExportPages(self)
        return [
            path("start/", wrap(pages.export_view), name="evaluation_export"),
            path(
                "<uuid:export_id>/progress/",
                wrap(pages.export_status_view),
                name="evaluation_export_status",
            ),
            path(
                "<uuid:export_id>/download/",
                wrap(pages.export_download_view),
                name="evaluation_export_download",
            ),
            *super().get_urls(),
        ]


class ExportPages(AdminPages):
    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Queue a spreadsheet (``services.export_start``) and follow it on its progress page."""
        self._require_read(request)
        back = safe_redirect_url(
            request,
            request.POST.get("next"),
            reverse("admin:returns_servicereturn_changelist"),
        )
        if request.method != "POST":
            return redirect(back)
        within = scoped_hall(request, request.POST["hall"]) if request.POST.get("hall") else None
        try:
            year = year_or_404(request.POST.get("year"))
            run = services.export_start(
                kind=request.POST.get("kind", ""), year=year, within=within, user=request.user
            )
        except ValidationError as exc:
            messages.error(request, messages_of(exc))
            return redirect(back)
        return redirect("admin:evaluation_export_status", run.pk)

    def export_status_view(self, request: HttpRequest, export_id) -> TemplateResponse:
        self._require_read(request)
        run = services.export_status(export_id, user=request.user)
        if run is None:
            raise Http404(_("没有这个导出任务,或它已过期。"))
        context = self._context(
            request,
            _("导出 Excel"),
            run=run,
            kind_label=ExportRunAdmin.kind_label(None, run),
            running=run.status in (ExportRun.Status.PENDING, ExportRun.Status.RUNNING),
            percent=run.percent,
        )
        return TemplateResponse(request, "admin/evaluation/export_status.html", context)

    def export_download_view(self, request: HttpRequest, export_id) -> HttpResponse:
        self._require_read(request)
        run = services.export_status(export_id, user=request.user)
        if run is None or run.status != ExportRun.Status.DONE or not run.file:
            raise Http404(_("没有这个导出文件,或它已过期。"))
        # The stored name stays ASCII; the download is named in Chinese (RFC 5987 filename*).
        return stored_download(
            run.file,
            filename=exports.download_name(run.kind, run.year, run.within),
            missing=_("没有这个导出文件,或它已过期。"),
        )
