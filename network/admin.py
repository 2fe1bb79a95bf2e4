"""The hall tree, memberships and staff records in the admin, each scoped by ``ScopedAdminMixin``.

The hall list browses the tree one level at a time (the children of one hall, with breadcrumbs of
its ancestors), so a province's tree is never loaded into one page; searching or filtering by kind
looks through the whole scope, or the subtree of the hall being browsed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.forms.models import construct_instance
from django.http import Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import (
    admin_tokens,  # noqa: F401  (registers the API token admin)
    services,
)
from .admin_naming import tree_naming_view
from .admin_scope import ScopedAdminMixin, ScopedInlineMixin, scoped_queryset
from .models import (
    KIND_BY_LEVEL,
    Hall,
    HallClosure,
    HallKind,
    Membership,
    NamingScheme,
    OpeningHours,
    StaffAssignment,
    Training,
    TrainingAttendance,
    Volunteer,
)
from .selectors import attach_schemes, subtree_q, tree_schemes, user_scope

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

    def get_results(self, request):
        super().get_results(request)
        # Each row's level as its tree names it: one query for the page's trees.
        self.result_list = attach_schemes(self.result_list)

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


class OpeningHoursInline(ScopedInlineMixin, admin.TabularInline):
    model = OpeningHours
    extra = 1
    fields = ["weekday", "opens", "closes"]
    verbose_name_plural = gettext_lazy(
        "每周开放时段(“法定节假日”一行填节假日的开放时段,不填则节假日闭馆)"
    )


class HallClosureInline(ScopedInlineMixin, admin.TabularInline):
    model = HallClosure
    extra = 1
    fields = ["date", "reason"]
    verbose_name_plural = gettext_lazy("本馆闭馆日(节假日以外的临时闭馆)")


# Each inline's rows are written by these services (keyed by the fields the row carries).
INLINE_SERVICES = {
    OpeningHours: (
        ("weekday", "opens", "closes"),
        services.opening_hours_add,
        services.opening_hours_update,
        services.opening_hours_remove,
        "hours",
    ),
    HallClosure: (
        ("date", "reason"),
        services.hall_closure_add,
        services.hall_closure_update,
        services.hall_closure_remove,
        "closure",
    ),
}


class KindFilter(admin.SimpleListFilter):
    """The level filter, labelled by the names the schemes give each level (基层服务点/支馆);
    the values stay the kinds, so one choice finds that level in every tree."""

    title = gettext_lazy("层级")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        names: dict[str, list[str]] = {kind: [] for kind in KIND_BY_LEVEL}
        for scheme in NamingScheme.objects.all():
            for kind, name in scheme.level_names().items():
                if name not in names[kind]:
                    names[kind].append(name)
        return [(kind, "/".join(names[kind]) or HallKind(kind).label) for kind in KIND_BY_LEVEL]

    def queryset(self, request, queryset):
        if self.value() in HallKind.values:
            return queryset.filter(kind=self.value())
        return queryset


@admin.register(Hall)
class HallAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path = ""
    allow_delete = False  # a hall is closed (状态 关闭), never deleted
    form = HallAdminForm
    list_display = ["name", "code", "level_label", "status", "operator", "children_link"]
    list_filter = [KindFilter, "status"]
    search_fields = ["name", "code"]
    search_help_text = gettext_lazy("按名称或编码在您的管辖范围内搜索")
    ordering = ["tree_id", "lft"]
    list_per_page = 50
    show_full_result_count = False
    save_as = False
    inlines = [OpeningHoursInline, HallClosureInline]
    readonly_fields = ["level_label", "plaque_name", "naming", "main_hall", "branch_hall"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "parent",
                    "level_label",
                    "code",
                    "name",
                    "locality",
                    "plaque_name",
                    "naming",
                ]
            },
        ),
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

    @admin.display(description=gettext_lazy("层级"), ordering="level")
    def level_label(self, hall: Hall) -> str:
        if hall.pk and getattr(hall, "tree_scheme", None) is None:
            hall.tree_scheme = NamingScheme.for_tree(hall.tree_id)  # a change page: one hall
        return hall.level_name if hall.pk else "—"

    @admin.display(description=gettext_lazy("命名规则"))
    def naming(self, hall: Hall):
        """The tree's scheme, with the page that changes it, on its centre hall's page."""
        if not hall.pk or hall.parent_id is not None:
            return _("由中心馆为整棵馆树选择")
        url = reverse(f"{self.admin_site.name}:network_hall_naming", args=[hall.pk])
        scheme = getattr(hall, "tree_scheme", None) or NamingScheme.for_tree(hall.tree_id)
        return format_html('{} <a href="{}">{}</a>', scheme, url, _("查看或更改"))

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

    def export_objects(self, queryset):
        # The level as each tree names it: the trees' schemes in one query, then the rows.
        schemes = tree_schemes(queryset.order_by().values_list("tree_id", flat=True).distinct())
        for hall in super().export_objects(queryset):
            hall.tree_scheme = schemes[hall.tree_id]
            yield hall

    def export_value(self, obj, field):
        if field.name == "kind":
            return obj.level_name
        return super().export_value(obj, field)

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

    def save_formset(self, request, form, formset, change):
        """The weekly hours and closure dates, row by row through their services: a refused row
        (an overlap, a closing time before the opening) rolls the whole page back."""
        names, add, update, remove, key = INLINE_SERVICES[formset.model]
        hall = Hall.objects.get(pk=form.instance.pk)
        deleted = formset.deleted_forms if formset.can_delete else []
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        # Removals first, so that a range moved from one row to another is not refused as an
        # overlap with the row it replaces.
        for row in deleted:
            if row.instance.pk:
                remove(**{key: row.instance})
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in deleted or not row.has_changed():
                continue
            data = {name: row.cleaned_data.get(name) for name in names}
            if row.instance.pk:
                saved = update(**{key: row.instance}, **data)
                formset.changed_objects.append((saved, row.changed_data))
            else:
                formset.new_objects.append(add(hall=hall, **data))

    def get_urls(self):
        return [
            path(
                "<int:hall_id>/naming/",
                self.admin_site.admin_view(
                    lambda request, hall_id: tree_naming_view(self, request, hall_id)
                ),
                name="network_hall_naming",
            ),
            *super().get_urls(),
        ]


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
