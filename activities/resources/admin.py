"""The resource catalogue and dispatch in the admin, scoped by ``ScopedAdminMixin``.

The catalogue is shared by the whole city network (``read_scope = "city"``): every staff account
lists and opens the resources of its city trees so that halls can ask each other for things,
while only the owner's scope changes an entry. Forms only validate; ``save_model`` writes through
``resource_create``/``resource_update`` and ``dispatch_request`` (a refusal comes back on the same
form: ``ScopedAdminMixin.changeform_view``), and every later step of a dispatch goes through its
service on a page of its own, whose PermissionDenied or ValidationError comes back as a message or
a form error. Which steps a dispatch allows is the model's to say (``Dispatch.next_steps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import construct_instance
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from network.admin_scope import ScopedAdminMixin
from network.models import Hall, HallKind, Membership
from network.selectors import hall_subtree, person_name, user_scope

from . import services
from .models import Condition, Dispatch, Resource
from .selectors import DISPATCH_HALL_PATHS, resource_busy_periods


def _adopt(obj, saved) -> None:
    """Make the admin's instance the row a service saved, for the message and the log entry
    the admin writes next."""
    for field in type(saved)._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


# --- The catalogue ------------------------------------------------------------------------------


class WritableFilter(admin.SimpleListFilter):
    title = gettext_lazy("范围")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("本馆及下属馆的")), ("0", _("其他馆的"))]

    def queryset(self, request, queryset):
        scope = user_scope(request.user)
        if self.value() == "1":
            return queryset.filter(scope.q("hall__"))
        if self.value() == "0":
            return queryset.exclude(scope.q("hall__"))
        return queryset


class OwnerHallFilter(admin.SimpleListFilter):
    """The halls that own something in the visible catalogue (one query)."""

    title = gettext_lazy("所属馆")
    parameter_name = "hall"
    limit = 200

    def lookups(self, request, model_admin):
        owners = model_admin.get_queryset(request).order_by().values("hall_id")
        halls = Hall.objects.filter(pk__in=owners).order_by("tree_id", "lft").only("pk", "name")
        return [(str(h.pk), h.name) for h in halls[: self.limit]]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            return queryset.filter(hall_id=int(self.value()))
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc


def _dispatch_add_url(site_name: str, resource: Resource) -> str:
    url = reverse(f"{site_name}:resources_dispatch_add")
    return f"{url}?{urlencode({'resource': resource.pk})}"


@admin.register(Resource)
class ResourceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    read_scope = "city"
    allow_delete = False  # dispatches keep their resource; a retired entry is marked 不在用
    change_form_template = "admin/resources/resource/change_form.html"
    list_display = [
        "catalogue_no",
        "name",
        "kind",
        "hall",
        "quantity_display",
        "condition",
        "dispatchable",
        "public",
        "active",
        "request_link",
    ]
    list_display_links = ["catalogue_no", "name"]
    list_filter = [WritableFilter, "kind", OwnerHallFilter, "condition", "dispatchable", "active"]
    list_select_related = ["hall"]
    search_fields = ["catalogue_no", "name", "hall__name", "description"]
    search_help_text = gettext_lazy("按编目号、名称、所属馆或说明搜索(全市资源目录)")
    ordering = ["catalogue_no"]
    list_per_page = 50
    show_full_result_count = False
    save_as = False
    fieldsets = [
        (None, {"fields": ["catalogue_no", "hall", "kind", "name", "description"]}),
        (
            gettext_lazy("数量与状况"),
            {"fields": [("quantity", "unit"), "condition", "value", "contact"]},
        ),
        (gettext_lazy("公开与调配"), {"fields": ["public", "dispatchable", "active"]}),
    ]

    @admin.display(description=gettext_lazy("数量"), ordering="quantity")
    def quantity_display(self, resource: Resource) -> str:
        return f"{resource.quantity}{resource.unit}"

    @admin.display(description=gettext_lazy("调配"))
    def request_link(self, resource: Resource):
        if not (resource.active and resource.dispatchable):
            return "—"
        return format_html(
            '<a href="{}">{}</a>', _dispatch_add_url(self.admin_site.name, resource), _("申请调配")
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # the number is given on saving
            first = self.fieldsets[0]
            fields = [f for f in first[1]["fields"] if f != "catalogue_no"]
            return [(None, {"fields": fields}), *self.fieldsets[1:]]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The number follows the hall and the kind, so neither moves once catalogued.
        return ["catalogue_no", "hall", "kind"]

    def save_model(self, request, obj, form, change):
        # The form has validated the entry (the model's own rules, the hall within the scope);
        # the service numbers it and checks the scope again as it writes.
        data = form.cleaned_data
        if change:
            changed = {k: data[k] for k in form.changed_data if k in services.RESOURCE_FIELDS}
            saved = services.resource_update(resource=obj, by=request.user, **changed)
        else:
            fields = {k: data[k] for k in services.RESOURCE_FIELDS if k in data and k != "name"}
            saved = services.resource_create(
                hall=data["hall"], kind=data["kind"], name=data["name"], by=request.user, **fields
            )
        _adopt(obj, saved)

    def get_search_results(self, request, queryset, search_term):
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.url_name == "autocomplete"
            and request.GET.get("model_name") == "dispatch"
        ):
            qs = qs.filter(active=True, dispatchable=True)  # only what can be asked for
        return qs, may_have_duplicates

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        resource = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "busy_periods": resource_busy_periods(resource.pk, since=timezone.now()),
            "request_url": _dispatch_add_url(self.admin_site.name, resource)
            if resource.active and resource.dispatchable and self.has_add_permission(request)
            else None,
            "dispatches_url": reverse(f"{self.admin_site.name}:resources_dispatch_changelist")
            + "?"
            + urlencode({"resource__id__exact": resource.pk}),
        }
        return super().change_view(request, object_id, form_url, extra_context)


# --- Requests -----------------------------------------------------------------------------------

REQUEST_FIELDS = ["resource", "requesting_hall", "start", "end", "purpose"]


class DispatchRequestForm(forms.ModelForm):
    """A request (申请调配): validates the input; ``DispatchAdmin.save_model`` makes it through
    ``dispatch_request``, whose refusals (a period already given out, an end before the start)
    come back on this form."""

    class Meta:
        model = Dispatch
        fields = REQUEST_FIELDS

    def _post_clean(self) -> None:
        # The model's own validation is the service's to run (its messages name the rule, not the
        # end-after-start constraint); here only the instance is filled in.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


# --- Steps --------------------------------------------------------------------------------------


def _local_input(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        **kwargs,
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("意见"), max_length=255, required=False)


class RejectForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("不批准的原因"),
        max_length=255,
        error_messages={"required": gettext_lazy("请写明不批准的原因。")},
    )


class EmptyForm(forms.Form):
    pass


class ConditionForm(forms.Form):
    condition = forms.ChoiceField(
        label=gettext_lazy("资源状况"),
        choices=[("", "---------"), *Condition.choices],
        error_messages={"required": gettext_lazy("请选择资源状况。")},
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=255, required=False)


class StopForm(forms.Form):
    point = forms.ModelChoiceField(
        label=gettext_lazy("服务点"),
        queryset=Hall.objects.none(),
        error_messages={"required": gettext_lazy("请选择服务点。")},
    )
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=120)
    start = _local_input(label=gettext_lazy("开始时间"))
    end = _local_input(label=gettext_lazy("结束时间"))

    def __init__(self, *args, dispatch: Dispatch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = hall_subtree(dispatch.requesting_hall_id).filter(
            kind=HallKind.POINT
        )
        if not self.is_bound:
            self.initial.setdefault("title", _("%(name)s 巡演") % {"name": dispatch.resource.name})


def _run_approve(dispatch, user, data):
    return services.dispatch_approve(dispatch=dispatch, by=user, note=data.get("note", ""))


def _run_reject(dispatch, user, data):
    return services.dispatch_reject(dispatch=dispatch, by=user, note=data["note"])


def _run_cancel(dispatch, user, data):
    return services.dispatch_cancel(dispatch=dispatch, by=user)


def _run_hand_over(dispatch, user, data):
    return services.dispatch_hand_over(
        dispatch=dispatch, by=user, condition=data["condition"], note=data.get("note", "")
    )


def _run_return(dispatch, user, data):
    return services.dispatch_return(
        dispatch=dispatch, by=user, condition=data["condition"], note=data.get("note", "")
    )


def _run_add_stop(dispatch, user, data):
    return services.dispatch_add_stop(
        dispatch=dispatch,
        point=data["point"],
        title=data["title"],
        start=data["start"],
        end=data["end"],
        by=user,
    )


@dataclass(frozen=True)
class StepPage:
    """How the admin shows a step: its form, the service it calls, and what it says after.
    When a step is allowed, and to whom, is the model's (``Dispatch.TRANSITIONS``, ``STEP_HALL``)."""

    form: type[forms.Form]
    run: Callable[[Dispatch, Any, dict], Any]
    done: str


