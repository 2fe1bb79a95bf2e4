"""The venues API: public venue lists and slot grids, and residents' reservations.

Reserving and cancelling take no authentication (``ResidentEndpoint``): the code together with
the phone is the proof. A range that overlaps a live reservation answers 409 with a Chinese
message; any other refusal of the service is a 400 with field errors (``common.api``).
"""

from __future__ import annotations

from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
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
from network.filters import HallIdFilter

from . import selectors, services
from .models import Reservation, Venue

# --- Serializers --------------------------------------------------------------------------------


@enum_field(
    Reservation.Status.choices,
    _(
        "pending 待审核、confirmed 已确认、rejected 未通过、cancelled 已取消、"
        "checked_in 已签到、no_show 未到场"
    ),
)
class ReservationStatusField(serializers.CharField):
    pass


@enum_field(Venue.Kind.choices, _("rehearsal 排练厅、multi_purpose 多功能厅、dance 舞蹈室、"
                                  "calligraphy 书画室、other 其他"))  # fmt: skip
class VenueKindField(serializers.CharField):
    pass


@enum_field(Venue.Access.choices, _("anyone 所有居民、teams 仅限登记的文艺团队"))
class VenueAccessField(serializers.CharField):
    pass


class VenueSerializer(serializers.ModelSerializer):
    hall_name = serializers.CharField(source="hall.name", read_only=True, help_text=_("所属馆名称"))
    kind = VenueKindField(read_only=True)
    access = VenueAccessField(read_only=True)
    photo = serializers.SerializerMethodField(help_text=_("场馆照片的地址;没有照片时为 null"))

    class Meta:
        model = Venue
        fields = [
            "id",
            "hall",
            "hall_name",
            "name",
            "kind",
            "capacity",
            "equipment",
            "rules",
            "photo",
            "access",
            "needs_approval",
            "slot_minutes",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_photo(self, venue: Venue) -> str | None:
        if not venue.photo:
            return None
        path = reverse("venues:venue_photo", args=[venue.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


@enum_field(
    [("free", ""), ("taken", ""), ("closed", "")], _("free 空闲、taken 已约、closed 不可约")
)
class SlotStateField(serializers.CharField):
    pass


class SlotSerializer(Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    state = SlotStateField()


class SlotsSerializer(Serializer):
    venue = serializers.IntegerField()
    date = serializers.DateField()
    closed_reason = serializers.CharField(help_text=_("整天不开放的原因(节假日、闭馆),开放时为空"))
    slots = SlotSerializer(many=True)


class ReservationCreateSerializer(Serializer):
    start = serializers.DateTimeField(help_text=_("开始时间,带时区,如 2026-12-15T19:00:00+08:00"))
    end = serializers.DateTimeField(help_text=_("结束时间,与开始时间同一天"))
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("姓名"))
    phone = serializers.CharField(
        max_length=11,
        validators=[mobile_validator],
        required=False,
        help_text=_("中国大陆手机号码,11 位;带 X-Resident-Token 时以凭证的号码为准,可不填"),
    )
    purpose = serializers.CharField(max_length=services.PURPOSE_MAX, help_text=_("用途"))
    party_size = serializers.IntegerField(min_value=1, help_text=_("人数,不超过场馆容纳人数"))
    consent = ConsentField()


class ReservationSerializer(Serializer):
    code = serializers.CharField(read_only=True, label=_("预约码"))
    status = ReservationStatusField(read_only=True)
    venue = serializers.IntegerField(source="venue_id", read_only=True)
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    party_size = serializers.IntegerField(read_only=True)


class SlotsQuery(forms.Form):
    date = forms.DateField(
        error_messages={
            "required": _("请填写日期,如 2026-12-15。"),
            "invalid": _("日期格式应为 YYYY-MM-DD,如 2026-12-15。"),
        }
    )

    def clean_date(self) -> date:
        """A day of the weeks the venue's page shows: a day years away has no slots to tell."""
        day = self.cleaned_data["date"]
        first, last = selectors.shown_weeks(timezone.localdate())
        last += timedelta(days=6)
        if not first <= day <= last:
            raise forms.ValidationError(
                gettext("只能查询 %(first)s 至 %(last)s 之间的日期。")
                % {"first": first.isoformat(), "last": last.isoformat()}
            )
        return day


class VenueFilter(django_filters.FilterSet):
    within = extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("某馆的 id:列出它整棵子树(含它自己)内的场馆。该馆不存在时返回 400。"),
        }
    )(HallIdFilter())
    hall = extend_schema_field(
        {
            "type": "integer",
            "minimum": 1,
            "description": _("某馆的 id:只列出该馆的场馆。该馆不存在时返回 400。"),
        }
    )(HallIdFilter())

    class Meta:
        model = Venue
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Venue]) -> QuerySet[Venue]:
        data = self.form.cleaned_data
        within, hall = data.get("within"), data.get("hall")
        return selectors.venues_public(
            within=within.pk if within else None, hall=hall.pk if hall else None
        )


