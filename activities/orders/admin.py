"""Service menus and the staff inbox of orders in the admin, scoped by ``ScopedAdminMixin``.

Forms validate and the admin then calls a service: a menu item is saved through
``menu_item_create``/``menu_item_update``; an order changes only through its steps (受理, 不予受理,
排期, 完成), each a page whose form is validated before the step's service runs. Which steps an
order offers comes from ``Order.next_steps()``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.residents.admin_privacy import ResidentPhoneAdminMixin
from common.forms import add_service_errors
from common.privacy import mask_phone
from network.admin_scope import ScopedAdminMixin, ScopedInlineMixin
from network.selectors import person_name, user_scope

from . import services
from .models import MenuItem, Order, OrderEvent
from .selectors import DUE_SOON


@admin.register(MenuItem)
class MenuItemAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A hall's service menu. Items are switched off (开放点单), never deleted: orders point at
    them."""

    scope_path = "hall"
    allow_delete = False
    list_display = [
        "title",
        "hall",
        "category",
        "orderers",
        "lead_days",
        "monthly_limit",
        "active",
    ]
    list_filter = ["active", "category", "orderers", "hall"]
    list_select_related = ["hall"]
    search_fields = ["title", "description", "hall__name"]
    search_help_text = gettext_lazy("按服务名称、内容或馆名搜索")
    ordering = ["hall__tree_id", "hall__lft", "category", "title"]
    show_full_result_count = False
    fields = list(services.MENU_ITEM_FIELDS)

    def save_model(self, request, obj, form, change):
        # The form has validated; the service writes.
        data = form.cleaned_data
        if change:
            changed = {name: data[name] for name in form.changed_data if name in self.fields}
            services.menu_item_update(item=obj, **changed)
            return
        item = services.menu_item_create(**{name: data[name] for name in self.fields})
        # The admin logs the addition and redirects with the object it built.
        obj.pk, obj.created_at = item.pk, item.created_at
        obj._state.adding = False


class OrderEventInline(ScopedInlineMixin, admin.TabularInline):
    """Every step of the order, as it was recorded: read only."""

    model = OrderEvent
    allow_add = False
    allow_delete = False
    can_delete = False
    extra = 0
    max_num = 0
    fields = [
        "at",
        "action_name",
        "from_label",
        "to_label",
        "by_name",
        "masked_by_phone",
        "hall",
        "note",
    ]
    readonly_fields = fields
    ordering = ["at", "pk"]
    verbose_name_plural = gettext_lazy("办理经过")

    @staticmethod
    def _status(value: str) -> str:
        return str(Order.Status(value).label) if value in Order.Status.values else value

    @admin.display(description=gettext_lazy("操作"))
    def action_name(self, event: OrderEvent) -> str:
        return event.action_label

    @admin.display(description=gettext_lazy("原状态"))
    def from_label(self, event: OrderEvent) -> str:
        return self._status(event.from_status)

    @admin.display(description=gettext_lazy("新状态"))
    def to_label(self, event: OrderEvent) -> str:
        return self._status(event.to_status)

    @admin.display(description=gettext_lazy("操作人"))
    def by_name(self, event: OrderEvent) -> str:
        return person_name(event.by_user) or self.get_empty_value_display()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("操作手机号"))
    def masked_by_phone(self, event: OrderEvent) -> str:
        return mask_phone(event.by_phone) if event.by_phone else ""

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("by_user", "hall")


class OrderNoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("说明(选填)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OrderCompleteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("活动未经平台排期已举办的,请写明举办的时间和地点。"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OrderRejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("不予受理的原因"),
        max_length=200,
        help_text=gettext_lazy("点单人会在进度页上看到。"),
        error_messages={"required": gettext_lazy("请填写不能受理的原因,点单人会看到它。")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class _LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


DATETIME_INPUTS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class OrderScheduleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("活动标题"), max_length=120)
    start = forms.DateTimeField(
        label=gettext_lazy("开始时间"), input_formats=DATETIME_INPUTS, widget=_LocalDateTimeInput
    )
    end = forms.DateTimeField(
        label=gettext_lazy("结束时间"), input_formats=DATETIME_INPUTS, widget=_LocalDateTimeInput
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("座位数"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=gettext_lazy("留空表示无需预约"),
    )
    venue = forms.CharField(
        label=gettext_lazy("场地"),
        required=False,
        max_length=120,
        help_text=gettext_lazy("如 村文化广场"),
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("结束时间必须晚于开始时间。"))
        return data


class DeadlineFilter(admin.SimpleListFilter):
    """The orders the account's halls must act on (as their handler): unanswered past or near
    their deadline, or accepted and waiting to be scheduled or completed; the lists the home
    page's to-do links open."""

    title = gettext_lazy("待我办理")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("超过答复期限")),
            ("soon", _("一天内到期")),
            ("accepted", _("已受理待排期或完成")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ("overdue", "soon", "accepted"):
            return queryset
        now = timezone.now()
        queryset = queryset.filter(user_scope(request.user).q("handler__"))
        if value == "accepted":
            return queryset.filter(status=Order.Status.ACCEPTED)
        queryset = queryset.filter(status=Order.Status.SUBMITTED)
        if value == "overdue":
            return queryset.filter(respond_by__lt=now)
        return queryset.filter(respond_by__gte=now, respond_by__lt=now + DUE_SOON)


@admin.register(Order)
class OrderAdmin(ResidentPhoneAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The staff inbox of orders, oldest first.

    A row is visible when its handler hall or the ordering village is in the account's scope
    (the village's own staff follow their orders), and can be answered only when both are: the
    handler's staff and the halls above it. Status changes only through the steps (受理, 不予受理,
    排期, 完成), each a page that calls its service; nothing is edited or deleted here."""

    scope_path = ("handler", "point")
    allow_add = False
    allow_delete = False
    change_form_template = "orders/admin_change_form.html"
    list_display = [
        "code",
        "point",
        "item_or_free",
        "handler",
        "status",
        "respond_by_display",
        "escalations",
        "created_at",
    ]
    list_filter = ["status", DeadlineFilter]
    list_select_related = ["point", "handler", "item"]
    search_fields = ["=code", "name", "phone", "point__name"]
    search_help_text = gettext_lazy("按订单号、联系人、手机号码或村(社区)名搜索")
    ordering = ["created_at", "pk"]
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "code",
        "status",
        "point",
        "item",
        "handler",
        "name",
        "masked_phone",
        "requested_by_name",
        "description",
        "preferred_date",
        "respond_by",
        "escalations",
        "reject_reason",
        "activity",
        "rating",
        "rating_comment",
        "created_at",
        "answered_at",
        "done_at",
    ]
    readonly_fields = fields
    inlines = [OrderEventInline]

    def organiser_hall(self, order: Order) -> int:
        return order.handler_id

    # The form of each staff step; when a step may be taken is the model's to say.
    STEP_FORMS = {
        Order.Step.ACCEPT: OrderNoteForm,
        Order.Step.REJECT: OrderRejectForm,
        Order.Step.SCHEDULE: OrderScheduleForm,
        Order.Step.COMPLETE: OrderCompleteForm,
    }

    @admin.display(description=gettext_lazy("服务点工作人员"))
    def requested_by_name(self, order: Order) -> str:
        return person_name(order.requested_by) or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("服务"), ordering="item__title")
    def item_or_free(self, order: Order):
        return order.item.title if order.item_id else _("菜单外需求")

    @admin.display(description=gettext_lazy("答复期限"), ordering="respond_by")
    def respond_by_display(self, order: Order):
        when = date_format(timezone.localtime(order.respond_by), "Y-m-d H:i")
        if order.is_overdue():
            return format_html(
                '<strong class="order-overdue">{} {}</strong>',
                when,
                _("已逾期"),
            )
        return when

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "order_steps": self._step_links(request, order),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _step_links(self, request: HttpRequest, order: Order) -> list[tuple[str, str]]:
        links = []
        if order.activity_id:
            links.append(
                (_("查看排期活动"), reverse("activities:activity_detail", args=[order.activity_id]))
            )
        if not self.has_change_permission(request, order):
            return links
        for step in order.next_steps():
            url = reverse(f"{self.admin_site.name}:orders_order_{step.value}", args=[order.pk])
            links.append((str(step.label), url))
        return links

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only here; the steps go through the services

    def get_urls(self):
        steps = [
            path(
                f"<path:object_id>/{step.value}/",
                self.admin_site.admin_view(self.step_view),
                {"step": step.value},
                name=f"orders_order_{step.value}",
            )
            for step in Order.STAFF_STEPS
        ]
        return [*steps, *super().get_urls()]

    def step_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        order = self.get_object(request, object_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        step = Order.Step(step)
        label, form_class = step.label, self.STEP_FORMS[step]
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    self._run_step(step, order, request.user, form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        _("订单 %(code)s:%(step)s 已完成。") % {"code": order.code, "step": label},
                    )
                    return redirect(
                        reverse(
                            f"{self.admin_site.name}:orders_order_change",
                            args=[order.pk],
                        )
                    )
        else:
            form = form_class(initial=self._step_initial(step, order))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label} · {order.code}",
            "opts": self.opts,
            "original": order,
            "step": step,
            "step_label": label,
            "form": form,
            "change_url": reverse(f"{self.admin_site.name}:orders_order_change", args=[order.pk]),
        }
        return TemplateResponse(request, "orders/admin_step.html", context)

    @staticmethod
    def _step_initial(step: Order.Step, order: Order) -> dict:
        if step != Order.Step.SCHEDULE:
            return {}
        what = order.item.title if order.item_id else order.description[:40]
        initial = {"title": f"{what}({order.point.locality})"[:120]}
        if order.preferred_date:
            start = timezone.make_aware(datetime.combine(order.preferred_date, time(9, 0)))
            initial.update(start=start, end=start + timedelta(hours=2))
        return initial

    @staticmethod
    def _run_step(step: Order.Step, order: Order, user, data: dict) -> None:
        if step == Order.Step.ACCEPT:
            services.order_accept(order=order, by_user=user, note=data["note"])
        elif step == Order.Step.REJECT:
            services.order_reject(order=order, by_user=user, reason=data["reason"])
        elif step == Order.Step.SCHEDULE:
            services.order_schedule(
                order=order,
                by_user=user,
                title=data["title"],
                start=data["start"],
                end=data["end"],
                capacity=data["capacity"],
                venue=data["venue"],
            )
        else:
            services.order_complete(order=order, by_user=user, note=data["note"])