Step = Dispatch.Step
STEP_PAGES = {
    Step.APPROVE: StepPage(NoteForm, _run_approve, gettext_lazy("已批准。")),
    Step.REJECT: StepPage(RejectForm, _run_reject, gettext_lazy("已记录不批准及原因。")),
    Step.CANCEL: StepPage(EmptyForm, _run_cancel, gettext_lazy("申请已撤回。")),
    Step.HAND_OVER: StepPage(ConditionForm, _run_hand_over, gettext_lazy("已登记交接。")),
    Step.RETURN: StepPage(ConditionForm, _run_return, gettext_lazy("已登记归还,资源状况已更新。")),
    Step.ADD_STOP: StepPage(
        StopForm, _run_add_stop, gettext_lazy("已添加巡演站点,活动已发布在该服务点的页面上。")
    ),
}


class MineFilter(admin.SimpleListFilter):
    title = gettext_lazy("与我有关")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [
            ("approve", _("待我审批")),
            ("requested", _("本馆及下属馆申请的")),
            ("owned", _("本馆及下属馆的资源")),
        ]

    def queryset(self, request, queryset):
        scope = user_scope(request.user)
        value = self.value()
        if value == "approve":
            return queryset.filter(
                scope.q("approver_hall__"), status__in=Dispatch.statuses_allowing(Step.APPROVE)
            )
        if value == "requested":
            return queryset.filter(scope.q("requesting_hall__"))
        if value == "owned":
            return queryset.filter(scope.q("resource__hall__"))
        return queryset


