"""Venue booking in the admin, scoped by ``ScopedAdminMixin``.

Venues carry their opening hours and closures as inlines; teams are a plain list. Forms only
validate: every write goes through ``activities.venues.services`` (``save_model``,
``save_formset``, the actions), and a refusal comes back on the same form or as a message.
Reservations and series are added here by staff on someone's behalf; afterwards they change only
by their steps (approve, reject, check in, cancel), never by editing, and nothing is deleted.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from activities.residents.admin_privacy import ResidentPhoneAdminMixin
from common.uploads import MB, checked_picture_field
from network.admin import ServiceSavedAdmin
from network.admin_scope import ScopedAdminMixin, ScopedInlineMixin
from network.selectors import person_name

from . import selectors, services
from .models import Closure, OpeningHours, Reservation, ReservationSeries, Team, Venue


class OpeningHoursInline(ScopedInlineMixin, admin.TabularInline):
    model = OpeningHours
    extra = 1
    fields = ["weekday", "opens", "closes"]


class ClosureInline(ScopedInlineMixin, admin.TabularInline):
    model = Closure
    extra = 1
    fields = ["first_day", "last_day", "reason"]


# What each inline row writes through: (add, update, remove, the update's keyword).
_ROW_SERVICES = {
    OpeningHours: (
        services.venue_hours_add,
        services.venue_hours_update,
        services.venue_hours_remove,
        "hours",
        ("weekday", "opens", "closes"),
    ),
    Closure: (
        services.venue_closure_add,
        services.venue_closure_update,
        services.venue_closure_remove,
        "closure",
        ("first_day", "last_day", "reason"),
    ),
}


VENUE_FIELDS = [
    "hall",
    "name",
    "kind",
    "capacity",
    "equipment",
    "rules",
    "photo",
    "access",
    "needs_approval",
    "slot_minutes",
    "status",
]


class VenueForm(forms.ModelForm):
    class Meta:
        model = Venue
        fields = VENUE_FIELDS

    def clean_photo(self):
        return checked_picture_field(
            self.cleaned_data.get("photo"), max_bytes=settings.PICTURE_MAX_MB * MB
        )


@admin.register(Venue)
class VenueAdmin(ServiceSavedAdmin):
    form = VenueForm
    allow_delete = False  # reservations keep their venue; a retired one is 暂停预约
    create_service = staticmethod(services.venue_create)
    update_service = staticmethod(services.venue_update)
    update_key = "venue"
    inlines = [OpeningHoursInline, ClosureInline]
    list_display = [
        "name",
        "hall",
        "kind",
        "capacity",
        "access",
        "needs_approval",
        "slot_minutes",
        "status",
    ]
    list_filter = ["kind", "access", "status", "needs_approval"]
    list_select_related = ["hall"]
    search_fields = ["name", "hall__name"]
    fields = VENUE_FIELDS

    def save_formset(self, request, form, formset, change):
        add, update, remove, key, names = _ROW_SERVICES[formset.model]
        venue = form.instance
        deleted = formset.deleted_forms if formset.can_delete else []
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            instance = row.instance
            if row in deleted:
                if instance.pk:
                    remove(**{key: instance})
                    formset.deleted_objects.append(instance)
                continue
            if not row.has_changed():
                continue
            data = {name: row.cleaned_data[name] for name in names}
            if instance.pk:
                saved = update(**{key: instance}, **data)
                formset.changed_objects.append((saved, row.changed_data))
            else:
                saved = add(venue=venue, **data)
                formset.new_objects.append(saved)
            if formset.model is Closure:
                self._warn_conflicts(request, saved)

    def _warn_conflicts(self, request: HttpRequest, closure: Closure) -> None:
        codes = list(selectors.closure_conflicts(closure).values_list("code", flat=True)[:20])
        if codes:
            messages.warning(
                request,
                _("闭馆期间还有 %(n)d 个有效预约(%(codes)s),请在“场馆预约”中取消并填写原因。")
                % {"n": len(codes), "codes": "、".join(codes)},
            )


@admin.register(Team)
class TeamAdmin(ServiceSavedAdmin):
    allow_delete = False  # reservations keep their team; a team that stops is marked 不活跃
    create_service = staticmethod(services.team_create)
    update_service = staticmethod(services.team_update)
    update_key = "team"
    list_display = ["name", "hall", "leader_name", "leader_phone", "members", "active"]
    list_filter = ["active"]
    list_select_related = ["hall"]
    search_fields = ["name", "leader_name", "leader_phone"]
    fields = ["hall", "name", "leader_name", "leader_phone", "members", "active"]


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        label=gettext_lazy("原因(驳回、取消时必填)"), required=False, max_length=200
    )


class StepActions:
    """Admin actions that take one service step per selected row; a refusal is a message, the
    rows that could take the step take it."""

    def _step(self, request, queryset, step, done: str) -> None:
        reason = request.POST.get("reason", "")
        ok, refused = 0, []
        for obj in queryset:
            try:
                with transaction.atomic():
                    step(obj, request.user, reason)
                ok += 1
            except ValidationError as exc:
                refused.extend(exc.messages)
        if ok:
            messages.success(request, done % {"n": ok})
        for message in dict.fromkeys(refused):
            messages.error(request, message)


@admin.register(Reservation)
class ReservationAdmin(ResidentPhoneAdminMixin, StepActions, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "venue__hall"
    change_form_template = "admin/residents/change_form.html"
    allow_delete = False
    action_form = ReasonActionForm
    actions = ["approve", "reject", "check_in", "cancel"]
    list_display = ["code", "venue", "start", "end", "name", "team", "party_size", "status"]
    list_filter = ["status", "venue", "venue__kind"]
    list_select_related = ["venue", "venue__hall", "team"]
    search_fields = ["code", "name", "phone", "venue__name", "team__name"]
    date_hierarchy = "start"
    ordering = ["-start", "-pk"]
    add_fields = ["venue", "start", "end", "name", "phone", "team", "purpose", "party_size"]
    readonly_fields_after = [
        "code",
        "status",
        "series",
        "created_at",
        "created_by_name",
        "decided_at",
        "decided_by_name",
        "decision_note",
        "cancelled_at",
        "cancelled_by_name",
        "cancel_reason",
        "checked_in_at",
        "checked_in_by_name",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        # Once saved, the phone shows masked (the page's tools reveal it to the venue's hall).
        shown = ["masked_phone" if f == "phone" else f for f in self.add_fields]
        return [*shown, *self.readonly_fields_after]

    def organiser_hall(self, reservation: Reservation) -> int:
        return reservation.venue.hall_id

    @admin.display(description=gettext_lazy("代约工作人员"))
    def created_by_name(self, reservation: Reservation) -> str:
        return person_name(reservation.created_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("审核人"))
    def decided_by_name(self, reservation: Reservation) -> str:
        return person_name(reservation.decided_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("取消人"))
    def cancelled_by_name(self, reservation: Reservation) -> str:
        return person_name(reservation.cancelled_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("签到登记人"))
    def checked_in_by_name(self, reservation: Reservation) -> str:
        return person_name(reservation.checked_in_by) or self.get_empty_value_display()

    def get_readonly_fields(self, request, obj=None):
        # A reservation changes by its steps only.
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = {name: form.cleaned_data[name] for name in self.add_fields}
        saved = services.reservation_create(venue_id=data.pop("venue").pk, by=request.user, **data)
        obj.pk, obj.code = saved.pk, saved.code

    @admin.action(description=gettext_lazy("批准所选预约"))
    def approve(self, request, queryset):
        self._step(
            request,
            queryset,
            lambda r, by, reason: services.reservation_approve(reservation=r, by=by, note=reason),
            _("已批准 %(n)d 个预约。"),
        )

    @admin.action(description=gettext_lazy("驳回所选预约(填写原因)"))
    def reject(self, request, queryset):
        self._step(
            request,
            queryset,
            lambda r, by, reason: services.reservation_reject(reservation=r, by=by, reason=reason),
            _("已驳回 %(n)d 个预约。"),
        )

    @admin.action(description=gettext_lazy("为所选预约签到"))
    def check_in(self, request, queryset):
        self._step(
            request,
            queryset,
            lambda r, by, reason: services.reservation_check_in(reservation=r, by=by),
            _("已签到 %(n)d 个预约。"),
        )

    @admin.action(description=gettext_lazy("取消所选预约(填写原因)"))
    def cancel(self, request, queryset):
        self._step(
            request,
            queryset,
            lambda r, by, reason: services.reservation_cancel_by_staff(
                reservation=r, by=by, reason=reason
            ),
            _("已取消 %(n)d 个预约。"),
        )


class SeriesForm(forms.ModelForm):
    class Meta:
        model = ReservationSeries
        fields = [
            "venue",
            "weekday",
            "starts_at",
            "ends_at",
            "first_day",
            "last_day",
            "name",
            "phone",
            "team",
            "purpose",
            "party_size",
        ]


@admin.register(ReservationSeries)
class ReservationSeriesAdmin(
    ResidentPhoneAdminMixin, StepActions, ScopedAdminMixin, admin.ModelAdmin
):
    scope_path = "venue__hall"
    change_form_template = "admin/residents/change_form.html"
    allow_delete = False
    form = SeriesForm
    action_form = ReasonActionForm
    actions = ["cancel_remaining"]
    list_display = ["__str__", "team", "name", "booked"]
    list_select_related = ["venue", "venue__hall", "team"]
    search_fields = ["venue__name", "name", "phone", "team__name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                live=Count("reservations", filter=Q(reservations__status__in=Reservation.LIVE))
            )
        )

    @admin.display(description=gettext_lazy("有效场次"))
    def booked(self, series: ReservationSeries) -> int:
        return series.live

    def get_fields(self, request, obj=None):
        if obj is None:
            return SeriesForm.Meta.fields
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        shown = ["masked_phone" if f == "phone" else f for f in SeriesForm.Meta.fields]
        return [*shown, "created_at", "created_by_name"]

    def organiser_hall(self, series: ReservationSeries) -> int:
        return series.venue.hall_id

    @admin.display(description=gettext_lazy("创建人"))
    def created_by_name(self, series: ReservationSeries) -> str:
        return person_name(series.created_by) or self.get_empty_value_display()

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = {name: form.cleaned_data[name] for name in SeriesForm.Meta.fields}
        saved = services.series_create(venue_id=data.pop("venue").pk, by=request.user, **data)
        obj.pk = saved.pk

    @admin.action(description=gettext_lazy("取消所选周期中尚未进行的场次(填写原因)"))
    def cancel_remaining(self, request, queryset):
        def step(series, by, reason):
            n = services.series_cancel(series=series, by=by, reason=reason)
            messages.info(
                request,
                ngettext("%(series)s:取消了 %(n)d 场。", "%(series)s:取消了 %(n)d 场。", n)
                % {"series": series, "n": n},
            )

        self._step(request, queryset, step, _("已处理 %(n)d 个周期预约。"))
