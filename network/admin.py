"""The hall tree, memberships and staff records in the admin, each scoped by ``ScopedAdminMixin``.

The hall list browses the tree one level at a time (the children of one hall, with breadcrumbs of
its ancestors), so a province's tree is never loaded into one page; searching or filtering by kind
looks through the whole scope, or the subtree of the hall being browsed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
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

from . import services
from .admin_scope import ScopedAdminMixin, ScopedInlineMixin, scoped_queryset
from .models import (
    Condition,
    Dispatch,
    Hall,
    HallKind,
    Membership,
    Resource,
    StaffAssignment,
    Training,
    TrainingAttendance,
    Volunteer,
)
from .selectors import (
    DISPATCH_HALL_PATHS,
    hall_subtree,
    resource_busy_periods,
    staffing_shortfalls,
    subtree_q,
    user_scope,
)

PARENT_VAR = "parent"
HALL_FORM_FIELDS = ["parent", *Hall.OWN_FIELDS]


class HallAdminForm(forms.ModelForm):
    """Validates the input; ``HallAdmin.save_model`` writes it through ``hall_create``/
    ``hall_update``/``hall_move``, and what those refuse (depth, a duplicate code, a point under a
    point) comes back on this form (``ScopedAdminMixin.changeform_view``) with nothing saved."""

    class Meta:
        model = Hall
        fields = HALL_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_before = self.instance.parent_id

    def _post_clean(self) -> None:
        # The model's own validation is the service's to run (its messages name the rule, not a
        # database constraint); here only the instance is filled in for the admin's messages.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


class HallChangeList(ChangeList):
    """``?parent=<id>`` browses one hall's children; the tree restriction is ours, not a field
    lookup, so it is kept out of Django's filter parameters (and kept in every link)."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(PARENT_VAR, None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        parent = getattr(request, "_hall_browse_parent", None)
        searching = bool(self.query) or any(k.startswith("kind") for k in self.filter_params)
        if parent is not None:
            if searching:
                qs = qs.filter(subtree_q(parent)).exclude(pk=parent.pk)
            else:
                qs = qs.filter(parent=parent)
        elif not searching:
            if request.user.is_superuser:
                qs = qs.filter(parent__isnull=True)
            else:
                qs = qs.filter(
                    pk__in=Membership.objects.filter(user=request.user).values("hall_id")
                )
        children = (
            Hall.objects.filter(parent=OuterRef("pk"))
            .order_by()
            .values("parent")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return qs.annotate(
            child_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0))
        )


