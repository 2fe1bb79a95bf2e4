"""The resource catalogue and dispatch API.

``GET resources/`` is open: without an account (or with one that has no post) it lists the
public, active teams and venues that residents see on ``/resources/``; a staff account gets the
whole catalogue of the city trees its scope lies in, the catalogue being shared so that halls can
ask each other for things. ``dispatches/`` is for staff: a dispatch is seen by the scopes of its
requesting, owning and approving halls (404 outside them); each step calls its service, whose
PermissionDenied is a 403 and whose ValidationError a 400 (``common.api``). Officials read only.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import (
    FIELD_ERRORS,
    FORBIDDEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    STEP,
    UNSUPPORTED,
    JSONParser,
    Serializer,
    step_schema,
    validated,
)
from network.api import OPTIONAL_AUTH, ScopeWritePermission
from network.filters import OwnedByHallFilter
from network.models import Hall
from network.selectors import user_scope

from . import services
from .models import Condition, Dispatch, DispatchStop, Resource, ResourceKind
from .selectors import dispatches_visible, resource_catalogue, resources_public


def _enum(choices, description: str, enum_id: str | None = None):
    # Inline enums: "kind" and "status" exist on several models, and named components would
    # collide in the schema. ``enum_id`` keeps one choice set under two property names apart.
    schema = {"type": "string", "enum": [value for value, _label in choices]}
    if enum_id:
        schema["x-spec-enum-id"] = enum_id
    return extend_schema_field({**schema, "description": description})


@_enum(
    ResourceKind.choices,
    _(
        "类别:venue 场地、equipment 设备、stage_truck 流动舞台车、team 文艺团队、"
        "talent 文化人才、work 文艺作品、digital 数字资源"
    ),
)
class ResourceKindField(serializers.CharField):
    pass


CONDITION_HELP = _("状况:good 完好、fair 一般、damaged 损坏待修")


@_enum(Condition.choices, CONDITION_HELP, "resource-condition")
class ConditionField(serializers.CharField):
    pass


@_enum([("", ""), *Condition.choices], _("交接时状况(交接前为空)"), "dispatch-handover-condition")
class HandoverConditionField(serializers.CharField):
    pass


@_enum([("", ""), *Condition.choices], _("归还时状况(归还前为空)"), "dispatch-return-condition")
class ReturnConditionField(serializers.CharField):
    pass


@_enum(
    Dispatch.Status.choices,
    _(
        "状态:requested 申请中、approved 已批准、rejected 未批准、handed_over 已交接、"
        "returned 已归还、cancelled 已撤回"
    ),
)
class DispatchStatusField(serializers.CharField):
    pass


@_enum(Condition.choices, CONDITION_HELP, "resource-condition")
class ConditionChoiceField(serializers.ChoiceField):
    pass


# --- Resources --------------------------------------------------------------------------------


class ResourceSerializer(serializers.ModelSerializer):
    kind = ResourceKindField(read_only=True)
    condition = ConditionField(read_only=True)
    hall_name = serializers.CharField(source="hall.name", read_only=True, help_text=_("所属馆名称"))

    class Meta:
        model = Resource
        fields = [
            "id",
            "catalogue_no",
            "kind",
            "name",
            "description",
            "quantity",
            "unit",
            "condition",
            "hall",
            "hall_name",
            "contact",
            "public",
            "dispatchable",
            "active",
        ]
        read_only_fields = fields


class ResourceFilter(OwnedByHallFilter):
    kind = django_filters.ChoiceFilter(choices=ResourceKind.choices, help_text=_("类别"))
    q = django_filters.CharFilter(
        method="filter_q", max_length=100, help_text=_("按名称、编目号或说明查找(包含即可)。")
    )

    class Meta:
        model = Resource
        fields = ["kind", "hall", "within", "q"]

    def filter_q(self, queryset: QuerySet[Resource], name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(catalogue_no__icontains=value)
            | Q(description__icontains=value)
        )


def _is_staff(user) -> bool:
    scope = user_scope(user)
    return scope.everything or bool(scope.ranges)


@extend_schema_view(
    list=extend_schema(
        summary=_("资源目录"),
        auth=OPTIONAL_AUTH,
        description=_(
            "未登录(或账号没有岗位)时只列出向群众公开、在用的文艺团队和场地,与公开页面 "
            "/resources/ 相同;此时 kind 选其他类别得到空列表。工作人员登录后列出其所在城市"
            "总分馆网络的全部资源目录(全网共享,便于申请调配),但只能修改本馆及下属馆的资源。"
            "按编目号排列(公开列表按类别和所属馆排列)。`hall`、`within` 指向不存在的馆时返回 400。"
        ),
        responses={200: ResourceSerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary=_("资源详情"),
        auth=OPTIONAL_AUTH,
        description=_("可见范围与列表相同,范围之外返回 404。"),
        responses={200: ResourceSerializer, 404: NOT_FOUND},
    ),
)
class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter

    def get_queryset(self) -> QuerySet[Resource]:
        user = self.request.user
        if user.is_authenticated and _is_staff(user):
            return resource_catalogue(user_scope(user))
        return resources_public()


# --- Dispatches -------------------------------------------------------------------------------


class DispatchStopSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="activity.title", read_only=True)
    start = serializers.DateTimeField(source="activity.start", read_only=True)
    end = serializers.DateTimeField(source="activity.end", read_only=True)

    class Meta:
        model = DispatchStop
        fields = ["order", "point", "activity", "title", "start", "end"]
        read_only_fields = fields


class DispatchSerializer(serializers.ModelSerializer):
    status = DispatchStatusField(read_only=True)
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    catalogue_no = serializers.CharField(source="resource.catalogue_no", read_only=True)
    owner_hall = serializers.IntegerField(
        source="resource.hall_id", read_only=True, help_text=_("资源所属馆的 id")
    )
    requesting_hall_name = serializers.CharField(source="requesting_hall.name", read_only=True)
    approver_hall_name = serializers.CharField(source="approver_hall.name", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    handover_condition = HandoverConditionField(read_only=True)
    return_condition = ReturnConditionField(read_only=True)
    stops = DispatchStopSerializer(many=True, read_only=True, help_text=_("巡演站点"))

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "resource",
            "resource_name",
            "catalogue_no",
            "owner_hall",
            "requesting_hall",
            "requesting_hall_name",
            "approver_hall",
            "approver_hall_name",
            "purpose",
            "start",
            "end",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "handed_over_at",
            "handover_condition",
            "handover_note",
            "returned_at",
            "return_condition",
            "return_note",
            "stops",
        ]
        read_only_fields = fields


class DispatchRequestSerializer(Serializer):
    resource = serializers.IntegerField(min_value=1, help_text=_("资源 id(全市资源目录中的)"))
    requesting_hall = serializers.IntegerField(min_value=1, help_text=_("申请馆 id:本馆或下属馆"))
    start = serializers.DateTimeField(help_text=_("开始时间"))
    end = serializers.DateTimeField(help_text=_("结束时间,须晚于开始时间"))
    purpose = serializers.CharField(max_length=255, help_text=_("用途"))

    def validate_resource(self, value: int) -> Resource:
        resource = resource_catalogue(user_scope(self.context["request"].user)).filter(pk=value)
        found = resource.first()
        if found is None:
            raise serializers.ValidationError(
                gettext("资源目录中没有 id 为 %(id)s 的资源。") % {"id": value}
            )
        return found

    def validate_requesting_hall(self, value: int) -> Hall:
        hall = Hall.objects.filter(pk=value).first()
        if hall is None:
            raise serializers.ValidationError(
                gettext("没有 id 为 %(id)s 的文化馆。") % {"id": value}
            )
        return hall


class DispatchNoteSerializer(Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text=_("意见(选填)")
    )


class DispatchRejectSerializer(Serializer):
    note = serializers.CharField(max_length=255, help_text=_("不批准的原因"))


class DispatchConditionSerializer(Serializer):
    condition = ConditionChoiceField(choices=Condition.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text=_("说明(选填)")
    )


class DispatchEmptySerializer(Serializer):
    pass


class DispatchStopRequestSerializer(Serializer):
    point = serializers.IntegerField(min_value=1, help_text=_("服务点 id:申请馆下属的村(社区)"))
    title = serializers.CharField(max_length=120, help_text=_("活动名称"))
    start = serializers.DateTimeField(help_text=_("开始时间,须在调配期间之内"))
    end = serializers.DateTimeField(help_text=_("结束时间,须在调配期间之内"))

    def validate_point(self, value: int) -> Hall:
        hall = Hall.objects.filter(pk=value).first()
        if hall is None:
            raise serializers.ValidationError(
                gettext("没有 id 为 %(id)s 的文化馆。") % {"id": value}
            )
        return hall


class DispatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Dispatch.Status.choices, help_text=_("状态"))
    resource = django_filters.NumberFilter(field_name="resource_id", help_text=_("资源 id"))

    class Meta:
        model = Dispatch
        fields = ["status", "resource"]


class DispatchPermission(ScopeWritePermission):
    """Signed-in accounts read their scope; officials (read-only) make no request or step."""

    message = _("该账号只能查看,不能申请或办理调配。")


def _step(summary, description, request_serializer, example=None):
    return step_schema(summary, description, request_serializer, DispatchSerializer, example)


@extend_schema_view(
    list=extend_schema(
        summary=_("资源调配(工作人员)"),
        description=_(
            "申请馆、资源所属馆或审批馆在该账号管辖范围内的调配,按开始时间从晚到早。需登录"
            "(会话或接口令牌)。`status` 按状态筛选。文化和旅游局账号只读。"
        ),
        responses={
            200: DispatchSerializer(many=True),
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    ),
    retrieve=extend_schema(
        summary=_("调配详情"),
        description=_("范围之外的调配返回 404。"),
        responses={200: DispatchSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("申请调配"),
        description=_(
            "以本馆或下属馆(requesting_hall)的名义申请全市资源目录中的一项资源。同一县(区)内"
            "由资源所属馆审批,跨县(区)由共同的上级馆审批。结束时间须晚于开始时间;该资源在这段时间"
            "已调配出去时返回 400,信息写明占用的日期和馆。以范围之外的馆申请返回 403。正文须为 JSON。"
        ),
        request=DispatchRequestSerializer,
        responses={
            201: DispatchSerializer,
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            415: UNSUPPORTED,
        },
        examples=[
            OpenApiExample(
                "request",
                value={
                    "resource": 12,
                    "requesting_hall": 34,
                    "start": "2026-06-01T09:00:00+08:00",
                    "end": "2026-06-03T18:00:00+08:00",
                    "purpose": "送戏下乡",
                },
                request_only=True,
            ),
            OpenApiExample(
                "busy",
                value={
                    "start": [
                        "该资源在 2026-06-02 09:00 至 2026-06-04 18:00 已调配给“关上街道综合文化站”,"
                        "请另选时间。"
                    ]
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
)
class DispatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DispatchSerializer
    permission_classes = [DispatchPermission]
    parser_classes = [JSONParser]
    filterset_class = DispatchFilter

    def get_queryset(self) -> QuerySet[Dispatch]:
        return (
            dispatches_visible(user_scope(self.request.user))
            .select_related("requested_by")
            .prefetch_related(
                Prefetch(
                    "stops",
                    queryset=DispatchStop.objects.select_related("activity").order_by("order"),
                )
            )
            .order_by("-start", "-pk")
        )

    def get_object(self) -> Dispatch:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError):
            pk = None
        dispatch = self.get_queryset().filter(pk=pk).first() if pk and pk > 0 else None
        if dispatch is None:
            raise NotFound(gettext("没有这次调配,或它不在您的管辖范围内。"))
        return dispatch

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = validated(DispatchRequestSerializer, request.data, context={"request": request})
        dispatch = services.dispatch_request(by=request.user, **data)
        return Response(self._fresh(dispatch), status=status.HTTP_201_CREATED)

    def _fresh(self, dispatch: Dispatch) -> dict:
        return DispatchSerializer(self.get_queryset().get(pk=dispatch.pk)).data

    @_step(
        _("批准"),
        _("审批馆批准申请中的调配;与已批准的时段重叠时返回 400。"),
        DispatchNoteSerializer,
    )
    @action(**STEP)
    def approve(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        data = validated(DispatchNoteSerializer, request.data)
        services.dispatch_approve(dispatch=dispatch, by=request.user, note=data.get("note", ""))
        return Response(self._fresh(dispatch))

    @_step(_("不批准"), _("审批馆不批准申请中的调配,须写明原因。"), DispatchRejectSerializer)
    @action(**STEP)
    def reject(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        data = validated(DispatchRejectSerializer, request.data)
        services.dispatch_reject(dispatch=dispatch, by=request.user, note=data["note"])
        return Response(self._fresh(dispatch))

    @_step(_("撤回"), _("申请馆撤回申请中或已批准(尚未交接)的调配。"), DispatchEmptySerializer)
    @action(**STEP)
    def cancel(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        validated(DispatchEmptySerializer, request.data)  # a body, if any, must be JSON
        services.dispatch_cancel(dispatch=dispatch, by=request.user)
        return Response(self._fresh(dispatch))

    @_step(
        _("交接"),
        _("资源所属馆把已批准的资源交给申请馆,记录交接时的状况。"),
        DispatchConditionSerializer,
        OpenApiExample("hand_over", value={"condition": "good", "note": "油满"}, request_only=True),
    )
    @action(**STEP, url_path="hand-over", url_name="hand-over")
    def hand_over(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        data = validated(DispatchConditionSerializer, request.data)
        services.dispatch_hand_over(dispatch=dispatch, by=request.user, **data)
        return Response(self._fresh(dispatch))

    @_step(
        _("归还"),
        _("资源所属馆登记归还及归还时的状况;该状况随即成为资源目录中的状况。"),
        DispatchConditionSerializer,
    )
    @action(**STEP, url_path="return", url_name="return")
    def give_back(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        data = validated(DispatchConditionSerializer, request.data)
        services.dispatch_return(dispatch=dispatch, by=request.user, **data)
        return Response(self._fresh(dispatch))

    @_step(
        _("添加巡演站点"),
        _(
            "申请馆为已批准或已交接的调配(如流动舞台车巡演)添加一站:在其下属的村(社区)服务点"
            "举办、时间在调配期间之内的一场活动,随即发布在该服务点的页面上。"
        ),
        DispatchStopRequestSerializer,
    )
    @action(**STEP)
    def stops(self, request: Request, pk=None) -> Response:
        dispatch = self.get_object()
        data = validated(DispatchStopRequestSerializer, request.data)
        services.dispatch_add_stop(dispatch=dispatch, by=request.user, **data)
        return Response(self._fresh(dispatch))
