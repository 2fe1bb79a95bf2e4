"""API tokens in the admin: each account makes and revokes its own (a superuser sees all).

A token acts as its account, with that account's scope, so making one gives nothing the account
does not already have. The key is shown once, on the page that follows its creation; only its
digest is kept. Another account's token is not listed and its page answers 404."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import tokens
from .admin_scope import ScopedAdminMixin
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    fields = ("name",)
    actions = ["revoke"]
    export_fields = ("name", "prefix", "user", "created_at", "revoked_at")
    allow_delete = False  # revoked, not deleted: who had access stays on record

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Not the hall scope: an account's own tokens (a superuser's: everyone's).
        qs = admin.ModelAdmin.get_queryset(self, request).select_related("user")
        if request.user.is_superuser:
            return qs
        return qs.filter(user=request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # Officials too: the token reads what the official reads, and writes nothing.
        return self._may_read(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Nothing of a token is edited; revoking is the action. The change page only shows it.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("name", "prefix", "user", "created_at", "revoked_at") if obj else ()

    def get_fields(self, request: HttpRequest, obj=None):
        return self.get_readonly_fields(request, obj) if obj else ("name",)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        # Revoking one's own token is allowed to every account that may make one.
        if self._may_read(request) and "revoke" not in actions:
            actions["revoke"] = self.get_action("revoke")
        return actions

    @admin.action(description=gettext_lazy("撤销所选令牌"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = tokens.api_token_revoke(tokens=queryset)
        self.message_user(
            request,
            ngettext("已撤销 %(count)d 个令牌。", "已撤销 %(count)d 个令牌。", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        token, key = tokens.api_token_create(user=request.user, name=form.cleaned_data["name"])
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        request._api_token_key = key

    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        # The key, once: not in a message (those may travel in a cookie) and never again.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "key": request._api_token_key,
            "title": _("令牌已创建"),
        }
        response = TemplateResponse(request, "admin/network/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response