@admin.register(Hall)
class HallAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path = ""
    allow_delete = False  # a hall is closed (状态 关闭), never deleted
    form = HallAdminForm
    list_display = ["name", "code", "kind", "status", "operator", "children_link"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "code"]
    search_help_text = gettext_lazy("按名称或编码在您的管辖范围内搜索")
    ordering = ["tree_id", "lft"]
    list_per_page = 50
    show_full_result_count = False
    save_as = False
    readonly_fields = ["kind", "plaque_name", "main_hall", "branch_hall"]
    fieldsets = [
        (None, {"fields": ["parent", "kind", "code", "name", "locality", "plaque_name"]}),
        (gettext_lazy("状态与主体"), {"fields": ["status", "operator", "operator_name"]}),
        (
            gettext_lazy("位置与服务公开"),
            {
                "fields": [
                    "address",
                    ("latitude", "longitude"),
                    "phone",
                    "opening_hours",
                    "services",
                ]
            },
        ),
        (gettext_lazy("所属"), {"fields": ["main_hall", "branch_hall"]}),
    ]

    @admin.display(description=gettext_lazy("下级"))
    def children_link(self, hall: Hall):
        count = getattr(hall, "child_count", 0)
        if not count:
            return "—"
        return format_html(
            '<a href="?{}">{}</a>',
            urlencode({PARENT_VAR: hall.pk}),
            _("下级 (%(n)s)") % {"n": count},
        )

    def get_changelist(self, request, **kwargs):
        return HallChangeList

    def changelist_view(self, request: HttpRequest, extra_context=None):
        parent = self._browse_parent(request)
        request._hall_browse_parent = parent
        trail = []
        if parent is not None:
            scope = user_scope(request.user)
            trail = [(hall, scope.covers(hall)) for hall in self._ancestors(parent)]
        extra_context = {
            **(extra_context or {}),
            "browse_parent": parent,
            "browse_trail": trail,
            "staffing_url": reverse(f"{self.admin_site.name}:network_hall_staffing"),
            "may_add_below": parent is not None
            and parent.kind != HallKind.POINT
            and self.has_add_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def _browse_parent(self, request: HttpRequest) -> Hall | None:
        raw = request.GET.get(PARENT_VAR)
        if not raw:
            return None
        try:
            return self.get_queryset(request).get(pk=int(raw))
        except (ValueError, Hall.DoesNotExist) as exc:
            raise Http404(_("没有找到该馆,或它不在您的管辖范围内。")) from exc

    @staticmethod
    def _ancestors(hall: Hall) -> list[Hall]:
        return list(
            Hall.objects.filter(
                tree_id=hall.tree_id, lft__lte=hall.lft, rght__gte=hall.rght
            ).order_by("lft")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Only a superuser may found a new city tree (a hall with no parent).
        if "parent" in form.base_fields and not request.user.is_superuser:
            form.base_fields["parent"].required = True
        return form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and (
            obj.parent_id is None or not user_scope(request.user).covers(obj.parent)
        ):
            # A centre stays a root; a hall whose parent is out of reach cannot be re-hung.
            fields.append("parent")
        return fields

    def get_search_results(self, request, queryset, search_term):
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.url_name == "autocomplete"
            and request.GET.get("field_name") == "parent"
            and request.GET.get("model_name") == "hall"
        ):
            qs = qs.exclude(kind=HallKind.POINT)  # a point can be no one's parent
        return qs, may_have_duplicates

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        parent = data.get("parent")
        if not change:
            fields = {k: data[k] for k in HALL_FORM_FIELDS if k in data and k != "parent"}
            saved = services.hall_create(parent=parent, **fields)
        else:
            changed = {k: data[k] for k in form.changed_data if k != "parent"}
            saved = services.hall_update(hall=obj, **changed)
            if "parent" in form.fields and (parent.pk if parent else None) != form.parent_before:
                if parent is None:
                    raise ValidationError({"parent": _("请选择上级馆。")})
                saved = services.hall_move(hall=saved, new_parent=parent)
        obj.pk = saved.pk

    def get_urls(self):
        return [
            path(
                "staffing/",
                self.admin_site.admin_view(self.staffing_view),
                name="network_hall_staffing",
            ),
            *super().get_urls(),
        ]

    def staffing_view(self, request: HttpRequest):
        """Branches and points below the staffing standard of the seeds, in the user's scope."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = staffing_shortfalls(
            scope=user_scope(request.user),
            min_branch=settings.STAFFING_MIN_BRANCH,
            min_point=settings.STAFFING_MIN_POINT,
        )
        page = Paginator(rows, 50).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("人员配备达标情况"),
            "opts": self.opts,
            "page": page,
            "min_branch": settings.STAFFING_MIN_BRANCH,
            "min_point": settings.STAFFING_MIN_POINT,
        }
        return TemplateResponse(request, "admin/network/staffing_report.html", context)


class MembershipAddForm(forms.ModelForm):
    username = forms.CharField(
        label=gettext_lazy("账号"),
        max_length=150,
        help_text=gettext_lazy("已有账号时填写其账号名;新账号会同时创建"),
    )
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=150, required=False)
    password = forms.CharField(
        label=gettext_lazy("初始密码"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("仅新账号需要;留空则账号在设置密码前不能登录"),
    )

    class Meta:
        model = Membership
        fields = ["hall", "role", "public_welfare_post"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is not None and not self._scope_users.filter(pk=user.pk).exists():
            raise ValidationError(_("该账号已存在,且不在您的管辖范围内,请联系其所在馆添加岗位。"))
        return username

    def clean(self):
        data = super().clean()
        if self._errors:
            return data
        User = get_user_model()
        password = data.get("password")
        if password and not User.objects.filter(username=data["username"]).exists():
            try:
                validate_password(password, User(username=data["username"]))
            except ValidationError as exc:
                self.add_error("password", exc)
                return data
        return data

    def _post_clean(self):
        # The service runs full_clean on the membership it creates (MembershipAdmin.save_model).
        self.instance = construct_instance(self, self.instance, self._meta.fields)


@admin.register(Membership)
class MembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "hall", "role", "public_welfare_post", "created_at"]
    list_filter = ["role", "public_welfare_post"]
    list_select_related = ["user", "hall"]
    search_fields = ["user__username", "user__first_name", "hall__name", "hall__code"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipAddForm
            form = super().get_form(request, obj, change, **kwargs)
            form._scope_users = scoped_queryset(
                Membership._meta.get_field("user").related_model, request, self.admin_site
            )
            return form
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "full_name", "password", "hall", "role", "public_welfare_post"]
        return ["user", "hall", "role", "public_welfare_post"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "hall"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            services.membership_update(
                membership=obj,
                role=form.cleaned_data["role"],
                public_welfare_post=form.cleaned_data["public_welfare_post"],
            )
        else:
            data = form.cleaned_data
            saved = services.staff_member_add(
                username=data["username"],
                hall=data["hall"],
                role=data["role"],
                public_welfare_post=data.get("public_welfare_post", False),
                full_name=data.get("full_name", ""),
                password=data.get("password") or None,
            )
            obj.pk, obj.user = saved.pk, saved.user  # for the admin's log entry and message


class ServiceSavedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A staff record whose add/change goes through ``create_service``/``update_service``; the
    model's ``clean`` carries the rules, so the form shows them before anything is written."""

    create_service = None
    update_service = None
    update_key = ""

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        if change:
            changed = {name: data[name] for name in form.changed_data if name in data}
            saved = self.update_service(**{self.update_key: obj}, **changed)
        else:
            saved = self.create_service(**data)
        obj.pk = saved.pk


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(ServiceSavedAdmin):
    scope_path = ("from_hall", "to_hall")
    create_service = staticmethod(services.assignment_create)
    update_service = staticmethod(services.assignment_update)
    update_key = "assignment"
    list_display = ["person", "kind", "from_hall", "to_hall", "start_date", "end_date"]
    list_filter = ["kind"]
    list_select_related = ["user", "from_hall", "to_hall"]
    search_fields = ["person_name", "user__username", "user__first_name", "to_hall__name"]
    date_hierarchy = "start_date"
    fields = [
        "kind",
        "user",
        "person_name",
        "from_hall",
        "to_hall",
        "start_date",
        "end_date",
        "note",
    ]

    @admin.display(description=gettext_lazy("人员"))
    def person(self, obj: StaffAssignment) -> str:
        return obj.person


class TrainingAttendanceInline(ScopedInlineMixin, admin.TabularInline):
    model = TrainingAttendance
    extra = 3
    fields = ["name", "hall", "user", "hours"]


@admin.register(Training)
class TrainingAdmin(ServiceSavedAdmin):
    create_service = staticmethod(services.training_create)
    update_service = staticmethod(services.training_update)
    update_key = "training"
    inlines = [TrainingAttendanceInline]
    list_display = ["title", "hall", "start_date", "end_date", "hours", "teacher", "attendees"]
    list_select_related = ["hall"]
    search_fields = ["title", "teacher", "attendances__name"]
    date_hierarchy = "start_date"
    fields = ["hall", "title", "start_date", "end_date", "hours", "teacher", "content"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(attendee_count=Count("attendances"))

    @admin.display(description=gettext_lazy("参训人数"), ordering="attendee_count")
    def attendees(self, obj: Training) -> int:
        return obj.attendee_count

    def save_formset(self, request, form, formset, change):
        training = form.instance
        deleted = formset.deleted_forms if formset.can_delete else []
        # The admin's change message reads these three lists, as formset.save() would fill them.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            instance = row.instance
            if row in deleted:
                if instance.pk:
                    services.training_attendance_remove(attendance=instance)
                    formset.deleted_objects.append(instance)
                continue
            if not row.has_changed():
                continue
            data = {k: row.cleaned_data[k] for k in ("name", "hall", "user", "hours")}
            if instance.pk:
                saved = services.training_attendance_update(attendance=instance, **data)
                formset.changed_objects.append((saved, row.changed_data))
            else:
                saved = services.training_attendance_add(training=training, **data)
                formset.new_objects.append(saved)


@admin.register(Volunteer)
class VolunteerAdmin(ServiceSavedAdmin):
    allow_delete = False  # a volunteer who leaves is marked 不在册, the record stays
    create_service = staticmethod(services.volunteer_register)
    update_service = staticmethod(services.volunteer_update)
    update_key = "volunteer"
    list_display = ["name", "phone", "hall", "skills", "registered_on", "active"]
    list_filter = ["active"]
    list_select_related = ["hall"]
    search_fields = ["name", "phone", "skills"]
    fields = ["hall", "name", "phone", "skills", "registered_on", "active"]


# --- Resource catalogue and dispatch (资源分类编目与调配) ------------------------------------------
# The catalogue is shared by the whole city network (``read_scope = "city"``): every staff
# account lists and opens the resources of its city trees so that halls can ask each other for
# things, while only the owner's scope changes an entry. Entries are written by
# ``resource_create``/``resource_update``; every step of a dispatch by its service, whose
# PermissionDenied or ValidationError comes back as a message or a form error.

RESOURCE_FORM_FIELDS = [
    "hall",
    "kind",
    "name",
    "description",
    "quantity",
    "unit",
    "condition",
    "value",
    "contact",
    "public",
    "dispatchable",
    "active",
]


class ResourceAdminForm(forms.ModelForm):
    """Saves through the services while the form is validated, like ``HallAdminForm``."""

    class Meta:
        model = Resource
        fields = RESOURCE_FORM_FIELDS

    by = None  # the requesting user, set by ``ResourceAdmin.get_form``

    def _post_clean(self) -> None:
        if self._errors:
            return
        data = self.cleaned_data
        try:
            with transaction.atomic():
                if self.instance.pk is None:
                    fields = {k: data[k] for k in services.RESOURCE_FIELDS if k in data}
                    fields.pop("name", None)
                    self.instance = services.resource_create(
                        hall=data["hall"],
                        kind=data["kind"],
                        name=data["name"],
                        by=self.by,
                        **fields,
                    )
                else:
                    changed = {
                        k: data[k] for k in self.changed_data if k in services.RESOURCE_FIELDS
                    }
                    self.instance = services.resource_update(
                        resource=self.instance, by=self.by, **changed
                    )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))

    def save(self, commit: bool = True) -> Resource:
        self.save_m2m = lambda: None
        return self.instance


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
    url = reverse(f"{site_name}:network_dispatch_add")
    return f"{url}?{urlencode({'resource': resource.pk})}"


