"""The delivery records, for the site's superusers: what was sent to whom, how many tries, the
provider's id and the last error. Read only; residents' phones and tokens have no admin page.

Messages belong to no hall (a resident is nobody's staff), so there is no scope to filter by:
a hall's staff see none of them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "masked_phone", "template", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["phone", "provider_id", "key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]

    @admin.display(description=_("手机号码"))
    def masked_phone(self, message: Message) -> str:
        return f"{message.phone[:3]}****{message.phone[-4:]}"

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
