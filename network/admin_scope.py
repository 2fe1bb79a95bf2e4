"""The admin's one scope rule, shared by every ModelAdmin of the project.

A staff account sees the subtrees under the halls of its memberships (docs/ARCHITECTURE.md, "Who sees
what"). ``ScopedAdminMixin`` applies that to a ModelAdmin: its lists, change/delete/history pages,
actions, exports and every dropdown (plain, raw id or autocomplete) that points at a hall or at a
model carrying one. Permissions come from memberships, not from Django's per-model permission
rows: staff of a hall may write in their scope, officials only read and export, an account with
no membership sees nothing. (Models of auth, django-axes and django-celery-beat are for superusers
only: portal/admin.py.)
"""

from __future__ import annotations

import datetime
import decimal
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter, widgets
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import add_service_errors
from common.xlsx import Column, Sheet, write_workbook

from .models import Hall, Membership
from .selectors import user_scope

# What a spreadsheet cell takes as it is; anything else is exported as its text.
_CELL_TYPES = (str, int, float, decimal.Decimal, datetime.date, datetime.time, bool)

# Fields of django-mptt that mean nothing to a reader of an export.
_TREE_FIELDS = {"lft", "rght", "tree_id", "level"}


def _prefix(path: str) -> str:
    return f"{path}__" if path else ""


