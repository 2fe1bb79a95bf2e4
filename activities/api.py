"""The activities API: public reads, and residents' bookings.

Residents have no account: booking, looking a booking up and cancelling it take no
authentication at all (``authentication_classes = []``), so a browser's admin session neither
helps nor trips CSRF there; the booking code together with the phone is the proof. Every write
goes through ``activities.services``, whose ``ValidationError`` becomes a 400 in ``common.api``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from activities.residents.api import (
    RESIDENT_TOKEN,
    UNVERIFIED,
    ConsentField,
    PhoneSerializer,
    ResidentPhoneSerializer,
    resident_idempotent,
    resident_phone,
    verified_or_401,
)
from common import ratelimit
from common.api import (
    FIELD_ERRORS,
    MOBILE_SCHEMA,
    NOT_FOUND,
    RATE_LIMITED,
    UNSUPPORTED,
    Detail,
    ResidentEndpoint,
    Serializer,
    enum_field,
    validated,
)
from common.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_MISMATCH
from common.privacy import consented
from common.validators import mobile_validator
from network.api import OPTIONAL_AUTH

from . import selectors, services
from .filters import ActivityFilter
from .models import Activity, Booking, GroupKind
from .selectors import activities_public, activity_public

# --- Serializers --------------------------------------------------------------------------------


@enum_field(
    Activity.Status.choices, _("状态:draft 草稿(不公开)、published 已发布、cancelled 已取消")
)
class ActivityStatusField(serializers.CharField):
    pass


@enum_field(Booking.Status.choices, _("confirmed 已确认、waitlisted 候补中、cancelled 已取消"))
class BookingStatusField(serializers.CharField):
    pass


class SessionSerializer(Serializer):
    start = serializers.DateTimeField(help_text=_("开始时间"))
    end = serializers.DateTimeField(help_text=_("结束时间"))


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
    picture = serializers.SerializerMethodField(help_text=_("活动图片的地址;没有图片时为 null"))
    sessions = serializers.SerializerMethodField(
        help_text=_("培训班的全部课次(一次预约即报名全部课次);不是培训班时为空列表")
    )

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
            "sessions",
        ]
        read_only_fields = fields

    @extend_schema_field(SessionSerializer(many=True))
    def get_sessions(self, activity: Activity) -> list[dict]:
        sessions = getattr(activity, "session_list", None)
        if sessions is None:
            sessions = selectors.attach_sessions([activity])[0].session_list
        return SessionSerializer(sessions, many=True).data

    def get_bookable(self, activity: Activity) -> bool:
        return activity.is_bookable(timezone.now())

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_picture(self, activity: Activity) -> str | None:
        if not activity.picture:
            return None
        path = reverse("activities:activity_picture", args=[activity.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class BookingCreateSerializer(Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("姓名"))
    phone = serializers.CharField(
        max_length=11,
        validators=[mobile_validator],
        required=False,
        help_text=_("中国大陆手机号码,11 位;带 X-Resident-Token 时以凭证的号码为准,可不填"),
    )
    seats = serializers.IntegerField(
        min_value=1,
        help_text=_(
            "座位数,不超过活动的每次最多预约座位;团体报名时为团体人数,不超过团体报名人数上限"
        ),
    )
    group_kind = serializers.ChoiceField(
        choices=GroupKind.choices,
        required=False,
        help_text=_(
            "团体报名时填写:class 学校班级、team 文艺团队、volunteers 志愿者队伍、other 其他"
        ),
    )
    group_name = serializers.CharField(
        max_length=services.GROUP_NAME_MAX,
        required=False,
        help_text=_("团体名称,团体报名时填写;name 为联系人"),
    )
    consent = ConsentField()


class BookingSerializer(Serializer):
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


def _rate_limit_lookup(request: Request) -> None:
    # A code is only good with its phone; counting guesses per address keeps guessing slow.
    services.BOOKING_BUDGET.charge_address(ratelimit.client_ip(request), lookup=True)


# --- Documented responses -----------------------------------------------------------------------

ACTIVITY_NOT_FOUND = OpenApiResponse(response=Detail, description=_("没有这个活动,或它尚未发布。"))
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
            "no_consent",
            value={"consent": ["请阅读并同意《隐私政策》后再提交。"]},
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
        value={"name": "张三", "phone": "13800138000", "seats": 2, "consent": True},
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
LIST_COLUMNS.remove("sessions")


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

    def paginate_queryset(self, queryset):
        # A course's sessions for the whole page in one query (none when no course is on it).
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.attach_sessions(list(page))

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
        parameters=[RESIDENT_TOKEN, IDEMPOTENCY_KEY],
        request=BookingCreateSerializer,
        responses={
            201: BookingSerializer,
            400: BOOKING_ERRORS,
            401: UNVERIFIED,
            404: ACTIVITY_NOT_FOUND,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
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
    @resident_idempotent
    def bookings(self, request: Request, pk: str | None = None) -> Response:
        services.BOOKING_BUDGET.charge_address(ratelimit.client_ip(request))
        # The activity alone, without its halls: the booking's answer names none of them.
        activity = _activity_or_404(pk, selectors.activity_bookable)
        data = consented(validated(BookingCreateSerializer, request.data))
        verified = verified_or_401(request)
        data["phone"] = resident_phone(verified, data)
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
    response=Detail,
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
                MOBILE_SCHEMA,
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
        data = validated(PhoneSerializer, request.query_params)
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
        parameters=[RESIDENT_TOKEN, IDEMPOTENCY_KEY],
        request=ResidentPhoneSerializer,
        responses={
            200: BookingSerializer,
            400: FIELD_ERRORS,
            401: UNVERIFIED,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
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
    @resident_idempotent
    def cancel(self, request: Request, code: str) -> Response:
        _rate_limit_lookup(request)
        data = validated(ResidentPhoneSerializer, request.data)
        phone = resident_phone(verified_or_401(request), data)
        booking = services.booking_cancel(code=code, phone=phone)
        booking = services.booking_lookup(code=booking.code, phone=booking.phone)
        return Response(BookingSerializer(_with_position(booking)).data)
