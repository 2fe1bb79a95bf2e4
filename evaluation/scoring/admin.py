"""Admin of the assessment: schemes and their dimensions, the results and the scoring page of a
hall, and the inspections.

Every write goes through ``evaluation.scoring.services``: forms only validate, and the pages call
the service (only staff of an ancestor score; a scheme applies to every hall, so superusers and
the staff of a city centre hall set it).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.forms import modelformset_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from network.admin_pages import (
    HISTORY_ROWS,
    MAX_YEAR,
    MIN_YEAR,
    AdminPages,
    current_year,
    export_context,
    home_halls,
    may_manage_settings,
    messages_of,
    scoped_hall,
    year_or_404,
)
from network.admin_scope import ScopedAdminMixin
from network.models import Hall
from network.selectors import hall_ancestors, person_name, user_scope

from . import selectors, services
from .models import (
    AssessmentScheme,
    Dimension,
    Inspection,
    SatisfactionResponse,
    Score,
    ScoreChange,
)


class SchemeCreateForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=120, required=False)


class SchemeForm(forms.ModelForm):
    class Meta:
        model = AssessmentScheme
        fields = ["name", "excellent_from", "good_from", "pass_from", "missing_rule"]


DimensionFormSet = modelformset_factory(
    Dimension,
    fields=["weight", "max_points", "criteria"],
    extra=0,
    widgets={"criteria": forms.Textarea(attrs={"rows": 2, "cols": 50})},
)


class SchemePages(AdminPages):
    """The schemes, the results and the scoring page, hung off ``InspectionAdmin``'s URLs."""

    # --- reporting windows

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
                    return redirect("admin:scoring_scheme", scheme.pk)
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
                try:
                    services.scheme_update(
                        scheme=scheme,
                        **form.cleaned_data,
                        dimensions={
                            f.instance.pk: f.cleaned_data for f in formset.forms if f.has_changed()
                        },
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("考核方案已保存。"))
                    return redirect("admin:scoring_scheme", scheme.pk)
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
        # Without a year asked for, the latest year that has a scheme (this year has none
        # until someone sets it up), else this year.
        latest = AssessmentScheme.objects.order_by("-year").values_list("year", flat=True).first()
        year = year_or_404(request.GET.get("year"), default=latest)
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
        year = year_or_404(year)
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
                return redirect("admin:scoring_scoring", hall.pk, year)
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
                    errors[d.pk] = messages_of(exc)
            if errors:
                transaction.set_rollback(True)
        return errors, posted

    # --- spreadsheets


# --- Inspections ----------------------------------------------------------------------------------


class DimensionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Dimension) -> str:
        return f"{obj.scheme.year} · {obj.order}. {obj.name}"


class InspectionAddForm(forms.ModelForm):
    """Validates with ``inspection_check``: its refusals are form errors. The admin records."""

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

    def clean(self):
        data = super().clean()
        if self._errors:
            return data
        try:
            services.inspection_check(
                **{name: data[name] for name in self.Meta.fields}, by=self.request.user
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error("inspector_hall", str(exc))
        return data


class InspectionFixForm(forms.ModelForm):
    """Validates the date the findings were put right with ``inspection_fix_check``."""

    request: HttpRequest

    class Meta:
        model = Inspection
        fields = ["fixed_on"]

    def clean(self):
        data = super().clean()
        if self._errors or "fixed_on" not in self.changed_data:
            return data
        fixed_on = data.get("fixed_on")
        if fixed_on is None:
            self.add_error("fixed_on", _("请填写整改完成日期。"))
            return data
        try:
            services.inspection_fix_check(
                inspection=self.instance, fixed_on=fixed_on, by=self.request.user
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error("fixed_on", str(exc))
        return data


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
        "recorded_by_name",
        "created_at",
    )

    @admin.display(description=gettext_lazy("记录人"))
    def recorded_by_name(self, obj: Inspection) -> str:
        return person_name(obj.recorded_by) or self.get_empty_value_display()

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

    def get_urls(self):
        # The assessment pages belong to no single inspection; they hang off this admin.
        wrap = self.admin_site.admin_view
        pages = SchemePages(self)
        return [
            path("schemes/", wrap(pages.schemes_view), name="scoring_schemes"),
            path("schemes/<int:scheme_id>/", wrap(pages.scheme_view), name="scoring_scheme"),
            path("scores/", wrap(pages.results_view), name="scoring_results"),
            path(
                "scores/<int:hall_id>/<int:year>/",
                wrap(pages.scoring_view),
                name="scoring_scoring",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        # The form validated with the same checks; the service checks again as it writes.
        if change:
            if "fixed_on" in form.changed_data:
                services.inspection_mark_fixed(
                    inspection=obj, fixed_on=form.cleaned_data["fixed_on"], by=request.user
                )
            return
        data = {name: form.cleaned_data[name] for name in InspectionAddForm.Meta.fields}
        recorded = services.inspection_record(**data, by=request.user)
        obj.pk, obj.recorded_by, obj.created_at = (
            recorded.pk,
            recorded.recorded_by,
            recorded.created_at,
        )
        obj._state.adding = False
