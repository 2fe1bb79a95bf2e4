"""The orders API (点单): residents order and follow an order; staff answer them.

The API's contract name for an order is a *demand*: ``demands/``, ``staff/demands/`` and the
schema's ``Demand*`` components are published and stay as they are, so the serializers below set
their component names explicitly. ``menu-items/`` lists the service menus.

Residents order and follow an order without an account, like a booking: the code with the phone
is the proof. Staff answer orders through the staff endpoints, scoped by the handler hall: an
order whose handler is outside the account's scope answers 404, officials get 403. Every write
goes through ``activities.orders.services``, which asks ``Order`` whether a step may be taken.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from activities.api import PhoneSerializer
from activities.residents.api import (
    RESIDENT_TOKEN,
    UNVERIFIED,
    ConsentField,
    resident_idempotent,
    resident_phone,
    verified_or_401,
)
from common import ratelimit
from common.api import (
    FIELD_ERRORS,
    MOBILE_SCHEMA,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    RATE_LIMITED,
    STEP,
    UNSUPPORTED,
    Detail,
    JSONParser,
    ResidentEndpoint,
    Serializer,
    enum_field,
    step_schema,
    validated,
)
from common.codes import normalize_code
from common.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_MISMATCH
from common.privacy import consented, mask_phone
from common.validators import mobile_validator
from network.api import OPTIONAL_AUTH, ScopeWritePermission
from network.selectors import user_scope

from . import selectors, services
from .models import MenuItem, Order


@enum_field(
    Order.Status.choices,
    _(
        "submitted 已提交、accepted 已受理、scheduled 已排期(已建活动)、done 已完成、"
        "rated 已评价、rejected 未受理"
    ),
)
class OrderStatusField(serializers.CharField):
    pass


# The enum is declared on one component (Demand) and referred to by the others: the same choice
# set on several components named "status" would otherwise get a hashed name.
@extend_schema_field({"allOf": [{"$ref": "#/components/schemas/DemandStatusEnum"}]})
class OrderStatusRefField(serializers.CharField):
    pass


class MenuItemSerializer(serializers.ModelSerializer):
    hall_name = serializers.CharField(source="hall.name", read_only=True, help_text=_("提供馆名称"))

    class Meta:
        model = MenuItem
        fields = [
            "id",
            "hall",
            "hall_name",
            "category",
            "title",
            "description",
            "orderers",
            "lead_days",
            "monthly_limit",
        ]
        read_only_fields = fields


class MenuQuerySerializer(Serializer):
    point = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("村(社区)基层服务点的馆 id")
    )
    hall = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("提供馆的 id")
    )


class OrderStepSerializer(Serializer):
    action = serializers.CharField(
        source="event.action",
        help_text=_("submitted、accepted、rejected、scheduled、done、rated、escalated(逾期上报)"),
    )
    from_status = serializers.CharField(source="event.from_status")
    to_status = serializers.CharField(source="event.to_status")
    at = serializers.DateTimeField(source="event.at")
    by = serializers.CharField(
        source="who", help_text=_("谁:工作人员显示为所在馆和岗位,居民为“点单人”")
    )
    note = serializers.CharField(source="event.note")


@extend_schema_serializer(component_name="DemandStatus")
# The API's name for an order is a demand: the component names are the published ones.
class OrderStatusSerializer(serializers.ModelSerializer):
    status = OrderStatusRefField(read_only=True)

    class Meta:
        model = Order
        fields = ["code", "status"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Demand")
class OrderSerializer(serializers.ModelSerializer):
    status = OrderStatusField(read_only=True)
    point_name = serializers.CharField(source="point.name", read_only=True)
    item_title = serializers.CharField(
        source="item.title", read_only=True, allow_null=True, default=None
    )
    handler_name = serializers.CharField(
        source="handler.name", read_only=True, help_text=_("承办馆名称;逾期上报后为上一级馆")
    )
    activity_title = serializers.CharField(
        source="activity.title", read_only=True, allow_null=True, default=None
    )
    activity_start = serializers.DateTimeField(
        source="activity.start", read_only=True, allow_null=True, default=None
    )
    history = serializers.SerializerMethodField(help_text=_("每一步:谁、何时、做了什么"))

    class Meta:
        model = Order
        fields = [
            "code",
            "status",
            "point",
            "point_name",
            "item",
            "item_title",
            "handler",
            "handler_name",
            "description",
            "preferred_date",
            "respond_by",
            "escalations",
            "reject_reason",
            "activity",
            "activity_title",
            "activity_start",
            "rating",
            "rating_comment",
            "created_at",
            "answered_at",
            "done_at",
            "history",
        ]
        read_only_fields = fields

    @extend_schema_field(OrderStepSerializer(many=True))
    def get_history(self, order: Order):
        return OrderStepSerializer(selectors.order_history(order), many=True).data


@extend_schema_serializer(component_name="DemandCreate")
class OrderCreateSerializer(Serializer):
    point = serializers.IntegerField(help_text=_("点单的村(社区)基层服务点的馆 id"))
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("联系人"))
    phone = serializers.CharField(
        max_length=11,
        validators=[mobile_validator],
        required=False,
        help_text=_("中国大陆手机号码,11 位;带 X-Resident-Token 时以凭证的号码为准,可不填"),
    )
    description = serializers.CharField(max_length=1000, help_text=_("需求说明"))
    consent = ConsentField()
    item = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("服务菜单项 id;不填即为菜单外的需求,由该村所属分馆承办"),
    )
    preferred_date = serializers.DateField(
        required=False, allow_null=True, help_text=_("希望日期;菜单项须满足其提前天数")
    )


def _rate_limit_order_lookup(request: Request) -> None:
    services.ORDER_BUDGET.charge_address(ratelimit.client_ip(request), lookup=True)


ORDER_ERRORS = OpenApiResponse(
    response=FIELD_ERRORS.response,
    description=FIELD_ERRORS.description,
    examples=[
        OpenApiExample(
            "no_such_village",
            value={"point": ["没有这个村(社区)服务点,请从列表中选择。"]},
            response_only=True,
            status_codes=["400"],
        ),
        OpenApiExample(
            "lead_time",
            value={"preferred_date": ["该服务须提前 7 天点单,最早可选 2026-12-08。"]},
            response_only=True,
            status_codes=["400"],
        ),
    ],
)
ORDER_NOT_FOUND = OpenApiResponse(
    response=Detail,
    description=_("订单号不存在,或与手机号码不匹配(两种情况的回答相同)。"),
)
ORDER_LOOKUP = PolymorphicProxySerializer(
    component_name="DemandLookup",
    serializers=[OrderStatusSerializer, OrderSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        summary=_("服务菜单"),
        auth=OPTIONAL_AUTH,
        description=_(
            "公开,无需登录。开放点单的服务菜单项。`point` 为村(社区)服务点的馆 id 时,只列出向它开放的"
            "菜单(它本身及其上级分馆、总馆、中心馆提供的),近的馆在前;`hall` 只列出某馆提供的。"
            "`point` 不是存在的基层服务点时返回 400。"
        ),
        parameters=[
            # The query serializer's fields, with their bounds.
            MenuQuerySerializer
        ],
        responses={200: MenuItemSerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
    ),
)
class MenuItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MenuItemSerializer
    filter_backends: list = []

    def get_queryset(self):
        query = validated(MenuQuerySerializer, self.request.query_params)
        point = None
        if "point" in query:
            point = selectors.order_point(query["point"])
            if point is None:
                raise serializers.ValidationError(
                    {"point": [gettext("没有这个村(社区)基层服务点。")]}
                )
        return selectors.menu_items_public(point=point, hall_id=query.get("hall"))


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("查询点单"),
        description=_(
            "无需登录。不带 `phone` 时只回答订单号和状态(`{code, status}`);带上点单时的手机号码时"
            "回答全部进度:承办馆、排期活动、未受理原因、每一步的经过(工作人员显示为所在馆和岗位)。"
            "订单号不存在,或手机号码不匹配时返回 404。按来源 IP 限流。"
        ),
        auth=[],
        parameters=[
            OpenApiParameter(
                "phone",
                MOBILE_SCHEMA,
                OpenApiParameter.QUERY,
                required=False,
                description=_("点单时填写的手机号码;不带时只回答状态"),
            )
        ],
        responses={
            200: ORDER_LOOKUP,
            400: FIELD_ERRORS,
            404: ORDER_NOT_FOUND,
            429: RATE_LIMITED,
        },
    ),
    create=extend_schema(
        summary=_("点单"),
        description=_(
            "居民或服务点点单,无需登录。`item` 为服务菜单项时交给提供该菜单的馆,不填时为菜单外的需求,"
            "交给该村所属的分馆。承办馆在答复期限(默认 5 个工作日)内未答复的,自动上报上一级馆。"
            "返回订单号和状态,凭订单号和手机号码查询。按来源 IP 和手机号码限流,超过时返回 429。"
            "正文须为 JSON。"
        ),
        auth=[],
        parameters=[RESIDENT_TOKEN, IDEMPOTENCY_KEY],
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            400: ORDER_ERRORS,
            401: UNVERIFIED,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
            429: RATE_LIMITED,
        },
        examples=[
            OpenApiExample(
                "demand_request",
                value={
                    "point": 1234,
                    "name": "王村长",
                    "phone": "13700000001",
                    "description": "村里想办一期广场舞培训,约 40 人",
                    "item": 56,
                    "preferred_date": "2026-12-20",
                    "consent": True,
                },
                request_only=True,
            )
        ],
    ),
)
class OrderViewSet(ResidentEndpoint, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Order.objects.none()

    @resident_idempotent
    def create(self, request: Request) -> Response:
        services.ORDER_BUDGET.charge_address(ratelimit.client_ip(request))
        data = validated(OrderCreateSerializer, request.data)
        data["phone"] = resident_phone(verified_or_401(request), data)
        services.ORDER_BUDGET.charge_phone(data["phone"])
        order = services.order_create(
            point_id=data["point"],
            item_id=data.get("item"),
            name=data["name"],
            phone=data["phone"],
            description=data["description"],
            preferred_date=data.get("preferred_date"),
            consent_version=consented(data)["consent_version"],
        )
        order = selectors.order_public(order.code)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, code: str) -> Response:
        _rate_limit_order_lookup(request)
        phone = request.query_params.get("phone")
        if phone is not None:
            phone = validated(PhoneSerializer, request.query_params)["phone"]
        order = selectors.order_public(normalize_code(code))
        if order is None or (phone is not None and order.phone != phone):
            raise NotFound(gettext("订单号与手机号码不匹配,请核对后再试。"))
        if phone is None:
            return Response(OrderStatusSerializer(order).data)
        return Response(OrderSerializer(order).data)


# --- Staff: the inbox and the answers ------------------------------------------------------------


@extend_schema_serializer(component_name="StaffDemand")
class StaffOrderSerializer(OrderSerializer):
    """What the handler needs too: who to call, and whether a village's staff placed it."""

    status = OrderStatusRefField(read_only=True)

    ordered_by_point = serializers.SerializerMethodField(
        help_text=_("是否由服务点工作人员代村点单")
    )
    phone = serializers.SerializerMethodField(
        help_text=_(
            "联系人手机号码,隐去中间四位(如 138****1234);完整号码由承办馆工作人员在管理后台查看,"
            "每次查看均有记录"
        )
    )

    class Meta(OrderSerializer.Meta):
        fields = [
            *(f for f in OrderSerializer.Meta.fields if f != "history"),
            "name",
            "phone",
            "ordered_by_point",
        ]
        read_only_fields = fields

    def get_ordered_by_point(self, order: Order) -> bool:
        return order.requested_by_id is not None

    def get_phone(self, order: Order) -> str:
        return mask_phone(order.phone)


