"""Admin of the yearly returns: entry, the workflow (submit, review, reopen, refresh), the
completeness of the halls below, and the reporting windows.

Every write goes through ``evaluation.returns.services``: forms only validate, and the admin
calls the service. Reporting windows are the same for every hall, so they are a page of their
own for superusers and the staff of a city centre hall rather than a scoped ModelAdmin.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from network.admin_pages import (
    HISTORY_ROWS,
    AdminPages,
    current_year,
    end_of_day,
    entry_halls,
    export_context,
    home_halls,
    may_manage_settings,
    messages_of,
    scoped_hall,
    year_or_404,
)
from network.admin_scope import ScopedAdminMixin
from network.models import Hall, subtree_q
from network.selectors import hall_ancestors, person_name, user_scope

from . import selectors, services
from .models import AssetReturn, FigureChange, ReturnKind, ReturnStatus, ReturnWindow, ServiceReturn


class ReturnForm(forms.ModelForm):
    """Validates the figures as ``return_update`` will take them (without writing); the admin's
    ``save_model`` then calls the service, which checks again under the row's lock."""

    request: HttpRequest
    kind: str

    def clean(self):
        data = super().clean()
        if self._errors or not self.fields:
            return data
        values = {name: data[name] for name in self.changed_data if name in data}
        if not values:
            return data
        try:
            services.return_update_check(
                kind=self.kind, annual_return=self.instance, by=self.request.user, values=values
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
        return data


REVIEW_FIELDS = [
    "submitted_at",
    "submitted_by_name",
    "reviewed_at",
    "reviewed_by_name",
    "review_comment",
]


class ReviewFilter(admin.SimpleListFilter):
    """The submitted returns of the halls below the account's own: what it has to review (the
    home page's 待办 links here)."""

    title = gettext_lazy("审核")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("mine", _("待我审核"))]

    def queryset(self, request, queryset):
        if self.value() != "mine":
            return queryset
        return queryset.filter(
            selectors.strictly_below_q(user_scope(request.user)), status=ReturnStatus.SUBMITTED
        )


class AnnualReturnAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """One yearly return per hall. A return is opened with "本年度报表" (``return_get_or_create``,
    which also fills in what the portal knows), never added blank, and never deleted."""

    kind: str = ""
    form = ReturnForm
    allow_add = False
    allow_delete = False
    list_display = ("hall", "year", "status", "submitted_at", "reviewed_at", "updated_at")
    list_filter = ("year", "status", ReviewFilter)
    search_fields = ("hall__name", "hall__code")
    list_select_related = ("hall",)
    ordering = ("-year", "hall__tree_id", "hall__lft")
    change_form_template = "admin/evaluation/report_change_form.html"
    change_list_template = "admin/evaluation/report_change_list.html"

    @admin.display(description=gettext_lazy("报送人"))
    def submitted_by_name(self, obj) -> str:
        return person_name(obj.submitted_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("审核人"))
    def reviewed_by_name(self, obj) -> str:
        return person_name(obj.reviewed_by) or self.get_empty_value_display()

    def _entered(self) -> list[str]:
        return [f for f in self.model.FIGURES if f not in self.model.AUTOFILLED]

    def _may_enter(self, request: HttpRequest, obj) -> bool:
        return (
            obj is not None
            and self.has_change_permission(request, obj)
            and services.return_is_open(obj, kind=self.kind)
        )

    def get_fieldsets(self, request: HttpRequest, obj=None):
        sets = [(None, {"fields": ["hall", "year", "status", "reopened_until"]})]
        if self.model.AUTOFILLED:
            sets.append(
                (
                    _("平台自动统计"),
                    {
                        "fields": self.model.AUTOFILLED,
                        "description": _(
                            "以下数字来自平台自身的记录:本馆发布的活动、参与人次(培训班按各次课点名,"
                            "其他活动按登记的人次,未登记的按签到)、培训班结业人次、本馆场馆的开放与使用和点单,"
                            "不能手工修改。记录有变化时请点下方的“重新统计”。"
                        ),
                    },
                )
            )
        sets.append((_("填报数据"), {"fields": self._entered()}))
        sets.append((_("报送与审核"), {"fields": REVIEW_FIELDS}))
        return sets

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fixed = ["hall", "year", "status", "reopened_until", *REVIEW_FIELDS]
        fixed += self.model.AUTOFILLED
        if not self._may_enter(request, obj):
            fixed += self._entered()
        return fixed

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"request": request, "kind": self.kind})

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        if not values:
            return
        # The form checked these; what the service still refuses under the row's lock (a deadline
        # passing in between) comes back on the same form (ScopedAdminMixin.changeform_view).
        services.return_update(kind=self.kind, annual_return=obj, by=request.user, values=values)

    # --- pages

    def _name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("open/", wrap(self.open_view), name=self._name("open")),
            path("completeness/", wrap(self.completeness_view), name=self._name("completeness")),
            path(
                "<path:object_id>/workflow/", wrap(self.workflow_view), name=self._name("workflow")
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        scope = user_scope(request.user)
        extra = {
            "entry_halls": entry_halls(request.user) if not scope.read_only else [],
            "this_year": current_year(),
            "year": current_year(),
            "kind": self.kind,
            "open_url": reverse(f"admin:{self._name('open')}"),
            **export_context(home_halls(request.user), "statistics", "coverage"),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def _lock_reason(self, obj) -> str:
        if obj.status == ReturnStatus.SUBMITTED:
            return _("报表已报送,等待上级馆审核;如需修改,请上级馆退回或重新开放。")
        if obj.status == ReturnStatus.APPROVED:
            return _("报表已审核通过,数据已锁定;如需修正,请联系上级馆重新开放。")
        window = selectors.return_window(self.kind, obj.year)
        if window is None:
            return _("%(year)d 年度的填报期限尚未设置,暂不能填报。") % {"year": obj.year}
        now = timezone.now()
        if now < window.opens_at:
            return _("填报将于 %(at)s 开始。") % {
                "at": timezone.localtime(window.opens_at).strftime("%Y-%m-%d %H:%M")
            }
        return _("已过报送截止时间(%(at)s),报表已锁定;如需修改,请联系上级馆重新开放。") % {
            "at": timezone.localtime(window.deadline).strftime("%Y-%m-%d %H:%M")
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            scope = user_scope(request.user)
            is_open = services.return_is_open(obj, kind=self.kind)
            may_write = self.has_change_permission(request, obj)
            ancestor = not scope.read_only and scope.covers_strictly(obj.hall)
            labels = {
                f: str(self.model._meta.get_field(f).verbose_name) for f in self.model.FIGURES
            }
            labels.update(
                status=_("状态"),
                reopened_until=str(self.model._meta.get_field("reopened_until").verbose_name),
            )
            statuses = {s.value: str(s.label) for s in ReturnStatus}
            history = [
                {
                    "change": change_row,
                    "label": labels.get(change_row.field, change_row.field),
                    "old": statuses.get(change_row.old_value, change_row.old_value),
                    "new": statuses.get(change_row.new_value, change_row.new_value),
                }
                for change_row in FigureChange.objects.filter(
                    kind=self.kind, return_id=obj.pk
                ).select_related("by")[:HISTORY_ROWS]
            ]
            context.update(
                {
                    "report_open": is_open,
                    "lock_reason": "" if is_open else self._lock_reason(obj),
                    "may_refresh": may_write and is_open and bool(self.model.AUTOFILLED),
                    "may_submit": may_write and is_open,
                    "may_review": ancestor and obj.status == ReturnStatus.SUBMITTED,
                    "may_reopen": ancestor and not is_open,
                    "workflow_url": reverse(f"admin:{self._name('workflow')}", args=[obj.pk]),
                    "history": history,
                    "reopen_default": (timezone.localdate() + timedelta(days=7)).isoformat(),
                    "show_save": is_open and may_write,
                    "show_save_and_continue": is_open and may_write,
                    "show_save_and_add_another": False,
                    "show_delete": False,
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def open_view(self, request: HttpRequest) -> HttpResponse:
        """ "本年度报表": the hall's report of the year, created (and auto-filled) when missing."""
        if request.method != "POST":
            return redirect(f"admin:{self._name('changelist')}")
        if not self._may_write(request):
            raise PermissionDenied
        hall = scoped_hall(request, request.POST.get("hall"))
        year = year_or_404(request.POST.get("year"))
        report = services.return_get_or_create(kind=self.kind, hall=hall, year=year)
        return redirect(f"admin:{self._name('change')}", report.pk)

    def workflow_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """报送, 审核通过, 退回, 重新开放 and 重新统计. The services decide who may; a refusal by
        scope is a 403, a refusal by state a message on the report page."""
        obj = self.get_object(request, unquote(object_id))
        back = redirect(f"admin:{self._name('change')}", obj.pk)
        if request.method != "POST":
            return back
        if not self._may_write(request):
            raise PermissionDenied
        action = request.POST.get("action", "")
        common = {"kind": self.kind, "annual_return": obj, "by": request.user}
        try:
            if action == "refresh":
                changed = services.return_refresh_autofilled(**common)
                messages.success(
                    request,
                    _("已按平台记录重新统计,%(n)d 项有变化。") % {"n": len(changed)}
                    if changed
                    else _("已按平台记录重新统计,数字没有变化。"),
                )
            elif action == "submit":
                services.return_submit(**common)
                messages.success(request, _("报表已报送,等待上级馆审核。"))
            elif action in ("approve", "return"):
                services.return_review(
                    **common, approve=action == "approve", comment=request.POST.get("comment", "")
                )
                messages.success(
                    request, _("已审核通过。") if action == "approve" else _("已退回填报馆修改。")
                )
            elif action == "reopen":
                try:
                    day = forms.DateField().clean(request.POST.get("until"))
                except ValidationError:
                    raise ValidationError(_("请填写重新开放的截止日期。")) from None
                services.return_reopen(**common, until=end_of_day(day))
                messages.success(
                    request, _("已重新开放至 %(day)s(含当日)。") % {"day": day.isoformat()}
                )
            else:
                messages.error(request, _("没有这个操作。"))
        except ValidationError as exc:
            messages.error(request, messages_of(exc))
        return back

    def completeness_view(self, request: HttpRequest) -> TemplateResponse:
        """For a hall: each hall directly below it, its own report's status and how many of the
        halls below that one reported, and on time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        year = year_or_404(request.GET.get("year"))
        homes = home_halls(request.user)
        if request.GET.get("hall"):
            hall = scoped_hall(request, request.GET["hall"])
        elif homes:
            hall = homes[0]
        else:
            raise Http404(_("没有可查看的馆。"))
        scope = user_scope(request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(report)s填报完成情况") % {"report": self.opts.verbose_name},
            "opts": self.opts,
            "kind": self.kind,
            "hall": hall,
            "year": year,
            "years": range(current_year() + 1, current_year() - 5, -1),
            "trail": [h for h in hall_ancestors(hall) if scope.covers(h)],
            "homes": homes,
            "summary": selectors.completeness(kind=self.kind, hall=hall, year=year),
            "rows": selectors.return_children_status(kind=self.kind, hall=hall, year=year),
            "window": selectors.return_window(self.kind, year),
            "may_open": not scope.read_only,
            "open_url": reverse(f"admin:{self._name('open')}"),
            "change_name": f"admin:{self._name('change')}",
            **export_context(homes, "statistics", "coverage"),
        }
        return TemplateResponse(request, "admin/evaluation/completeness.html", context)


@admin.register(ServiceReturn)
class ServiceReturnAdmin(AnnualReturnAdmin):
    kind = ReturnKind.SERVICE

    def get_urls(self):
        # The reporting windows belong to no single return; their page hangs off this admin.
        wrap = self.admin_site.admin_view
        pages = WindowPages(self)
        return [
            path("windows/", wrap(pages.windows_view), name="returns_windows"),
            *super().get_urls(),
        ]


@admin.register(AssetReturn)
class AssetReturnAdmin(AnnualReturnAdmin):
    kind = ReturnKind.ASSET

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("staffing/", wrap(self.staffing_view), name=self._name("staffing")),
            *super().get_urls(),
        ]

    def staffing_view(self, request: HttpRequest) -> TemplateResponse:
        """The open branches and points of the account's scope (or below ``hall``) against the
        seeds' staffing standard, by the 编制 and 公益岗位 of their asset returns for ``year``
        (last year unless asked), with their platform accounts beside; ``show`` picks the
        halls that are short or did not report (the default), or all."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        year = year_or_404(request.GET.get("year"), default=current_year() - 1)
        halls = Hall.objects.filter(user_scope(request.user).q())
        hall = None
        if request.GET.get("hall"):
            hall = scoped_hall(request, request.GET["hall"])
            halls = halls.filter(subtree_q(hall))
        rows = selectors.staffing(
            year=year,
            halls=halls,
            min_branch=settings.STAFFING_MIN_BRANCH,
            min_point=settings.STAFFING_MIN_POINT,
        )
        summary = dict.fromkeys(selectors.Staffing.values, 0) | {
            row["staffing"]: row["n"]
            for row in rows.values("staffing").annotate(n=Count("pk")).order_by()
        }
        show = request.GET.get("show", "gaps")
        if show in selectors.Staffing.values:
            rows = rows.filter(staffing=show)
        elif show != "all":
            show = "gaps"
            rows = rows.exclude(staffing=selectors.Staffing.MET)
        rows = rows.select_related("main_hall").order_by("tree_id", "lft")
        context = {
            **self.admin_site.each_context(request),
            "title": _("人员配备达标情况"),
            "opts": self.opts,
            "year": year,
            "years": range(current_year(), current_year() - 6, -1),
            "hall": hall,
            "show": show,
            "shows": [
                ("gaps", _("未达标或未报送")),
                *selectors.Staffing.choices,
                ("all", _("全部")),
            ],
            "summary": [(label, summary[value]) for value, label in selectors.Staffing.choices],
            "page": Paginator(rows, 50).get_page(request.GET.get("p")),
            "min_branch": settings.STAFFING_MIN_BRANCH,
            "min_point": settings.STAFFING_MIN_POINT,
            "Staffing": selectors.Staffing,
        }
        return TemplateResponse(request, "admin/evaluation/staffing.html", context)


class WindowForm(forms.ModelForm):
    class Meta:
        model = ReturnWindow
        fields = ["year", "kind", "opens_at", "deadline"]
        widgets = {
            "opens_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "deadline": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }


class WindowPages(AdminPages):
    # --- reporting windows

    def windows_view(self, request: HttpRequest) -> HttpResponse:
        self._require_read(request)
        may_manage = may_manage_settings(request.user)
        instance = None
        if request.GET.get("edit", "").isdigit():
            instance = ReturnWindow.objects.filter(pk=int(request.GET["edit"])).first()
        form = None
        if may_manage:
            if request.method == "POST":
                form = WindowForm(request.POST, instance=instance)
                if form.is_valid():
                    try:
                        services.return_window_save(window=instance, **form.cleaned_data)
                    except ValidationError as exc:
                        add_service_errors(form, exc)
                    else:
                        messages.success(request, _("填报期限已保存。"))
                        return redirect("admin:returns_windows")
            else:
                form = WindowForm(instance=instance)
        elif request.method == "POST":
            raise PermissionDenied
        context = self._context(
            request,
            _("填报期限"),
            windows=ReturnWindow.objects.order_by("-year", "kind"),
            form=form,
            editing=instance,
        )
        return TemplateResponse(request, "admin/evaluation/windows.html", context)

    # --- assessment schemes