# --- Documented responses -----------------------------------------------------------------------

VENUE_NOT_FOUND = OpenApiResponse(response=Detail, description=_("没有这个场馆,或它暂停预约。"))
TAKEN = OpenApiResponse(
    response=Detail,
    description=_("所选时段与已有预约重叠(待审核、已确认、已签到的预约都占用场馆)。"),
    examples=[
        OpenApiExample(
            "taken",
            value={"detail": "2026-12-15 19:00–21:00 这个时段已被预约,请换一个时段。"},
            response_only=True,
            status_codes=["409"],
        )
    ],
)
RESERVATION_EXAMPLE = OpenApiExample(
    "confirmed",
    value={
        "code": "K7QH3M2X",
        "status": "confirmed",
        "venue": 3,
        "start": "2026-12-15T19:00:00+08:00",
        "end": "2026-12-15T21:00:00+08:00",
        "party_size": 12,
    },
    response_only=True,
    status_codes=["201", "200"],
)


def _venue_or_404(pk) -> Venue:
    try:
        venue_id = int(pk)
    except (TypeError, ValueError):
        venue_id = None
    venue = selectors.venue_public(venue_id) if venue_id and venue_id > 0 else None
    if venue is None:
        raise NotFound(gettext("没有这个场馆,或它暂停预约。"))
    return venue