@admin.register(Dispatch)
class DispatchAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Seen by the requesting, the owning and the approving hall's scope. Requests are made on
    the add page; each later step is a page of its own that calls its service."""

    scope_path = DISPATCH_HALL_PATHS
    allow_delete = False  # a dispatch is withdrawn or refused, never deleted
    form = DispatchRequestForm
    change_form_template = "admin/resources/dispatch/change_form.html"
    autocomplete_fields = ["resource", "requesting_hall"]
    list_display = [
        "resource",
        "requesting_hall",
        "period",
        "status",
        "approver_hall",
        "decided_by_name",
    ]
    list_filter = [MineFilter, "status", "resource__kind"]
    list_select_related = ["resource", "requesting_hall", "approver_hall", "decided_by"]
    search_fields = [
        "resource__catalogue_no",
        "resource__name",
        "requesting_hall__name",
        "purpose",
    ]
    search_help_text = gettext_lazy("按资源编目号或名称、申请馆、用途搜索")
    ordering = ["-start", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    save_as = False
    date_hierarchy = "start"
    add_fieldsets = [(None, {"fields": REQUEST_FIELDS})]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "resource",
                    "requesting_hall",
                    "approver_hall",
                    "purpose",
                    ("start", "end"),
                    "status",
                ]
            },
        ),
        (
            gettext_lazy("申请与审批"),
            {
                "fields": [
                    ("requested_by_name", "requested_at"),
                    ("decided_by_name", "decided_at"),
                    "decision_note",
                ]
            },
        ),
        (
            gettext_lazy("交接与归还"),
            {
                "fields": [
                    ("handed_over_at", "handover_condition"),
                    "handover_note",
                    ("returned_at", "return_condition"),
                    "return_note",
                ]
            },
        ),
    ]

    @admin.display(description=gettext_lazy("申请人"))
    def requested_by_name(self, dispatch: Dispatch) -> str:
        return person_name(dispatch.requested_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("审批人"))
    def decided_by_name(self, dispatch: Dispatch) -> str:
        return person_name(dispatch.decided_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("调配期间"), ordering="start")
    def period(self, dispatch: Dispatch) -> str:
        start = timezone.localtime(dispatch.start)
        end = timezone.localtime(dispatch.end)
        fmt = "%H:%M" if start.date() == end.date() else "%Y-%m-%d %H:%M"
        return f"{start:%Y-%m-%d %H:%M} – {end.strftime(fmt)}"

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Every change after the request is a step with its own page and service.
        return [
            name
            for _title, options in self.fieldsets
            for row in options["fields"]
            for name in ((row,) if isinstance(row, str) else row)
        ]

    def get_changeform_initial_data(self, request: HttpRequest):
        initial = super().get_changeform_initial_data(request)
        if "requesting_hall" not in initial:
            own = Membership.objects.filter(user=request.user).values_list("hall_id", flat=True)
            if len(own) == 1:
                initial["requesting_hall"] = own[0]
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on the change page is editable; the steps have their own pages
        data = form.cleaned_data
        saved = services.dispatch_request(by=request.user, **{k: data[k] for k in REQUEST_FIELDS})
        _adopt(obj, saved)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        dispatch = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "steps": self._steps_for(request, dispatch),
            "stops": dispatch.stops.select_related("point", "activity").order_by("order"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _steps_for(self, request: HttpRequest, dispatch: Dispatch) -> list[tuple[str, str]]:
        """The steps this account may take now, as (label, url); the services decide again."""
        scope = user_scope(request.user)
        if scope.read_only:
            return []
        return [
            (
                step.label,
                reverse(
                    f"{self.admin_site.name}:resources_dispatch_step", args=[dispatch.pk, step]
                ),
            )
            for step in dispatch.next_steps()
            if scope.covers(dispatch.step_hall(step))
        ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/<str:step>/",
                self.admin_site.admin_view(self.step_view),
                name="resources_dispatch_step",
            ),
            *super().get_urls(),
        ]

    def step_view(self, request: HttpRequest, object_id: str, step: str):
        if step not in STEP_PAGES:
            raise Http404(_("没有这一步。"))
        step, page = Step(step), STEP_PAGES[step]
        if not self.has_view_permission(request):
            raise PermissionDenied
        dispatch = self.get_object(request, object_id)
        change_url = reverse(
            f"{self.admin_site.name}:resources_dispatch_change", args=[dispatch.pk]
        )
        kwargs = {"dispatch": dispatch} if page.form is StopForm else {}
        form = page.form(request.POST if request.method == "POST" else None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                page.run(dispatch, request.user, form.cleaned_data)
            except PermissionDenied as exc:
                self.message_user(request, str(exc) or _("您无权办理这一步。"), messages.ERROR)
                return redirect(change_url)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                self.message_user(request, page.done, messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{step.label}:{dispatch}",
            "opts": self.opts,
            "original": dispatch,
            "dispatch": dispatch,
            "step_label": step.label,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/resources/dispatch/step_form.html", context)