@extend_schema_serializer(component_name="StaffDemandDetail")
class StaffOrderDetailSerializer(StaffOrderSerializer):
    class Meta(StaffOrderSerializer.Meta):
        fields = [*StaffOrderSerializer.Meta.fields, "history"]
        read_only_fields = fields


class NoteSerializer(Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("说明(选填)")
    )


class RejectSerializer(Serializer):
    reason = serializers.CharField(max_length=200, help_text=_("不予受理的原因,点单人会看到"))


class ScheduleSerializer(Serializer):
    title = serializers.CharField(max_length=120, help_text=_("活动标题"))
    start = serializers.DateTimeField(help_text=_("开始时间"))
    end = serializers.DateTimeField(help_text=_("结束时间"))
    capacity = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=100000,
        help_text=_("座位数;不填为无需预约"),
    )
    venue = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text=_("场地,如 村文化广场")
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "string",
            "enum": [value for value, _label in Order.Status.choices],
        },
    }
)
class OrderStatusFilter(django_filters.MultipleChoiceFilter):
    # Inline enum, like OrderStatusField: a named component would collide with the other
    # models' "status".
    pass


class StaffOrderFilter(django_filters.FilterSet):
    status = OrderStatusFilter(
        choices=Order.Status.choices,
        help_text=_("按状态筛选,可重复:?status=submitted&status=accepted"),
    )

    class Meta:
        model = Order
        fields = ["status"]