# --- Views --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("场馆列表"),
        auth=OPTIONAL_AUTH,
        description=_("公开,无需登录。开放预约的场馆,按馆的树序排列,每页 50 条。"),
        responses={200: VenueSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(
        summary=_("场馆详情"),
        auth=OPTIONAL_AUTH,
        responses={200: VenueSerializer, 404: VENUE_NOT_FOUND},
    ),
)
class VenueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = VenueSerializer
    filterset_class = VenueFilter

    def get_queryset(self):
        return selectors.venues_public()

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.get_serializer(_venue_or_404(pk)).data)

    @extend_schema(
        summary=_("场馆某天的时段"),
        description=_(
            "公开,无需登录。某天每个时段的状态:free 空闲、taken 已被预约、closed 不可约"
            "(已过去、节假日、闭馆)。没有固定时段长度的场馆按半小时列出。"
        ),
        auth=OPTIONAL_AUTH,
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=True,
                description=_(
                    "日期,YYYY-MM-DD;从本周一到可以预约的最后一周的周日"
                    "(VENUE_BOOKING_WEEKS_AHEAD 周),此外的日期返回 400"
                ),
            )
        ],  # fmt: skip
        responses={200: SlotsSerializer, 400: FIELD_ERRORS, 404: VENUE_NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def slots(self, request: Request, pk: str | None = None) -> Response:
        venue = _venue_or_404(pk)
        query = SlotsQuery(request.query_params)
        if not query.is_valid():
            raise serializers.ValidationError(query.errors)
        day: date = query.cleaned_data["date"]
        grid = selectors.venue_days(venue, day, 1)[0]
        return Response(
            SlotsSerializer(
                {
                    "venue": venue.pk,
                    "date": day,
                    "closed_reason": grid.closed_reason,
                    "slots": grid.slots,
                }
            ).data
        )

    @extend_schema(
        summary=_("预约场馆"),
        description=_(
            "居民预约,无需登录账号,但要先验证手机号码(请求头 X-Resident-Token,见 phone-tokens/;"
            "RESIDENT_VERIFICATION=off 的站点除外),缺少或无效时返回 401。时段须在开放时间内、按场馆的时段长度、不超过容纳人数;"
            "需要审核的场馆 status 为 pending,否则为 confirmed。所选时段已被占用时返回 409。"
            "仅限文艺团队的场馆请联系馆里代为预约。按来源 IP 和手机号码限流,超过时返回 429。"
        ),
        auth=[],
        parameters=[IDEMPOTENCY_KEY],
        request=ReservationCreateSerializer,
        responses={
            201: ReservationSerializer,
            400: FIELD_ERRORS,
            401: UNVERIFIED,
            404: VENUE_NOT_FOUND,
            409: TAKEN,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
            429: RATE_LIMITED,
        },
        examples=[
            OpenApiExample(
                "reservation_request",
                value={
                    "start": "2026-12-15T19:00:00+08:00",
                    "end": "2026-12-15T21:00:00+08:00",
                    "name": "张三",
                    "phone": "13800138000",
                    "purpose": "合唱排练",
                    "party_size": 12,
                    "consent": True,
                },
                request_only=True,
            ),
            RESERVATION_EXAMPLE,
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="reservations",
        authentication_classes=ResidentEndpoint.authentication_classes,
        permission_classes=ResidentEndpoint.permission_classes,
        parser_classes=ResidentEndpoint.parser_classes,
        filterset_class=None,
        pagination_class=None,
    )
    @resident_idempotent
    def reservations(self, request: Request, pk: str | None = None) -> Response:
        services.RESERVATION_BUDGET.charge_address(ratelimit.client_ip(request))
        verified = verified_or_401(request)
        venue = _venue_or_404(pk)
        data = consented(validated(ReservationCreateSerializer, request.data))
        data["phone"] = resident_phone(verified, data)
        services.RESERVATION_BUDGET.charge_phone(data["phone"])
        try:
            reservation = services.reservation_create(venue_id=venue.pk, venue=venue, **data)
        except services.RangeTaken as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response(ReservationSerializer(reservation).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("查询场馆预约"),
        description=_("居民凭预约码和手机号码查询,无需登录。两者不匹配时返回 404。"),
        auth=[],
        parameters=[
            OpenApiParameter(
                "phone",
                MOBILE_SCHEMA,
                OpenApiParameter.QUERY,
                required=True,
                description=_("预约时填写的手机号码"),
            )
        ],  # fmt: skip
        responses={200: ReservationSerializer, 400: FIELD_ERRORS, 404: Detail, 429: RATE_LIMITED},
        examples=[RESERVATION_EXAMPLE],
    ),
)
class ReservationViewSet(ResidentEndpoint, viewsets.GenericViewSet):
    serializer_class = ReservationSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Reservation.objects.none()

    def retrieve(self, request: Request, code: str) -> Response:
        services.RESERVATION_BUDGET.charge_address(ratelimit.client_ip(request), lookup=True)
        data = validated(PhoneSerializer, request.query_params)
        reservation = services.reservation_lookup(code=code, phone=data["phone"])
        if reservation is None:
            raise NotFound(gettext("预约码与手机号码不匹配,请核对后再试。"))
        return Response(ReservationSerializer(reservation).data)

    @extend_schema(
        summary=_("取消场馆预约"),
        description=_(
            "居民凭预约码取消,在预约时段开始之前有效;要先验证手机号码(X-Resident-Token),"
            "缺少或无效时返回 401。"
            "预约码不存在或与手机号码不匹配时返回同一个 400。"
        ),
        auth=[],
        parameters=[IDEMPOTENCY_KEY],
        request=ResidentPhoneSerializer,
        responses={
            200: ReservationSerializer,
            400: FIELD_ERRORS,
            401: UNVERIFIED,
            415: UNSUPPORTED,
            422: IDEMPOTENCY_MISMATCH,
            429: RATE_LIMITED,
        },
        examples=[
            OpenApiExample("cancel_request", value={"phone": "13800138000"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    @resident_idempotent
    def cancel(self, request: Request, code: str) -> Response:
        services.RESERVATION_BUDGET.charge_address(ratelimit.client_ip(request), lookup=True)
        verified = verified_or_401(request)
        data = validated(ResidentPhoneSerializer, request.data)
        reservation = services.reservation_cancel(code=code, phone=resident_phone(verified, data))
        return Response(ReservationSerializer(reservation).data)
