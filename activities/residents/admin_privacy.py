"""Residents' phones in the admin: masked by default (138****1234); the full number only for
staff of the hall that organises the thing, by a deliberate action (a POST), and every such
look is logged (``PersonalDataAccess``). Officials never see a full number.

Plain admin plumbing for every room that shows residents: it asks the user's memberships by
their reverse relation (``user.memberships``), so this floor imports nothing above it.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy

from common.privacy import is_anonymised, mask_phone

from .models import PersonalDataAccess
from .services import personal_data_access_log

OFFICIAL = "official"  # network.models.Role.OFFICIAL: reads, never a full number


def may_see_full_phones(user, hall_id: int | None) -> bool:
    """Staff (not officials) of the organising hall itself: neither the halls above it nor a
    superuser without a post there."""
    if hall_id is None or not getattr(user, "is_authenticated", False):
        return False
    return user.memberships.filter(hall_id=hall_id).exclude(role=OFFICIAL).exists()


class ResidentPhoneAdminMixin:
    """For a ModelAdmin of rows with a resident's ``phone``: ``masked_phone`` to show in lists
    and change pages, and a ``…/phone/`` page (POST) that shows the full number and logs it.
    ``organiser_hall`` says which hall organises a row (the rule of who may see it)."""

    phone_field = "phone"

    def organiser_hall(self, obj) -> int | None:
        raise NotImplementedError

    @admin.display(description=gettext_lazy("手机号码"))
    def masked_phone(self, obj) -> str:
        return mask_phone(getattr(obj, self.phone_field))

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        # The page's tools offer the reveal (a POST) to those who may use it, no one else.
        obj = self.get_object(request, object_id) if object_id else None
        if (
            obj is not None
            and not is_anonymised(getattr(obj, self.phone_field))
            and may_see_full_phones(request.user, self.organiser_hall(obj))
        ):
            extra_context = {
                **(extra_context or {}),
                "phone_reveal_url": reverse(self._reveal_url_name(), args=[obj.pk]),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _reveal_url_name(self) -> str:
        opts = self.model._meta
        return f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_phone"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/phone/",
                self.admin_site.admin_view(self.phone_reveal_view),
                name=f"{opts.app_label}_{opts.model_name}_phone",
            ),
            *super().get_urls(),
        ]

    def phone_reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, object_id)  # 404 outside the scope
        phone = getattr(obj, self.phone_field)
        if is_anonymised(phone) or not may_see_full_phones(request.user, self.organiser_hall(obj)):
            raise PermissionDenied
        personal_data_access_log(
            user=request.user, record=obj, reason=PersonalDataAccess.Reason.SHOW
        )
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": gettext_lazy("完整手机号码"),
            "record": obj,
            "phone": phone,
            "back": reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
            ),
        }
        # admin_view marks it never_cache: the number stays in no cache.
        return TemplateResponse(request, "admin/residents/phone_reveal.html", context)