class StaffPermission(ScopeWritePermission):
    """Signed-in accounts read their scope; officials (read-only) may not answer orders."""

    message = _("该账号只能查看,不能处理点单。")


def _staff_action(summary, description, request_serializer):
    return step_schema(summary, description, request_serializer, StaffOrderDetailSerializer)


@extend_schema_view(
    list=extend_schema(
        summary=_("点单待办(工作人员)"),
        description=_(
            "承办馆在该账号管辖范围内的点单,最早提交的在前。需登录(会话或接口令牌)。"
            "`status` 可重复以筛选多个状态。文化和旅游局账号只读。"
        ),
        responses={
            200: StaffOrderSerializer(many=True),
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    ),
    retrieve=extend_schema(
        summary=_("点单详情(工作人员)"),
        description=_("含联系人电话和每一步经过。承办馆不在管辖范围内时返回 404。"),
        responses={200: StaffOrderDetailSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    ),
)
class StaffOrderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = StaffOrderSerializer
    permission_classes = [StaffPermission]
    filterset_class = StaffOrderFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.orders_inbox(user_scope(self.request.user))

    def get_object(self) -> Order:
        code = normalize_code(self.kwargs["code"])
        order = self.get_queryset().filter(code=code).first()
        if order is None:
            raise NotFound(gettext("没有这个点单,或它不在您的管辖范围内。"))
        return order

    def retrieve(self, request: Request, code: str) -> Response:
        return Response(StaffOrderDetailSerializer(self.get_object()).data)

    def _answer(self, order: Order) -> Response:
        return Response(StaffOrderDetailSerializer(self.get_object()).data)

    @_staff_action(_("受理点单"), _("已提交的点单可以受理。"), NoteSerializer)
    @action(**STEP)
    def accept(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = validated(NoteSerializer, request.data)
        services.order_accept(order=order, by_user=request.user, note=data.get("note", ""))
        return self._answer(order)

    @_staff_action(
        _("不予受理"), _("已提交或已受理的点单可以不予受理,须说明原因。"), RejectSerializer
    )
    @action(**STEP)
    def reject(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = validated(RejectSerializer, request.data)
        services.order_reject(order=order, by_user=request.user, reason=data["reason"])
        return self._answer(order)

    @_staff_action(
        _("排期"),
        _("已受理的点单排期:以承办馆为主办、在点单的村(社区)举办的活动随即发布,并与点单关联。"),
        ScheduleSerializer,
    )
    @action(**STEP)
    def schedule(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = validated(ScheduleSerializer, request.data)
        services.order_schedule(
            order=order,
            by_user=request.user,
            title=data["title"],
            start=data["start"],
            end=data["end"],
            capacity=data.get("capacity"),
            venue=data.get("venue", ""),
        )
        return self._answer(order)

    @_staff_action(
        _("完成"),
        _(
            "已排期的点单在活动结束后标为完成;未经平台排期已举办的已受理点单,"
            "须在说明中写明举办的时间和地点。完成后点单人即可评价。"
        ),
        NoteSerializer,
    )
    @action(**STEP)
    def complete(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = validated(NoteSerializer, request.data)
        services.order_complete(order=order, by_user=request.user, note=data.get("note", ""))
        return self._answer(order)