class _TakesOnlyValidValues:
    """Django's autocomplete widget, shown again after a refused POST, filters the linked model
    by the submitted value as it stands: ``hall=abc`` (or an id past the integer range) was a
    500 on every admin form with one. Here a value the linked field cannot take is dropped
    before that query; the form's own field still refuses it with its message."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [v for v in value if _takes(target, v)], attr)


def _takes(field: models.Field, raw) -> bool:
    if raw in (None, ""):
        return True
    try:
        field.run_validators(field.to_python(raw))
    except ValidationError:
        return False
    return True


class ActionIdsMixin:
    """An admin action run on ``_selected_action`` values that are no ids (``abc``, ``0.5``,
    an id past the integer range: only a hand-made request sends them) was a 500 in Django's
    ``pk__in`` filter. They are dropped first, so they select nothing."""

    def response_action(self, request: HttpRequest, queryset):
        chosen = request.POST.getlist(ACTION_CHECKBOX_NAME)
        kept = [value for value in chosen if _takes(self.model._meta.pk, value)]
        if kept != chosen:
            request.POST = request.POST.copy()
            request.POST.setlist(ACTION_CHECKBOX_NAME, kept)
        return super().response_action(request, queryset)


class AutocompleteSelect(_TakesOnlyValidValues, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(_TakesOnlyValidValues, widgets.AutocompleteSelectMultiple):
    pass


def scoped_queryset(model: type[models.Model], request: HttpRequest, site=admin.site):
    """The rows of ``model`` the request's user may see or pick, or ``None`` when the model has
    no tie to a hall (then the ordinary queryset applies)."""
    scope = user_scope(request.user)
    if model is Hall:
        return Hall.objects.filter(scope.q())
    if model is get_user_model():
        if scope.everything:
            return model._default_manager.all()
        in_scope = Membership.objects.filter(scope.q("hall__")).values("user_id")
        return model._default_manager.filter(pk__in=in_scope)
    try:
        model_admin = site.get_model_admin(model)
    except admin.sites.NotRegistered:
        model_admin = None
    if isinstance(model_admin, ScopedAdminMixin):
        return model_admin.get_queryset(request)
    hall_fields = [
        f.name
        for f in model._meta.get_fields()
        if f.many_to_one and f.concrete and f.related_model is Hall
    ]
    if hall_fields:
        q = Q()
        for name in hall_fields:
            q |= scope.q(_prefix(name))
        return model._default_manager.filter(q)
    return None


class ScopeRulesMixin:
    """Permissions and dropdowns by scope; shared by ModelAdmins and inlines."""

    allow_add = True
    allow_delete = True

    def _may_read(self, request: HttpRequest) -> bool:
        scope = user_scope(request.user)
        return scope.everything or bool(scope.ranges)

    def _may_write(self, request: HttpRequest) -> bool:
        scope = user_scope(request.user)
        return scope.everything or (bool(scope.ranges) and not scope.read_only)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_read(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_read(request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.allow_add and self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_write(request) and self._covers_object(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.allow_delete and self.has_change_permission(request, obj)

    def _covers_object(self, request: HttpRequest, obj) -> bool:
        return True

    def get_field_queryset(self, db, db_field, request: HttpRequest):
        qs = scoped_queryset(db_field.remote_field.model, request, self.admin_site)
        if qs is None:
            return super().get_field_queryset(db, db_field, request)
        ordering = None
        try:
            ordering = self.admin_site.get_model_admin(db_field.remote_field.model).get_ordering(
                request
            )
        except admin.sites.NotRegistered:
            pass
        return qs.using(db).order_by(*ordering) if ordering else qs.using(db)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request: HttpRequest):
        """Every link to a hall is an autocomplete: a county has hundreds of halls, the country
        640,000, far too many for a <select>."""
        declared = list(super().get_autocomplete_fields(request))
        raw = set(getattr(self, "raw_id_fields", ()))
        for field in self.model._meta.get_fields():
            if (
                (field.many_to_one or field.many_to_many)
                and field.concrete
                and field.related_model is Hall
                and field.editable
                and field.name not in declared
                and field.name not in raw
            ):
                declared.append(field.name)
        return declared


class _RefusedForm:
    """The second showing of a form that a service refused: the same input, with the reasons."""

    refusal: ValidationError

    def clean(self):
        data = super().clean()
        add_service_errors(self, self.refusal)
        return data


class ScopedAdminMixin(ActionIdsMixin, ScopeRulesMixin):
    """Mix into every ModelAdmin of the project, before ``admin.ModelAdmin``.

    ``scope_path`` is the ORM path from the model to its hall (``"hall"``; ``""`` for Hall
    itself), or a tuple of such paths for a record that joins two halls (a secondment): the row is
    visible when any of its halls is in scope and writable only when all of them are.
    ``export_fields`` names the columns of the xlsx export (default: the model's own fields).
    """

    scope_path: str | tuple[str, ...] = "hall"
    export_fields: tuple[str, ...] | None = None
    # What the account reads: its scope (the default), or "city" for records the whole network
    # shares (the resource catalogue, so that halls can ask each other for things): then every
    # row of the city trees its scope lies in is listed, opened, picked and exported, while
    # changes stay within the scope (``_covers_object``).
    read_scope: str = "scope"

    def _scope_paths(self) -> tuple[str, ...]:
        return (self.scope_path,) if isinstance(self.scope_path, str) else tuple(self.scope_path)

    # --- Writes go through services ---------------------------------------------------------
    # A form only validates; ``save_model`` calls the service, inside the admin's transaction.
    # When the service refuses (a rule the form cannot see: a full tree level, a duplicate code,
    # seats already taken), the transaction rolls back and the same POST is shown again with
    # the service's reasons on the form, so nothing typed is lost and nothing half-written stays.

    def changeform_view(
        self, request: HttpRequest, object_id=None, form_url="", extra_context=None
    ):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (_RefusedForm, form), {"refusal": refusal})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A link may prefill an add form (``?hall=12``); junk in such a link (a word for an id,
        a NUL) is dropped rather than breaking the page."""
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            if "\x00" in str(value):
                del initial[name]
                continue
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation or field.many_to_many:
                continue
            try:
                field.target_field.get_prep_value(value)
            except (TypeError, ValueError, ValidationError):
                del initial[name]
        return initial

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        scope = user_scope(request.user)
        qs = super().get_queryset(request)
        if scope.everything:
            return qs
        trees = sorted({tree_id for tree_id, _lft, _rght in scope.ranges})
        q = Q()
        for path in self._scope_paths():
            if self.read_scope == "city":
                q |= Q(**{f"{_prefix(path)}tree_id__in": trees})
            else:
                q |= scope.q(_prefix(path))
        return qs.filter(q)

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        # Django redirects to the index with a message for a missing object; outside the scope
        # an object does not exist for this account, and says so with a 404.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("没有找到该记录,或它不在您的管辖范围内。"))
        return obj

    def _covers_object(self, request: HttpRequest, obj) -> bool:
        if obj is None:
            return True
        scope = user_scope(request.user)
        if scope.everything:
            return True
        for path in self._scope_paths():
            hall = obj
            for step in path.split("__") if path else ():
                hall = getattr(hall, step, None)
            if hall is not None and not scope.covers(hall):
                return False
        return True

    def get_list_filter(self, request: HttpRequest):
        # A plain filter on a foreign key lists every row of the related table, in scope or not.
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # An action of this page that the account may not run (an official's write, a staff
        # member's delete) is refused with 403, not Django's "no action selected".
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action in self._action_names() and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def _action_names(self) -> set[str]:
        own = {getattr(a, "__name__", a) for a in self.actions or ()}
        return own | {name for name, _func in self.admin_site.actions} | {"export_xlsx"}

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        if self._may_read(request) and "export_xlsx" not in actions:
            actions["export_xlsx"] = self.get_action("export_xlsx")
        if user_scope(request.user).read_only:
            # Officials keep the actions that only read; an action that says nothing writes.
            actions = {
                name: action
                for name, action in actions.items()
                if set(getattr(action[0], "allowed_permissions", ("change",))) <= {"view"}
            }
        return actions

    @admin.action(description=gettext_lazy("导出所选记录(Excel)"), permissions=["view"])
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """The selected rows, which Django takes from this admin's (scoped) changelist."""
        fields = self._export_model_fields()
        related = [f.name for f in fields if f.is_relation]
        rows = self._export_rows(queryset.select_related(*related), fields)
        buffer = io.BytesIO()
        write_workbook(
            [
                Sheet(
                    title=str(self.model._meta.verbose_name_plural),
                    columns=[Column(str(f.verbose_name), 18) for f in fields],
                    rows=rows,
                )
            ],
            buffer,
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self.model._meta.model_name}-{stamp}.xlsx"'
        )
        return response

    def _export_model_fields(self) -> list[models.Field]:
        opts = self.model._meta
        if self.export_fields is not None:
            return [opts.get_field(name) for name in self.export_fields]
        return [f for f in opts.concrete_fields if f.name not in _TREE_FIELDS]

    def _export_rows(
        self, queryset: QuerySet, fields: Iterable[models.Field]
    ) -> Iterator[list[Any]]:
        fields = list(fields)
        for obj in self.export_objects(queryset):
            yield [self.export_value(obj, f) for f in fields]

    def export_objects(self, queryset: QuerySet) -> Iterator[Any]:
        return queryset.iterator(chunk_size=2000)

    def export_value(self, obj, field: models.Field) -> Any:
        """One cell of the xlsx export: a related row as its name, a choice as its label."""
        if field.is_relation:
            value = getattr(obj, field.name)
            return str(value) if value is not None else ""
        if field.choices:
            return str(getattr(obj, f"get_{field.name}_display")())
        value = getattr(obj, field.attname)
        if isinstance(value, FieldFile):
            # A picture or file: its name in the store (an empty one when there is none).
            return value.name or ""
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, default=str)
        if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None):
            value = timezone.localtime(value).replace(tzinfo=None)
        if value is not None and not isinstance(value, _CELL_TYPES):
            return str(value)  # a UUID, a duration: what a spreadsheet can hold
        return value


class ScopedInlineMixin(ScopeRulesMixin):
    """For inlines: the parent's change page already checked the scope; this keeps the inline's
    permissions and dropdowns on the same rule."""
