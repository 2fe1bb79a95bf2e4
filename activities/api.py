"""The activities API: public reads, and residents' bookings.

Residents have no account: booking, looking a booking up and cancelling it take no
authentication at all (``authentication_classes = []``), so a browser's admin session neither
helps nor trips CSRF there; the booking code together with the phone is the proof. Every write
goes through ``activities.services``, whose ``ValidationError`` becomes a 400 in ``common.api``.
"""

from __future__ import annotations

import hashlib

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from common import ratelimit
from common.api import FIELD_ERRORS, FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND
from network.api import OPTIONAL_AUTH
from network.selectors import user_scope

from . import selectors, services
from .filters import ActivityFilter
from .models import Activity, Booking, DemandOrder, MenuItem, mobile_validator
from .selectors import activities_public, activity_public

# --- Serializers --------------------------------------------------------------------------------


def _enum(choices, description: str):
    # Inline enums: several models have a "status", and a named component per model would need
    # an ENUM_NAME_OVERRIDES entry in the settings for each.
    return extend_schema_field(
        {"type": "string", "enum": [value for value, _label in choices], "description": description}
    )


@_enum(Activity.Status.choices, _("状态:draft 草稿(不公开)、published 已发布、cancelled 已取消"))
class ActivityStatusField(serializers.CharField):
    pass


@_enum(Booking.Status.choices, _("confirmed 已确认、waitlisted 候补中、cancelled 已取消"))
class BookingStatusField(serializers.CharField):
    pass


class ActivitySerializer(serializers.ModelSerializer):
    hall_name = serializers.CharField(source="hall.name", read_only=True, help_text=_("主办馆名称"))
    venue_hall_name = serializers.CharField(
        source="venue_hall.name", read_only=True, help_text=_("举办地点(馆)名称")
    )
    seats_left = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("剩余座位;无需预约的活动为 null")
    )
    bookable = serializers.SerializerMethodField(help_text=_("现在是否可以预约(满员时可候补)"))
    status = ActivityStatusField(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "hall",
            "hall_name",
            "venue_hall",
            "venue_hall_name",
            "title",
            "category",
            "description",
            "picture",
            "venue",
            "start",
            "end",
            "capacity",
            "seats_left",
            "booking_opens",
            "booking_closes",
            "cancel_deadline",
            "max_seats_per_booking",
            "status",
            "bookable",
        ]
        read_only_fields = fields

    def get_bookable(self, activity: Activity) -> bool:
        return activity.is_bookable(timezone.now())


class BookingCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("姓名"))
    phone = serializers.CharField(
        max_length=11, validators=[mobile_validator], help_text=_("中国大陆手机号码,11 位")
    )
    seats = serializers.IntegerField(
        min_value=1, help_text=_("座位数,不超过活动的每次最多预约座位")
    )


class PhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(
        max_length=11, validators=[mobile_validator], help_text=_("预约时填写的手机号码")
    )


class BookingSerializer(serializers.Serializer):
    # Field by field rather than a ModelSerializer, which builds its fields from the model again
    # for every response: that cost a booking more than its SQL did. The labels are the model's.
    code = serializers.CharField(read_only=True, label=_("预约码"))
    status = BookingStatusField(read_only=True)
    activity = serializers.IntegerField(source="activity_id", read_only=True, label=_("活动"))
    activity_title = serializers.CharField(source="activity.title", read_only=True)
    activity_start = serializers.DateTimeField(source="activity.start", read_only=True)
    seats = serializers.IntegerField(read_only=True, label=_("座位数"))
    position = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("候补中时在候补名单里的位次(1 为下一个),其他状态为 null"),
    )
    cancellable_until = serializers.DateTimeField(
        source="activity.cancellable_until", read_only=True, help_text=_("可以取消到此时")
    )


def _with_position(booking: Booking) -> Booking:
    """Sets ``booking.position``: its place in the waiting list, by the promotion order."""
    booking.position = (
        selectors.waitlist_position(booking)
        if booking.status == Booking.Status.WAITLISTED
        else None
    )
    return booking


