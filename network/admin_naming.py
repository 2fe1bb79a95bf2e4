"""Naming schemes in the admin: the list of schemes, their forms, and the page where a city
tree chooses its scheme.

Schemes are shared by every tree that uses them, so who may do what follows the trees: staff of
a city centre hall (中心馆) read them and add new ones; a scheme may be changed only by someone
who is staff of the centre hall of every tree using it (superusers always); a tree's scheme is
chosen by the staff of its centre hall. Officials read only. Anyone else gets 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import construct_instance
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import naming, services
from .admin_scope import ScopedAdminMixin
from .models import KIND_BY_LEVEL, Hall, NamingScheme
from .selectors import scheme_tree_ids, user_scope


def _centre_posts(user) -> dict[int, bool]:
    """tree_id → whether the account may write there, for each centre hall it holds a post at."""
    return dict(user_scope(user).centre_posts)


def may_read_schemes(user) -> bool:
    return user.is_superuser or bool(_centre_posts(user))


def may_change_scheme(user, scheme: NamingScheme | None) -> bool:
    """Superusers; or staff (not officials) of a centre hall, for a new scheme or one whose
    every tree is theirs."""
    if user.is_superuser:
        return True
    writable = {tree_id for tree_id, write in _centre_posts(user).items() if write}
    if not writable:
        return False
    if scheme is None or scheme.pk is None:
        return True
    return set(scheme_tree_ids(scheme)) <= writable


class NamingSchemeForm(forms.ModelForm):
    """Validates the patterns (``NamingScheme.clean``: an unknown placeholder is named); the
    admin's ``save_model`` writes through the services."""

    class Meta:
        model = NamingScheme
        fields = ["code", "name", *services.SCHEME_FIELDS[1:]]
        help_texts = {
            f"{kind}_plaque": gettext_lazy("可用占位符:%(known)s")
            % {"known": naming.known_placeholders()}
            for kind in KIND_BY_LEVEL
        }

    def _post_clean(self) -> None:
        # Run the model's checks (patterns, unique code) without writing anything.
        self.instance = construct_instance(self, self.instance, self._meta.fields)
        try:
            self.instance.full_clean(exclude=self._get_validation_exclusions())
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(NamingScheme)
class NamingSchemeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Shared data, not tied to one hall: every scheme is listed to those who may read them."""

    form = NamingSchemeForm
    list_display = ["name", "code", "point_name", "point_plaque", "tree_count"]
    fieldsets = [
        (None, {"fields": ["code", "name"]}),
        (
            gettext_lazy("各级名称"),
            {"fields": ["centre_name", "main_name", "branch_name", "point_name"]},
        ),
        (
            gettext_lazy("各级牌匾样式(统一标识)"),
            {
                "fields": ["centre_plaque", "main_plaque", "branch_plaque", "point_plaque"],
                "description": gettext_lazy(
                    "{locality} 为本馆所在地名,{parent} 为上级馆的牌匾,{city}、{county}、"
                    "{township} 为所属市、县(区)、乡镇(街道)的所在地名。保存后,使用本规则的"
                    "各棵馆树的牌匾随之更新。"
                ),
            },
        ),
    ]
    actions = None
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest):
        return NamingScheme.objects.annotate(trees_named=Count("trees"))

    @admin.display(description=gettext_lazy("使用的馆树"), ordering="trees_named")
    def tree_count(self, scheme: NamingScheme) -> int:
        return scheme.trees_named

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["code"] if obj is not None else []

    def _require_read(self, request: HttpRequest) -> None:
        if not may_read_schemes(request.user):
            raise Http404(_("没有找到该页面。"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_read_schemes(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_read_schemes(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_change_scheme(request.user, None)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_change_scheme(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Only an unused scheme other than the default, and only by a superuser.
        if not request.user.is_superuser:
            return False
        if obj is None:
            return True
        return obj.code != naming.DEFAULT_CODE and not scheme_tree_ids(obj)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        self._require_read(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._require_read(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.SCHEME_FIELDS}
        if change:
            saved = services.naming_scheme_update(scheme=obj, **data)
        else:
            saved = services.naming_scheme_create(code=form.cleaned_data["code"], **data)
        obj.pk = saved.pk


class TreeNamingForm(forms.Form):
    naming_scheme = forms.ModelChoiceField(
        label=gettext_lazy("命名规则"),
        queryset=NamingScheme.objects.all(),
        empty_label=None,
        help_text=gettext_lazy("整棵馆树的各级名称和牌匾样式;更改后本树各馆的牌匾随之重新生成。"),
    )


def tree_naming_view(model_admin, request: HttpRequest, hall_id: int):
    """A city tree's naming scheme: read by the members of its centre hall, changed by its
    staff (officials read only); 404 for everyone else and for a hall that is not a centre."""
    centre = Hall.objects.filter(pk=hall_id, parent__isnull=True).first()
    if centre is None:
        raise Http404(_("没有找到该中心馆,或它不在您的管辖范围内。"))
    if request.user.is_superuser:
        may_write = True
    else:
        posts = _centre_posts(request.user)
        if centre.tree_id not in posts:
            raise Http404(_("没有找到该中心馆,或它不在您的管辖范围内。"))
        may_write = posts[centre.tree_id]
    current = NamingScheme.for_tree(centre.tree_id)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        form = TreeNamingForm(request.POST)
        if form.is_valid():
            scheme = form.cleaned_data["naming_scheme"]
            try:
                services.tree_scheme_set(centre=centre, scheme=scheme)
            except ValidationError as exc:
                form.add_error("naming_scheme", exc.messages)
        if form.is_valid():
            messages.success(
                request,
                _("“%(hall)s”所在馆树已改用“%(scheme)s”,各馆牌匾已重新生成。")
                % {"hall": centre, "scheme": scheme},
            )
            return HttpResponseRedirect(
                reverse(f"{model_admin.admin_site.name}:network_hall_naming", args=[centre.pk])
            )
    else:
        form = TreeNamingForm(initial={"naming_scheme": current.pk})
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("馆树命名规则:%(hall)s") % {"hall": centre},
        "opts": model_admin.opts,
        "centre": centre,
        "current": current,
        "levels": [
            (current.level_name(kind), getattr(current, f"{kind}_plaque")) for kind in KIND_BY_LEVEL
        ],
        "form": form,
        "may_write": may_write,
    }
    return TemplateResponse(request, "admin/network/tree_naming.html", context)
