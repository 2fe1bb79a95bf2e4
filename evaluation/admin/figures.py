"""Admin for yearly figures, scores, inspections and the assessment spreadsheets.

Every write goes through ``evaluation.services``; the rules live there (only staff of an
ancestor approve, reopen or score; a report locks at its deadline), and the pages below only
decide what to offer. Reporting windows and assessment schemes are the same for every hall, so
they are pages of their own for superusers and the staff of a city centre hall rather than
scoped ModelAdmins.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.forms import modelformset_factory
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from network.admin_scope import ScopedAdminMixin
from network.models import Hall, Membership, Role
from network.selectors import hall_ancestors, user_scope

from .. import exports, selectors, services
from ..models import (
    AssessmentScheme,
    AssetReport,
    Dimension,
    FigureChange,
    Inspection,
    ReportingWindow,
    ReportKind,
    ReportStatus,
    SatisfactionResponse,
    Score,
    ScoreChange,
    ServiceReport,
)

MIN_YEAR, MAX_YEAR = 2000, 2100
HISTORY_ROWS = 200


# --- Helpers shared by the pages ----------------------------------------------------------------


def current_year() -> int:
    return timezone.localdate().year


def _year(raw, default: int | None = None) -> int:
    """A year from a query or form value; a bad one answers 404 like any unknown page."""
    if raw in (None, ""):
        return default or current_year()
    try:
        year = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("年度有误。")) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404(_("年度有误。"))
    return year


def home_halls(user) -> list[Hall]:
    """Where an account's pages start: its membership halls, highest first; the city centre
    halls for a superuser."""
    if user.is_superuser:
        return list(Hall.objects.filter(level=0).order_by("tree_id"))
    return list(
        Hall.objects.filter(memberships__user=user).distinct().order_by("level", "tree_id", "lft")
    )


def entry_halls(user) -> list[Hall]:
    """The halls whose own report an account opens with "本年度报表": those it works at."""
    if user.is_superuser:
        return []
    return list(
        Hall.objects.filter(memberships__user=user)
        .exclude(memberships__role=Role.OFFICIAL)
        .distinct()
        .order_by("level", "tree_id", "lft")
    )


def scoped_hall(request: HttpRequest, raw) -> Hall:
    """The hall of ``raw`` (an id) if the account's scope covers it; 404 otherwise."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该馆,或它不在您的管辖范围内。")) from None
    hall = Hall.objects.filter(user_scope(request.user).q(), pk=pk).first()
    if hall is None:
        raise Http404(_("没有找到该馆,或它不在您的管辖范围内。"))
    return hall


