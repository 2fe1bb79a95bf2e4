"""The admin site's own rules: accounts, lockouts and schedules are for superusers only.

The scope rule every ModelAdmin follows is ``network.admin_scope.ScopedAdminMixin``.
"""

from __future__ import annotations

from celery.schedules import crontab, crontab_parser
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_celery_beat.models import CrontabSchedule

from network.admin_scope import ActionIdsMixin, ScopedAdminMixin
from network.selectors import person_name

from .models import ScreenLink
from .services import screen_link_reset, screen_token

admin.site.site_header = gettext_lazy("文化馆总分馆服务平台管理")
admin.site.site_title = gettext_lazy("文化馆总分馆服务平台管理")
admin.site.index_title = gettext_lazy("管理首页")

# residents: the SMS delivery records belong to no hall; their admin (activities/residents/
# admin.py, loaded after this module) is read-only and for superusers by itself.
SUPERUSER_ONLY_APPS = frozenset({"auth", "axes", "django_celery_beat", "residents"})


def _superuser(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


class SuperuserOnlyMixin(ActionIdsMixin):
    """Superusers only, and within what the package's own admin allows: django-axes lets no
    one add an access attempt by hand (granting it was a 500: the row needs fields the form
    does not have)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _superuser(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return _superuser(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return _superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return _superuser(request) and super().has_delete_permission(request, obj)


_CRON_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


class CrontabScheduleForm(forms.ModelForm):
    """django-celery-beat's schedule, each part also read by Celery's own parser: a part that
    passes the package's validator but not Celery's (``-1``) was saved, or was a 500 when the
    page showed its reading again."""

    def clean(self):
        data = super().clean()
        for name in _CRON_FIELDS:
            value = data.get(name)
            if not value:
                continue
            try:
                crontab(**{name: value})
            except (crontab_parser.ParseException, ValueError, IndexError) as exc:
                self.add_error(name, _("无法识别的定时表达式:%(error)s") % {"error": exc})
        return data


# What an admin of a package gets besides the restriction.
_ADDED = {CrontabSchedule: {"form": CrontabScheduleForm}}


def restrict_to_superusers(site: admin.AdminSite = admin.site) -> None:
    """Re-register the admins of auth, django-axes and django-celery-beat as superuser-only:
    a county's staff have no business with accounts, lockouts or schedules of the whole site."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in SUPERUSER_ONLY_APPS:
            continue
        if isinstance(model_admin, SuperuserOnlyMixin):
            continue
        cls = type(model_admin)
        restricted = type(
            f"SuperuserOnly{cls.__name__}", (SuperuserOnlyMixin, cls), _ADDED.get(model, {})
        )
        site.unregister(model)
        site.register(model, restricted)


# The admin modules of auth, axes and celery-beat load before this one (INSTALLED_APPS order).
restrict_to_superusers()


# --- The big screen's secret links ---------------------------------------------------------------


@admin.register(ScreenLink)
class ScreenLinkAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """One secret link per hall that opens its big screen without an account. Adding one for a
    hall draws it; 重置链接 draws a new one, and the old link stops working at once."""

    scope_path = "hall"
    change_form_template = "admin/portal/screenlink/change_form.html"
    list_display = ["hall", "screen_url", "reset_at", "reset_by_name"]
    list_select_related = ["hall", "reset_by"]
    search_fields = ["hall__name", "hall__code"]
    fields = ["hall"]
    ordering = ["hall__tree_id", "hall__lft"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["hall", "screen_url", "reset_at", "reset_by_name"] if obj else []

    def get_fields(self, request: HttpRequest, obj=None):
        return ["hall", "screen_url", "reset_at", "reset_by_name"] if obj else ["hall"]

    @admin.display(description=gettext_lazy("生成人"))
    def reset_by_name(self, obj: ScreenLink) -> str:
        return person_name(obj.reset_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("大屏地址"))
    def screen_url(self, obj: ScreenLink) -> str:
        url = reverse("screen_public", args=[screen_token(obj)])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        if change:
            return  # nothing here is edited; 重置链接 has its own button
        saved = screen_link_reset(hall=form.cleaned_data["hall"], by=request.user)
        for f in ScreenLink._meta.concrete_fields:
            setattr(obj, f.attname, getattr(saved, f.attname))
        obj._state.adding = False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reset/",
                self.admin_site.admin_view(self.reset_view),
                name="portal_screenlink_reset",
            ),
            *super().get_urls(),
        ]

    def reset_view(self, request: HttpRequest, object_id) -> HttpResponse:
        link = self.get_object(request, object_id)
        if request.method != "POST":
            return redirect("admin:portal_screenlink_change", link.pk)
        if not self.has_change_permission(request, link):
            raise PermissionDenied
        screen_link_reset(hall=link.hall, by=request.user)
        self.message_user(request, _("已生成新的大屏链接,原链接已失效。"), messages.SUCCESS)
        return redirect("admin:portal_screenlink_change", link.pk)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        link = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "full_url": request.build_absolute_uri(
                reverse("screen_public", args=[screen_token(link)])
            ),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)