# --- Request handling shared by the resident endpoints ------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's parser, with the complaint about a malformed body in the request's language."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise ParseError(gettext("请求正文不是有效的 JSON。")) from exc


def _rate_limit_lookup(request: Request) -> None:
    # A code is only good with its phone; counting guesses per address keeps guessing slow.
    services.BOOKING_BUDGET.charge_address(ratelimit.client_ip(request), lookup=True)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ResidentEndpoint:
    """No authentication (residents have no account, so no CSRF either), JSON bodies only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]


# --- Documented responses -----------------------------------------------------------------------

_Detail = NOT_FOUND.response
RATE_LIMITED = OpenApiResponse(
    response=_Detail,
    description=_("请求太频繁(按来源 IP 和手机号码分别计数)。响应头 Retry-After 给出秒数。"),
    examples=[
        OpenApiExample(
            "rate_limited",
            value={"detail": "操作太频繁,请 10 分钟后再试。"},
            response_only=True,
            status_codes=["429"],
        )
    ],
)
UNSUPPORTED = OpenApiResponse(
    response=_Detail, description=_("正文不是 JSON:请用 Content-Type: application/json。")
)
ACTIVITY_NOT_FOUND = OpenApiResponse(response=_Detail, description=_("没有这个活动,或它尚未发布。"))
BOOKING_ERRORS = OpenApiResponse(
    response=FIELD_ERRORS.response,
    description=FIELD_ERRORS.description,
    examples=[
        OpenApiExample(
            "bad_input",
            value={"phone": ["请填写 11 位中国大陆手机号码,如 13800138000。"]},
            response_only=True,
            status_codes=["400"],
        ),
        OpenApiExample(
            "duplicate_phone",
            value={"phone": ["这个手机号码已经预约过本活动。"]},
            response_only=True,
            status_codes=["400"],
        ),
        OpenApiExample(
            "closed",
            value={"activity": ["该活动的预约已截止。"]},
            response_only=True,
            status_codes=["400"],
        ),
    ],
)
BOOKING_EXAMPLES = [
    OpenApiExample(
        "booking_request",
        value={"name": "张三", "phone": "13800138000", "seats": 2},
        request_only=True,
    ),
    OpenApiExample(
        "confirmed",
        value={
            "code": "K7QH3M2X",
            "status": "confirmed",
            "activity": 42,
            "activity_title": "花灯戏专场演出",
            "activity_start": "2026-12-05T19:30:00+08:00",
            "seats": 2,
            "position": None,
            "cancellable_until": "2026-12-05T12:00:00+08:00",
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "waitlisted",
        value={
            "code": "P4WN8RTA",
            "status": "waitlisted",
            "activity": 42,
            "activity_title": "花灯戏专场演出",
            "activity_start": "2026-12-05T19:30:00+08:00",
            "seats": 1,
            "position": 3,
            "cancellable_until": "2026-12-05T12:00:00+08:00",
        },
        response_only=True,
        status_codes=["201"],
    ),
]
ACTIVITY_EXAMPLE = OpenApiExample(
    "activity",
    value={
        "id": 42,
        "hall": 7,
        "hall_name": "官渡区文化馆",
        "venue_hall": 7,
        "venue_hall_name": "官渡区文化馆",
        "title": "花灯戏专场演出",
        "category": "performance",
        "description": "云南花灯经典剧目选段。",
        "picture": None,
        "venue": "二楼多功能厅",
        "start": "2026-12-05T19:30:00+08:00",
        "end": "2026-12-05T21:30:00+08:00",
        "capacity": 120,
        "seats_left": 37,
        "booking_opens": "2026-11-28T09:00:00+08:00",
        "booking_closes": None,
        "cancel_deadline": "2026-12-05T12:00:00+08:00",
        "max_seats_per_booking": 4,
        "status": "published",
        "bookable": True,
    },
    response_only=True,
)


# --- Views --------------------------------------------------------------------------------------


# The columns the list shows: a hall row is wide and building it costs more than reading it.
LIST_COLUMNS = [
    *(f for f in ActivitySerializer.Meta.fields if f not in ("hall_name", "venue_hall_name")),
    "seats_taken",
    "hall__name",
    "venue_hall__name",
]
LIST_COLUMNS.remove("seats_left")
LIST_COLUMNS.remove("bookable")


def list_cache_seconds() -> int:
    return settings.ACTIVITY_LIST_CACHE_SECONDS


@extend_schema_view(
    list=extend_schema(
        summary=_("活动列表"),
        auth=OPTIONAL_AUTH,
        description=_(
            "公开,无需登录。已发布的活动,按开始时间排列,每页 50 条;默认只列出尚未结束的活动。"
            "`within`、`hall` 指向不存在的馆时返回 400。同一地址的列表最多缓存几秒钟,"
            "剩余座位以活动详情和预约结果为准。"
        ),
        responses={200: ActivitySerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
        examples=[ACTIVITY_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary=_("活动详情"),
        auth=OPTIONAL_AUTH,
        description=_("公开,无需登录。已发布或已取消的活动;草稿返回 404。"),
        responses={200: ActivitySerializer, 404: ACTIVITY_NOT_FOUND},
        examples=[ACTIVITY_EXAMPLE],
    ),
)
class ActivityViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter

    def get_queryset(self):
        return activities_public()

    def filter_queryset(self, queryset: QuerySet[Activity]) -> QuerySet[Activity]:
        return super().filter_queryset(queryset).only(*LIST_COLUMNS)

    def list(self, request: Request, *args, **kwargs) -> HttpResponse:
        # When a popular performance opens, many residents reload the same first page at once:
        # each page is kept, rendered, for a few seconds (in Redis, shared by every web process)
        # rather than rebuilt per request. The seats a resident books against are never cached.
        # The key is the whole URL, host included, because the ``next`` links are absolute.
        seconds = list_cache_seconds()
        renderer = request.accepted_renderer
        if seconds <= 0 or renderer.format != "json":
            return super().list(request, *args, **kwargs)
        key = "api:activities:" + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        body = cache.get(key)
        if body is None:
            data = super().list(request, *args, **kwargs).data
            body = renderer.render(data, renderer.media_type, self.get_renderer_context())
            cache.set(key, body, seconds)
        return HttpResponse(body, content_type=renderer.media_type)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.get_serializer(_activity_or_404(pk)).data)

    @extend_schema(
        summary=_("预约活动"),
        description=_(
            "居民预约,无需登录。座位够时 status 为 confirmed;满员时整组进入候补名单(waitlisted),"
            "有人取消后按顺序自动转为确认,可用预约码和手机号码查询。一个手机号码只能预约同一活动一次。"
            "按来源 IP 和手机号码限流,超过时返回 429。正文须为 JSON。"
        ),
        auth=[],
        request=BookingCreateSerializer,
        responses={
            201: BookingSerializer,
            400: BOOKING_ERRORS,
            404: ACTIVITY_NOT_FOUND,
            415: UNSUPPORTED,
            429: RATE_LIMITED,
        },
        examples=BOOKING_EXAMPLES,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="bookings",
        authentication_classes=ResidentEndpoint.authentication_classes,
        permission_classes=ResidentEndpoint.permission_classes,
        parser_classes=ResidentEndpoint.parser_classes,
        # The list's filters and pagination do not apply to a booking.
        filterset_class=None,
        pagination_class=None,
    )
    def bookings(self, request: Request, pk: str | None = None) -> Response:
        services.BOOKING_BUDGET.charge_address(ratelimit.client_ip(request))
        # The activity alone, without its halls: the booking's answer names none of them.
        activity = _activity_or_404(pk, selectors.activity_bookable)
        data = _valid(BookingCreateSerializer, request.data)
        services.BOOKING_BUDGET.charge_phone(data["phone"])
        booking = services.booking_create(activity_id=activity.pk, activity=activity, **data)
        booking.activity = activity  # the service has set its position
        return Response(BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


def _activity_or_404(pk, read=activity_public) -> Activity:
    try:
        activity_id = int(pk)
    except (TypeError, ValueError):
        activity_id = None
    activity = read(activity_id) if activity_id and activity_id > 0 else None
    if activity is None:
        raise NotFound(gettext("没有这个活动,或它尚未发布。"))
    return activity


BOOKING_NOT_FOUND = OpenApiResponse(
    response=_Detail,
    description=_("预约码不存在,或与手机号码不匹配(两种情况的回答相同)。"),
)
LOOKUP_EXAMPLE = OpenApiExample(
    "lookup",
    value=BOOKING_EXAMPLES[2].value,
    response_only=True,
    status_codes=["200"],
)


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("查询预约"),
        description=_(
            "居民凭预约码和手机号码查询预约,无需登录。候补中的预约显示位次;"
            "候补转为确认后 status 即为 confirmed。两者不匹配时返回 404。"
            "查询和取消按来源 IP 合计限流。"
        ),
        auth=[],
        parameters=[
            OpenApiParameter(
                "phone",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description=_("预约时填写的手机号码"),
            )
        ],
        responses={
            200: BookingSerializer,
            400: FIELD_ERRORS,
            404: BOOKING_NOT_FOUND,
            429: RATE_LIMITED,
        },
        examples=[LOOKUP_EXAMPLE],
    ),
)
class BookingViewSet(ResidentEndpoint, viewsets.GenericViewSet):
    serializer_class = BookingSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Booking.objects.none()

    def retrieve(self, request: Request, code: str) -> Response:
        _rate_limit_lookup(request)
        data = _valid(PhoneSerializer, request.query_params)
        booking = services.booking_lookup(code=code, phone=data["phone"])
        if booking is None:
            raise NotFound(gettext("预约码与手机号码不匹配,请核对后再试。"))
        return Response(BookingSerializer(_with_position(booking)).data)

    @extend_schema(
        summary=_("取消预约"),
        description=_(
            "居民凭预约码和手机号码取消,无需登录,在取消截止时间之前有效。"
            "空出的座位按顺序自动分给候补名单。预约码不存在或与手机号码不匹配时返回同一个 400。"
        ),
        auth=[],
        request=PhoneSerializer,
        responses={
            200: BookingSerializer,
            400: FIELD_ERRORS,
            415: UNSUPPORTED,
            429: RATE_LIMITED,
        },
        examples=[
            OpenApiExample("cancel_request", value={"phone": "13800138000"}, request_only=True),
            OpenApiExample(
                "cancelled",
                value={**BOOKING_EXAMPLES[1].value, "status": "cancelled"},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "mismatch",
                value={"code": ["预约码与手机号码不匹配,请核对后再试。"]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, code: str) -> Response:
        _rate_limit_lookup(request)
        data = _valid(PhoneSerializer, request.data)
        booking = services.booking_cancel(code=code, phone=data["phone"])
        booking = services.booking_lookup(code=booking.code, phone=booking.phone)
        return Response(BookingSerializer(_with_position(booking)).data)


# --- Orders (点单) --------------------------------------------------------------------------------
#
# Residents order and follow an order without an account, like a booking: the code with the
# phone is the proof. Staff answer orders through the staff endpoints, scoped by the handler
# hall: an order whose handler is outside the account's scope answers 404, officials get 403.


@_enum(
    DemandOrder.Status.choices,
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


class MenuQuerySerializer(serializers.Serializer):
    point = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    hall = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class OrderStepSerializer(serializers.Serializer):
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


class DemandStatusSerializer(serializers.ModelSerializer):
    status = OrderStatusRefField(read_only=True)

    class Meta:
        model = DemandOrder
        fields = ["code", "status"]
        read_only_fields = fields


class DemandSerializer(serializers.ModelSerializer):
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
        model = DemandOrder
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
    def get_history(self, order: DemandOrder):
        return OrderStepSerializer(selectors.order_history(order), many=True).data


class DemandCreateSerializer(serializers.Serializer):
    point = serializers.IntegerField(help_text=_("点单的村(社区)基层服务点的馆 id"))
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("联系人"))
    phone = serializers.CharField(
        max_length=11, validators=[mobile_validator], help_text=_("中国大陆手机号码,11 位")
    )
    description = serializers.CharField(max_length=1000, help_text=_("需求说明"))
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


DEMAND_ERRORS = OpenApiResponse(
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
DEMAND_NOT_FOUND = OpenApiResponse(
    response=_Detail,
    description=_("订单号不存在,或与手机号码不匹配(两种情况的回答相同)。"),
)
DEMAND_LOOKUP = PolymorphicProxySerializer(
    component_name="DemandLookup",
    serializers=[DemandStatusSerializer, DemandSerializer],
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
            OpenApiParameter(
                "point",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description=_("村(社区)基层服务点的馆 id"),
            ),
            OpenApiParameter(
                "hall", OpenApiTypes.INT, OpenApiParameter.QUERY, description=_("提供馆的 id")
            ),
        ],
        responses={200: MenuItemSerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
    ),
)
class MenuItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MenuItemSerializer
    filter_backends: list = []

    def get_queryset(self):
        query = _valid(MenuQuerySerializer, self.request.query_params)
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
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description=_("点单时填写的手机号码;不带时只回答状态"),
            )
        ],
        responses={
            200: DEMAND_LOOKUP,
            400: FIELD_ERRORS,
            404: DEMAND_NOT_FOUND,
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
        request=DemandCreateSerializer,
        responses={
            201: DemandSerializer,
            400: DEMAND_ERRORS,
            415: UNSUPPORTED,
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
                },
                request_only=True,
            )
        ],
    ),
)
class DemandViewSet(ResidentEndpoint, viewsets.GenericViewSet):
    serializer_class = DemandSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return DemandOrder.objects.none()

    def create(self, request: Request) -> Response:
        services.ORDER_BUDGET.charge_address(ratelimit.client_ip(request))
        data = _valid(DemandCreateSerializer, request.data)
        services.ORDER_BUDGET.charge_phone(data["phone"])
        order = services.order_create(
            point_id=data["point"],
            item_id=data.get("item"),
            name=data["name"],
            phone=data["phone"],
            description=data["description"],
            preferred_date=data.get("preferred_date"),
        )
        order = selectors.order_public(order.code)
        return Response(DemandSerializer(order).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, code: str) -> Response:
        _rate_limit_order_lookup(request)
        phone = request.query_params.get("phone")
        if phone is not None:
            phone = _valid(PhoneSerializer, request.query_params)["phone"]
        order = selectors.order_public(services.normalize_code(code))
        if order is None or (phone is not None and order.phone != phone):
            raise NotFound(gettext("订单号与手机号码不匹配,请核对后再试。"))
        if phone is None:
            return Response(DemandStatusSerializer(order).data)
        return Response(DemandSerializer(order).data)


# --- Staff: the inbox and the answers ------------------------------------------------------------


class StaffDemandSerializer(DemandSerializer):
    """What the handler needs too: who to call, and whether a village's staff placed it."""

    status = OrderStatusRefField(read_only=True)

    ordered_by_point = serializers.SerializerMethodField(
        help_text=_("是否由服务点工作人员代村点单")
    )

    class Meta(DemandSerializer.Meta):
        fields = [
            *(f for f in DemandSerializer.Meta.fields if f != "history"),
            "name",
            "phone",
            "ordered_by_point",
        ]
        read_only_fields = fields

    def get_ordered_by_point(self, order: DemandOrder) -> bool:
        return order.requested_by_id is not None