@admin.register(Resource)
class ResourceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    read_scope = "city"
    allow_delete = False  # dispatches keep their resource; a retired entry is marked 不在用
    form = ResourceAdminForm
    change_form_template = "admin/network/resource/change_form.html"
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.by = request.user
        return form

    def save_model(self, request, obj, form, change):
        pass  # ResourceAdminForm saved it through the services

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
            "dispatches_url": reverse(f"{self.admin_site.name}:network_dispatch_changelist")
            + "?"
            + urlencode({"resource__id__exact": resource.pk}),
        }
        return super().change_view(request, object_id, form_url, extra_context)


class DispatchRequestForm(forms.ModelForm):
    """A request (申请调配), made by ``dispatch_request`` while the form is validated."""

    class Meta:
        model = Dispatch
        fields = ["resource", "requesting_hall", "start", "end", "purpose"]

    by = None

    def _post_clean(self) -> None:
        if self._errors:
            return
        data = self.cleaned_data
        try:
            with transaction.atomic():
                self.instance = services.dispatch_request(
                    resource=data["resource"],
                    requesting_hall=data["requesting_hall"],
                    start=data["start"],
                    end=data["end"],
                    purpose=data["purpose"],
                    by=self.by,
                )
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error("requesting_hall", str(exc))

    def save(self, commit: bool = True) -> Dispatch:
        self.save_m2m = lambda: None
        return self.instance


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