def may_manage_settings(user) -> bool:
    """Reporting windows and assessment schemes apply to every hall: superusers and the staff
    (not officials) of a city centre hall set them."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, hall__level=0).exclude(role=Role.OFFICIAL).exists()


def _end_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time()))


EXPORT_LABELS = {
    "assessment": gettext_lazy("考核结果表"),
    "statistics": gettext_lazy("年度统计汇总表"),
    "coverage": gettext_lazy("总分馆建设情况表"),
}


def export_context(halls: list[Hall], *kinds: str) -> dict:
    """What ``admin/evaluation/_export_form.html`` needs."""
    return {"export_kinds": [(k, EXPORT_LABELS[k]) for k in kinds], "export_halls": halls}


def _messages_of(exc: ValidationError) -> str:
    return ";".join(str(m) for m in exc.messages)


# --- Yearly reports -------------------------------------------------------------------------------


class ReportForm(forms.ModelForm):
    """Saves through ``report_update`` while the form is validated: whatever the service
    refuses comes back as an error on the form, and nothing is half-saved."""

    request: HttpRequest
    kind: str

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors or not self.fields:
            return
        values = {name: self.cleaned_data[name] for name in self.changed_data}
        if not values:
            return
        try:
            self.instance = services.report_update(
                kind=self.kind, report=self.instance, by=self.request.user, values=values
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))

    def save(self, commit: bool = True):
        self.save_m2m = lambda: None
        return self.instance


REVIEW_FIELDS = [
    "submitted_at",
    "submitted_by",
    "reviewed_at",
    "reviewed_by",
    "review_comment",
]


class AnnualReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """One yearly report per hall. A report is opened with "本年度报表" (``report_get_or_create``,
    which also fills in what the portal knows), never added blank, and never deleted."""

    kind: str = ""
    form = ReportForm
    allow_add = False
    allow_delete = False
    list_display = ("hall", "year", "status", "submitted_at", "reviewed_at", "updated_at")
    list_filter = ("year", "status")
    search_fields = ("hall__name", "hall__code")
    list_select_related = ("hall",)
    ordering = ("-year", "hall__tree_id", "hall__lft")
    change_form_template = "admin/evaluation/report_change_form.html"
    change_list_template = "admin/evaluation/report_change_list.html"

    def _entered(self) -> list[str]:
        return [f for f in self.model.FIGURES if f not in self.model.AUTOFILLED]

    def _may_enter(self, request: HttpRequest, obj) -> bool:
        return (
            obj is not None
            and self.has_change_permission(request, obj)
            and services.report_is_open(obj, kind=self.kind)
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
                            "以下数字来自平台自身的记录:本馆发布的活动、群众签到和点单,"
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
        pass  # ReportForm saved it through report_update

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
        if obj.status == ReportStatus.SUBMITTED:
            return _("报表已报送,等待上级馆审核;如需修改,请上级馆退回或重新开放。")
        if obj.status == ReportStatus.APPROVED:
            return _("报表已审核通过,数据已锁定;如需修正,请联系上级馆重新开放。")
        window = services.report_window(self.kind, obj.year)
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
            is_open = services.report_is_open(obj, kind=self.kind)
            may_write = self.has_change_permission(request, obj)
            ancestor = not scope.read_only and scope.covers_strictly(obj.hall)
            labels = {
                f: str(self.model._meta.get_field(f).verbose_name) for f in self.model.FIGURES
            }
            labels.update(
                status=_("状态"),
                reopened_until=str(self.model._meta.get_field("reopened_until").verbose_name),
            )
            statuses = {s.value: str(s.label) for s in ReportStatus}
            history = [
                {
                    "change": change_row,
                    "label": labels.get(change_row.field, change_row.field),
                    "old": statuses.get(change_row.old_value, change_row.old_value),
                    "new": statuses.get(change_row.new_value, change_row.new_value),
                }
                for change_row in FigureChange.objects.filter(
                    kind=self.kind, report_id=obj.pk
                ).select_related("by")[:HISTORY_ROWS]
            ]
            context.update(
                {
                    "report_open": is_open,
                    "lock_reason": "" if is_open else self._lock_reason(obj),
                    "may_refresh": may_write and is_open and bool(self.model.AUTOFILLED),
                    "may_submit": may_write and is_open,
                    "may_review": ancestor and obj.status == ReportStatus.SUBMITTED,
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
        year = _year(request.POST.get("year"))
        report = services.report_get_or_create(kind=self.kind, hall=hall, year=year)
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
        common = {"kind": self.kind, "report": obj, "by": request.user}
        try:
            if action == "refresh":
                changed = services.report_refresh_autofilled(**common)
                messages.success(
                    request,
                    _("已按平台记录重新统计,%(n)d 项有变化。") % {"n": len(changed)}
                    if changed
                    else _("已按平台记录重新统计,数字没有变化。"),
                )
            elif action == "submit":
                services.report_submit(**common)
                messages.success(request, _("报表已报送,等待上级馆审核。"))
            elif action in ("approve", "return"):
                services.report_review(
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
                services.report_reopen(**common, until=_end_of_day(day))
                messages.success(
                    request, _("已重新开放至 %(day)s(含当日)。") % {"day": day.isoformat()}
                )
            else:
                messages.error(request, _("没有这个操作。"))
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
        return back

    def completeness_view(self, request: HttpRequest) -> TemplateResponse:
        """For a hall: each hall directly below it, its own report's status and how many of the
        halls below that one reported, and on time."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        year = _year(request.GET.get("year"))
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
            "rows": selectors.report_children_status(kind=self.kind, hall=hall, year=year),
            "window": services.report_window(self.kind, year),
            "may_open": not scope.read_only,
            "open_url": reverse(f"admin:{self._name('open')}"),
            "change_name": f"admin:{self._name('change')}",
            **export_context(homes, "statistics", "coverage"),
        }
        return TemplateResponse(request, "admin/evaluation/completeness.html", context)


