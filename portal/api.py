"""The site's API that spans rooms: ``me/``, a verified phone's own bookings, orders and
survey answers (the page 我的 in JSON)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from activities.residents.api import RESIDENT_TOKEN, UNVERIFIED, ResidentUnverified, token_phone
from common.api import ResidentEndpoint, Serializer

from . import selectors


class MeBookingSerializer(Serializer):
    code = serializers.CharField(help_text=_("预约码"))
    status = serializers.CharField(help_text=_("confirmed / waitlisted / cancelled"))
    activity = serializers.IntegerField(source="activity_id")
    activity_title = serializers.CharField(source="activity.title")
    activity_start = serializers.DateTimeField(source="activity.start")
    activity_end = serializers.DateTimeField(source="activity.end")
    seats = serializers.IntegerField()
    position = serializers.IntegerField(allow_null=True, help_text=_("候补位次,其他状态为 null"))
    checked_in = serializers.SerializerMethodField()
    cancellable = serializers.BooleanField(help_text=_("现在还能取消"))
    cancellable_until = serializers.DateTimeField(source="activity.cancellable_until")

    def get_checked_in(self, booking) -> bool:
        return booking.checked_in_at is not None


class MeOrderSerializer(Serializer):
    code = serializers.CharField(help_text=_("订单号"))
    status = serializers.CharField()
    point = serializers.IntegerField(source="point_id")
    point_name = serializers.CharField(source="point.name")
    handler_name = serializers.CharField(source="handler.name")
    created_at = serializers.DateTimeField()
    rating = serializers.IntegerField(allow_null=True)


class MeAnswerSerializer(Serializer):
    hall = serializers.IntegerField(source="hall_id")
    hall_name = serializers.CharField(source="hall.name")
    quarter = serializers.CharField()
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class MeSerializer(Serializer):
    phone = serializers.CharField()
    bookings = MeBookingSerializer(
        many=True, help_text=_("即将参加、候补中、已结束、已取消,依次排列")
    )
    orders = MeOrderSerializer(many=True)
    answers = MeAnswerSerializer(many=True, help_text=_("满意度评价"))


class MeView(ResidentEndpoint, APIView):
    @extend_schema(
        summary=_("我的:预约、点单和评价"),
        description=_(
            "凭 X-Resident-Token 返回该手机号码的全部预约(含预约码与候补位次)、点单和满意度评价。"
            "无论 RESIDENT_VERIFICATION 如何设置,都需要有效凭证。"
        ),
        auth=[],
        parameters=[RESIDENT_TOKEN],
        responses={200: MeSerializer, 401: UNVERIFIED},
    )
    def get(self, request: Request) -> Response:
        phone = token_phone(request)
        if phone is None:
            raise ResidentUnverified()
        overview = selectors.resident_overview(phone)
        return Response(
            MeSerializer(
                {
                    "phone": phone,
                    "bookings": overview.bookings,
                    "orders": overview.orders,
                    "answers": overview.answers,
                }
            ).data
        )
