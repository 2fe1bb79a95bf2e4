"""The admin site's own rules: accounts, lockouts and schedules are for superusers only.

The scope rule every ModelAdmin follows is ``network.admin_scope.ScopedAdminMixin``.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

admin.site.site_header = gettext_lazy("文化馆总分馆服务平台管理")
admin.site.site_title = gettext_lazy("文化馆总分馆服务平台管理")
admin.site.index_title = gettext_lazy("管理首页")

# residents: the SMS delivery records belong to no hall; their admin (activities/residents/
# admin.py, loaded after this module) is read-only and for superusers by itself.
SUPERUSER_ONLY_APPS = frozenset({"auth", "axes", "django_celery_beat", "residents"})


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission


def restrict_to_superusers(site: admin.AdminSite = admin.site) -> None:
    """Re-register the admins of auth, django-axes and django-celery-beat as superuser-only:
    a county's staff have no business with accounts, lockouts or schedules of the whole site."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in SUPERUSER_ONLY_APPS:
            continue
        if isinstance(model_admin, SuperuserOnlyMixin):
            continue
        cls = type(model_admin)
        restricted = type(f"SuperuserOnly{cls.__name__}", (SuperuserOnlyMixin, cls), {})
        site.unregister(model)
        site.register(model, restricted)


# The admin modules of auth, axes and celery-beat load before this one (INSTALLED_APPS order).
restrict_to_superusers()