@admin.register(ServiceReport)
class ServiceReportAdmin(AnnualReportAdmin):
    kind = ReportKind.SERVICE

    def get_urls(self):
        # The pages that belong to no single report hang off this admin.
        wrap = self.admin_site.admin_view
        pages = EvaluationPages(self)
        return [
            path("windows/", wrap(pages.windows_view), name="evaluation_windows"),
            path("schemes/", wrap(pages.schemes_view), name="evaluation_schemes"),
            path("schemes/<int:scheme_id>/", wrap(pages.scheme_view), name="evaluation_scheme"),
            path("scores/", wrap(pages.results_view), name="evaluation_results"),
            path(
                "scores/<int:hall_id>/<int:year>/",
                wrap(pages.scoring_view),
                name="evaluation_scoring",
            ),
            path("exports/", wrap(pages.export_view), name="evaluation_export"),
            path(
                "exports/<str:export_id>/",
                wrap(pages.export_status_view),
                name="evaluation_export_status",
            ),
            path(
                "exports/<str:export_id>/download/",
                wrap(pages.export_download_view),
                name="evaluation_export_download",
            ),
            *super().get_urls(),
        ]


@admin.register(AssetReport)
class AssetReportAdmin(AnnualReportAdmin):
    kind = ReportKind.ASSET


# --- Pages of no single report: windows, schemes, scores, exports ---------------------------------


class WindowForm(forms.ModelForm):
    class Meta:
        model = ReportingWindow
        fields = ["year", "kind", "opens_at", "deadline"]
        widgets = {
            "opens_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "deadline": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def clean(self):
        data = super().clean()
        opens, deadline = data.get("opens_at"), data.get("deadline")
        if opens and deadline and deadline <= opens:
            self.add_error("deadline", _("报送截止时间必须晚于开始填报时间。"))
        return data


class SchemeCreateForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=120, required=False)


class SchemeForm(forms.ModelForm):
    class Meta:
        model = AssessmentScheme
        fields = ["name", "excellent_from", "good_from", "pass_from"]

    def clean(self):
        data = super().clean()
        e, g, p = (data.get(k) for k in ("excellent_from", "good_from", "pass_from"))
        if None not in (e, g, p) and not e > g > p >= 0:
            raise ValidationError(_("分数线须满足:优秀 > 良好 > 合格 ≥ 0。"))
        return data


DimensionFormSet = modelformset_factory(
    Dimension,
    fields=["weight", "max_points", "criteria"],
    extra=0,
    widgets={"criteria": forms.Textarea(attrs={"rows": 2, "cols": 50})},
)