S = Dispatch.Status


@dataclass(frozen=True)
class DispatchStep:
    label: str
    form: type[forms.Form]
    run: Callable[[Dispatch, Any, dict], Any]
    statuses: tuple[str, ...]
    hall: str  # whose scope may take the step
    done: str


DISPATCH_STEPS = {
    "approve": DispatchStep(
        gettext_lazy("批准"), NoteForm, _run_approve, (S.REQUESTED,), "approver_hall",
        gettext_lazy("已批准。"),
    ),
    "reject": DispatchStep(
        gettext_lazy("不批准"), RejectForm, _run_reject, (S.REQUESTED,), "approver_hall",
        gettext_lazy("已记录不批准及原因。"),
    ),
    "cancel": DispatchStep(
        gettext_lazy("撤回"), EmptyForm, _run_cancel, (S.REQUESTED, S.APPROVED),
        "requesting_hall", gettext_lazy("申请已撤回。"),
    ),
    "hand_over": DispatchStep(
        gettext_lazy("交接"), ConditionForm, _run_hand_over, (S.APPROVED,), "resource__hall",
        gettext_lazy("已登记交接。"),
    ),
    "return": DispatchStep(
        gettext_lazy("归还"), ConditionForm, _run_return, (S.HANDED_OVER,), "resource__hall",
        gettext_lazy("已登记归还,资源状况已更新。"),
    ),
    "add_stop": DispatchStep(
        gettext_lazy("添加巡演站点"), StopForm, _run_add_stop, (S.APPROVED, S.HANDED_OVER),
        "requesting_hall", gettext_lazy("已添加巡演站点,活动已发布在该服务点的页面上。"),
    ),
}  # fmt: skip


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
            return queryset.filter(scope.q("approver_hall__"), status=S.REQUESTED)
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
    change_form_template = "admin/network/dispatch/change_form.html"
    autocomplete_fields = ["resource", "requesting_hall"]
    list_display = [
        "resource",
        "requesting_hall",
        "period",
        "status",
        "approver_hall",
        "decided_by",
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
    add_fieldsets = [(None, {"fields": ["resource", "requesting_hall", "start", "end", "purpose"]})]
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
                    ("requested_by", "requested_at"),
                    ("decided_by", "decided_at"),
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.by = request.user
        return form

    def get_changeform_initial_data(self, request: HttpRequest):
        initial = super().get_changeform_initial_data(request)
        if "requesting_hall" not in initial:
            own = Membership.objects.filter(user=request.user).values_list("hall_id", flat=True)
            if len(own) == 1:
                initial["requesting_hall"] = own[0]
        return initial

    def save_model(self, request, obj, form, change):
        pass  # DispatchRequestForm made it through dispatch_request; steps have their pages

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
        halls = {
            "approver_hall": dispatch.approver_hall,
            "requesting_hall": dispatch.requesting_hall,
            "resource__hall": dispatch.resource.hall,
        }
        return [
            (
                step.label,
                reverse(f"{self.admin_site.name}:network_dispatch_step", args=[dispatch.pk, name]),
            )
            for name, step in DISPATCH_STEPS.items()
            if dispatch.status in step.statuses and scope.covers(halls[step.hall])
        ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/<str:step>/",
                self.admin_site.admin_view(self.step_view),
                name="network_dispatch_step",
            ),
            *super().get_urls(),
        ]

    def step_view(self, request: HttpRequest, object_id: str, step: str):
        spec = DISPATCH_STEPS.get(step)
        if spec is None:
            raise Http404(_("没有这一步。"))
        if not self.has_view_permission(request):
            raise PermissionDenied
        dispatch = self.get_object(request, object_id)
        change_url = reverse(f"{self.admin_site.name}:network_dispatch_change", args=[dispatch.pk])
        kwargs = {"dispatch": dispatch} if spec.form is StopForm else {}
        form = spec.form(request.POST if request.method == "POST" else None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                spec.run(dispatch, request.user, form.cleaned_data)
            except PermissionDenied as exc:
                self.message_user(request, str(exc) or _("您无权办理这一步。"), messages.ERROR)
                return redirect(change_url)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                self.message_user(request, spec.done, messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}:{dispatch}",
            "opts": self.opts,
            "original": dispatch,
            "dispatch": dispatch,
            "step_label": spec.label,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/network/dispatch/step_form.html", context)