class StaffDemandDetailSerializer(StaffDemandSerializer):
    class Meta(StaffDemandSerializer.Meta):
        fields = [*StaffDemandSerializer.Meta.fields, "history"]
        read_only_fields = fields


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("说明(选填)")
    )


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text=_("不予受理的原因,点单人会看到"))


class ScheduleSerializer(serializers.Serializer):
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
            "enum": [value for value, _label in DemandOrder.Status.choices],
        },
    }
)
class OrderStatusFilter(django_filters.MultipleChoiceFilter):
    # Inline enum, like OrderStatusField: a named component would collide with the other
    # models' "status".
    pass


class StaffDemandFilter(django_filters.FilterSet):
    status = OrderStatusFilter(
        choices=DemandOrder.Status.choices,
        help_text=_("按状态筛选,可重复:?status=submitted&status=accepted"),
    )

    class Meta:
        model = DemandOrder
        fields = ["status"]


class StaffPermission(permissions.IsAuthenticated):
    """Signed-in accounts read their scope; officials (read-only) may not answer orders."""

    message = _("该账号只能查看,不能处理点单。")

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return not user_scope(request.user).read_only


def _staff_action(summary, description, request_serializer):
    return extend_schema(
        summary=summary,
        description=description,
        request=request_serializer,
        responses={
            200: StaffDemandDetailSerializer,
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            415: UNSUPPORTED,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("点单待办(工作人员)"),
        description=_(
            "承办馆在该账号管辖范围内的点单,最早提交的在前。需登录(会话或 HTTP Basic)。"
            "`status` 可重复以筛选多个状态。文化和旅游局账号只读。"
        ),
        responses={
            200: StaffDemandSerializer(many=True),
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    ),
    retrieve=extend_schema(
        summary=_("点单详情(工作人员)"),
        description=_("含联系人电话和每一步经过。承办馆不在管辖范围内时返回 404。"),
        responses={200: StaffDemandDetailSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    ),
)
class StaffDemandViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = StaffDemandSerializer
    permission_classes = [StaffPermission]
    filterset_class = StaffDemandFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.orders_inbox(user_scope(self.request.user))

    def get_object(self) -> DemandOrder:
        code = services.normalize_code(self.kwargs["code"])
        order = self.get_queryset().filter(code=code).first()
        if order is None:
            raise NotFound(gettext("没有这个点单,或它不在您的管辖范围内。"))
        return order

    def retrieve(self, request: Request, code: str) -> Response:
        return Response(StaffDemandDetailSerializer(self.get_object()).data)

    def _answer(self, order: DemandOrder) -> Response:
        return Response(StaffDemandDetailSerializer(self.get_object()).data)

    @_staff_action(_("受理点单"), _("已提交的点单可以受理。"), NoteSerializer)
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def accept(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = _valid(NoteSerializer, request.data)
        services.order_accept(order=order, by_user=request.user, note=data.get("note", ""))
        return self._answer(order)

    @_staff_action(
        _("不予受理"), _("已提交或已受理的点单可以不予受理,须说明原因。"), RejectSerializer
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def reject(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = _valid(RejectSerializer, request.data)
        services.order_reject(order=order, by_user=request.user, reason=data["reason"])
        return self._answer(order)

    @_staff_action(
        _("排期"),
        _("已受理的点单排期:以承办馆为主办、在点单的村(社区)举办的活动随即发布,并与点单关联。"),
        ScheduleSerializer,
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def schedule(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = _valid(ScheduleSerializer, request.data)
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
        _("完成"), _("已排期的点单在活动办完后标为完成,点单人即可评价。"), NoteSerializer
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def complete(self, request: Request, code: str) -> Response:
        order = self.get_object()
        data = _valid(NoteSerializer, request.data)
        services.order_complete(order=order, by_user=request.user, note=data.get("note", ""))
        return self._answer(order)