class EvaluationPages:
    """Views hung off ``ServiceReportAdmin``'s URLs; ``model_admin`` gives the admin context
    and the read permission (any membership)."""

    def __init__(self, model_admin: AnnualReportAdmin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model_admin.opts,
            **extra,
        }

    def _require_read(self, request: HttpRequest) -> None:
        if not self.model_admin.has_view_permission(request):
            raise PermissionDenied

    # --- reporting windows

    def windows_view(self, request: HttpRequest) -> HttpResponse:
        self._require_read(request)
        may_manage = may_manage_settings(request.user)
        instance = None
        if request.GET.get("edit", "").isdigit():
            instance = ReportingWindow.objects.filter(pk=int(request.GET["edit"])).first()
        form = None
        if may_manage:
            if request.method == "POST":
                form = WindowForm(request.POST, instance=instance)
                if form.is_valid():
                    form.save()
                    messages.success(request, _("填报期限已保存。"))
                    return redirect("admin:evaluation_windows")
            else:
                form = WindowForm(instance=instance)
        elif request.method == "POST":
            raise PermissionDenied
        context = self._context(
            request,
            _("填报期限"),
            windows=ReportingWindow.objects.order_by("-year", "kind"),
            form=form,
            editing=instance,
        )
        return TemplateResponse(request, "admin/evaluation/windows.html", context)

    # --- assessment schemes

    def schemes_view(self, request: HttpRequest) -> HttpResponse:
        self._require_read(request)
        may_manage = may_manage_settings(request.user)
        form = SchemeCreateForm(initial={"year": current_year()}) if may_manage else None
        if request.method == "POST":
            if not may_manage:
                raise PermissionDenied
            form = SchemeCreateForm(request.POST)
            if form.is_valid():
                try:
                    scheme = services.scheme_create(
                        year=form.cleaned_data["year"], name=form.cleaned_data["name"] or None
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("已建立考核方案,含 13 个考核维度。"))
                    return redirect("admin:evaluation_scheme", scheme.pk)
        schemes = AssessmentScheme.objects.annotate(dimension_count=Count("dimensions"))
        context = self._context(request, _("考核方案"), schemes=schemes, form=form)
        return TemplateResponse(request, "admin/evaluation/schemes.html", context)

    def scheme_view(self, request: HttpRequest, scheme_id: int) -> HttpResponse:
        self._require_read(request)
        scheme = AssessmentScheme.objects.filter(pk=scheme_id).first()
        if scheme is None:
            raise Http404
        may_manage = may_manage_settings(request.user)
        dimensions = scheme.dimensions.order_by("order")
        form = formset = None
        if may_manage:
            data = request.POST if request.method == "POST" else None
            form = SchemeForm(data, instance=scheme)
            formset = DimensionFormSet(data, queryset=dimensions, prefix="dims")
            if data is not None and form.is_valid() and formset.is_valid():
                with transaction.atomic():
                    form.save()
                    formset.save()
                messages.success(request, _("考核方案已保存。"))
                return redirect("admin:evaluation_scheme", scheme.pk)
        elif request.method == "POST":
            raise PermissionDenied
        total = sum((d.max_points for d in dimensions), Decimal(0))
        context = self._context(
            request,
            str(scheme),
            scheme=scheme,
            dimensions=dimensions,
            form=form,
            formset=formset,
            total_points=total,
        )
        return TemplateResponse(request, "admin/evaluation/scheme.html", context)

    # --- scores

    def results_view(self, request: HttpRequest) -> HttpResponse:
        """The halls under one parent with their total, grade and rank."""
        self._require_read(request)
        year = _year(request.GET.get("year"))
        homes = home_halls(request.user)
        if request.GET.get("parent"):
            parent = scoped_hall(request, request.GET["parent"])
        elif homes:
            parent = homes[0]
        else:
            raise Http404(_("没有可查看的馆。"))
        scheme = AssessmentScheme.objects.filter(year=year).first()
        dimensions, results = [], []
        if scheme is not None:
            dimensions = list(scheme.dimensions.all())
            children = Hall.objects.filter(parent=parent).order_by("lft")
            results = selectors.assessment_results(scheme, children, dimensions)
        scope = user_scope(request.user)
        context = self._context(
            request,
            _("%(year)d 年度考核结果") % {"year": year},
            year=year,
            years=range(current_year() + 1, current_year() - 5, -1),
            parent=parent,
            trail=[h for h in hall_ancestors(parent) if scope.covers(h)],
            homes=homes,
            scheme=scheme,
            dimensions=dimensions,
            results=[(r, [r.points.get(d.pk) for d in dimensions]) for r in results],
            may_score=not scope.read_only and scope.covers(parent),
            **export_context(homes, "assessment"),
        )
        return TemplateResponse(request, "admin/evaluation/results.html", context)

    def scoring_view(self, request: HttpRequest, hall_id: int, year: int) -> HttpResponse:
        """A hall's scores of a year on the 13 dimensions. Only staff of an ancestor hall get
        the form; ``score_set`` refuses everyone else anyway."""
        self._require_read(request)
        hall = scoped_hall(request, hall_id)
        year = _year(year)
        scheme = AssessmentScheme.objects.filter(year=year).first()
        scope = user_scope(request.user)
        can_score = scheme is not None and not scope.read_only and scope.covers_strictly(hall)
        dimensions = list(scheme.dimensions.all()) if scheme else []
        scores = {
            s.dimension_id: s
            for s in Score.objects.filter(scheme=scheme, hall=hall).select_related("scored_by")
        }
        errors: dict[int, str] = {}
        posted: dict[int, tuple[str, str]] = {}
        if request.method == "POST":
            if not can_score:
                raise PermissionDenied
            errors, posted = self._save_scores(request, hall, dimensions, scores)
            if not errors:
                messages.success(request, _("评分已保存。"))
                return redirect("admin:evaluation_scoring", hall.pk, year)
            messages.error(request, _("有评分未通过检查,全部未保存,请修改标红的项目。"))
        result = None
        if scheme is not None:
            result = selectors.assessment_results_among_siblings(scheme, [hall], dimensions)[0]
        rows = []
        for d in dimensions:
            score = scores.get(d.pk)
            raw, comment = posted.get(
                d.pk,
                (
                    format(score.points, "f") if score else "",
                    score.comment if score else "",
                ),
            )
            rows.append(
                {
                    "dimension": d,
                    "satisfaction": d.source == Dimension.Source.SATISFACTION,
                    "score": score,
                    "value": raw,
                    "comment": comment,
                    "points": result.points.get(d.pk) if result else None,
                    "error": errors.get(d.pk, ""),
                }
            )
        history = (
            ScoreChange.objects.filter(score__scheme=scheme, score__hall=hall).select_related(
                "by", "score__dimension"
            )[:HISTORY_ROWS]
            if scheme
            else []
        )
        inspections = Inspection.objects.filter(hall=hall, inspected_on__year=year).select_related(
            "dimension", "inspector_hall"
        )
        satisfaction = SatisfactionResponse.objects.filter(
            hall=hall, quarter__startswith=str(year)
        ).aggregate(n=Count("pk"), mean=Avg("rating"))
        context = self._context(
            request,
            _("%(hall)s %(year)d 年度考核评分") % {"hall": hall.name, "year": year},
            hall=hall,
            year=year,
            scheme=scheme,
            result=result,
            rows=rows,
            can_score=can_score,
            history=history,
            inspections=inspections,
            satisfaction=satisfaction,
            today=timezone.localdate(),
        )
        return TemplateResponse(request, "admin/evaluation/scoring.html", context)

    @staticmethod
    def _save_scores(request, hall, dimensions, scores):
        """Every changed dimension through ``score_set``, all or nothing."""
        errors: dict[int, str] = {}
        posted: dict[int, tuple[str, str]] = {}
        with transaction.atomic():
            for d in dimensions:
                if d.source != Dimension.Source.SCORED:
                    continue
                raw = request.POST.get(f"points_{d.pk}", "").strip()
                comment = request.POST.get(f"comment_{d.pk}", "").strip()
                posted[d.pk] = (raw, comment)
                old = scores.get(d.pk)
                if raw == "":
                    if old is not None:
                        errors[d.pk] = _("已评过分的维度不能清空,请填写分数。")
                    continue
                try:
                    unchanged = old is not None and Decimal(raw) == old.points
                except InvalidOperation:
                    unchanged = False
                if unchanged and comment == old.comment:
                    continue
                try:
                    services.score_set(
                        dimension=d, hall=hall, points=raw, comment=comment, by=request.user
                    )
                except ValidationError as exc:
                    errors[d.pk] = _messages_of(exc)
            if errors:
                transaction.set_rollback(True)
        return errors, posted

    # --- spreadsheets

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Queue a spreadsheet (``exports.export_start``) and follow it on its status page."""
        self._require_read(request)
        back = request.POST.get("next") or reverse("admin:evaluation_servicereport_changelist")
        if not back.startswith("/"):
            back = reverse("admin:evaluation_servicereport_changelist")
        if request.method != "POST":
            return redirect(back)
        within = scoped_hall(request, request.POST["hall"]) if request.POST.get("hall") else None
        try:
            year = _year(request.POST.get("year"))
            export_id = exports.export_start(
                kind=request.POST.get("kind", ""), year=year, within=within, user=request.user
            )
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
            return redirect(back)
        return redirect("admin:evaluation_export_status", export_id)

    def export_status_view(self, request: HttpRequest, export_id: str) -> TemplateResponse:
        self._require_read(request)
        state = exports.export_status(export_id, user=request.user)
        if state is None:
            raise Http404(_("没有这个导出任务,或它已过期。"))
        context = self._context(
            request,
            _("导出 Excel"),
            state=state,
            kind_label=EXPORT_LABELS.get(state["kind"], state["kind"]),
            running=state["status"] in ("pending", "running"),
            percent=int(100 * state["done"] / state["total"]) if state["total"] else 0,
        )
        return TemplateResponse(request, "admin/evaluation/export_status.html", context)

    def export_download_view(self, request: HttpRequest, export_id: str) -> FileResponse:
        self._require_read(request)
        state = exports.export_status(export_id, user=request.user)
        if state is None or state["status"] != "done":
            raise Http404(_("没有这个导出文件,或它已过期。"))
        file = Path(settings.MEDIA_ROOT) / state["path"]
        if not file.is_file():
            raise Http404(_("没有这个导出文件,或它已过期。"))
        return FileResponse(open(file, "rb"), as_attachment=True, filename=state["filename"])


# --- Inspections ----------------------------------------------------------------------------------


class DimensionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Dimension) -> str:
        return f"{obj.scheme.year} · {obj.order}. {obj.name}"


class InspectionAddForm(forms.ModelForm):
    """Records through ``inspection_record`` while validating: its refusals are form errors."""

    request: HttpRequest

    dimension = DimensionChoiceField(
        label=gettext_lazy("计入维度"),
        queryset=Dimension.objects.filter(source=Dimension.Source.SCORED)
        .select_related("scheme")
        .order_by("-scheme__year", "order"),
    )

    class Meta:
        model = Inspection
        fields = [
            "hall",
            "inspector_hall",
            "inspected_on",
            "findings",
            "dimension",
            "deduction",
            "fix_by",
        ]

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors:
            return
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        try:
            self.instance = services.inspection_record(**data, by=self.request.user)
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error("inspector_hall", str(exc))

    def save(self, commit: bool = True):
        self.save_m2m = lambda: None
        return self.instance


class InspectionFixForm(forms.ModelForm):
    """Marks the findings put right through ``inspection_mark_fixed``."""

    request: HttpRequest

    class Meta:
        model = Inspection
        fields = ["fixed_on"]

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors or "fixed_on" not in self.changed_data:
            return
        fixed_on = self.cleaned_data.get("fixed_on")
        if fixed_on is None:
            self.add_error("fixed_on", _("请填写整改完成日期。"))
            return
        try:
            self.instance = services.inspection_mark_fixed(
                inspection=self.instance, fixed_on=fixed_on, by=self.request.user
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error("fixed_on", str(exc))

    def save(self, commit: bool = True):
        self.save_m2m = lambda: None
        return self.instance


@admin.register(Inspection)
class InspectionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Visible to the inspected hall and the inspecting one; written by the inspecting hall
    (both halls must be in the account's scope). Never deleted: a finding counts in the score."""

    scope_path = ("hall", "inspector_hall")
    allow_delete = False
    list_display = (
        "hall",
        "inspector_hall",
        "inspected_on",
        "dimension",
        "deduction",
        "fix_by",
        "fixed_on",
        "state",
    )
    list_filter = ("inspected_on", "fixed_on")
    search_fields = ("hall__name", "findings")
    list_select_related = ("hall", "inspector_hall", "dimension")
    date_hierarchy = None
    readonly_fields_after_add = (
        "hall",
        "inspector_hall",
        "inspected_on",
        "findings",
        "dimension",
        "deduction",
        "fix_by",
        "recorded_by",
        "created_at",
    )

    @admin.display(description=gettext_lazy("整改情况"))
    def state(self, obj: Inspection) -> str:
        if obj.fixed_on:
            if obj.fixed_on <= obj.fix_by:
                return _("已按期整改")
            return _("逾期整改(扣分)")
        if obj.fix_by < timezone.localdate():
            return _("逾期未整改(扣分)")
        return _("整改中")

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return InspectionAddForm.Meta.fields
        return [*self.readonly_fields_after_add, "fixed_on"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.readonly_fields_after_add if obj is not None else ()

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        kwargs["form"] = InspectionAddForm if obj is None else InspectionFixForm
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_model(self, request, obj, form, change):
        pass  # the forms saved it through the services
