"""The delivery records, for the site's superusers: what was sent to whom, how many tries, the
provider's id and the last error, phones masked; who saw residents' full numbers; the removal
requests. Read only; residents' phones and tokens have no admin page.

Messages belong to no hall (a resident is nobody's staff), so there is no scope to filter by:
a hall's staff see none of them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from common.privacy import mask_phone

from .models import ErasureRequest, Message, PersonalDataAccess


class SuperuserReadOnly(admin.ModelAdmin):
    """Records only a superuser reads, and nobody adds, changes or deletes by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(SuperuserReadOnly):
    """Who saw or exported residents' full numbers, when, and of which record."""

    list_display = ["at", "user", "reason", "content_type", "object_id", "rows"]
    list_filter = ["reason", "content_type"]
    list_select_related = ["user", "content_type"]
    search_fields = ["user__username"]
    date_hierarchy = "at"
    readonly_fields = ["at", "user", "reason", "content_type", "object_id", "rows"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(SuperuserReadOnly):
    """Residents' removal requests: done, or waiting for an open booking to end."""

    list_display = ["__str__", "requested_at", "done_at"]
    list_filter = ["done_at"]
    fields = ["__str__", "requested_at", "done_at"]
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(SuperuserReadOnly):
    list_display = ["created_at", "masked_phone", "template", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["phone", "provider_id", "key"]
    date_hierarchy = "created_at"
    # The phone masked here too: a superuser reads delivery records, not residents' numbers.
    fields = [
        "masked_phone",
        *(f.name for f in Message._meta.fields if f.name not in ("id", "phone")),
    ]
    readonly_fields = fields

    @admin.display(description=_("手机号码"))
    def masked_phone(self, message: Message) -> str:
        return mask_phone(message.phone)
