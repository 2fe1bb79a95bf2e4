"""The halls API: public reads of the directory, and staff edits within their scope.

Reads need no account. ``PATCH`` is for staff whose scope covers the hall; a hall outside it
answers 404 as if it did not exist, and officials (read-only) get 403. Writes go through
``network.services.hall_update``; its ``ValidationError`` becomes a 400 in ``common.api``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, partial

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from common.api import FIELD_ERRORS, FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND, Pagination

from . import services
from .filters import HallFilter
from .models import Hall
from .search import SearchPaginator, query_forms
from .selectors import user_scope

EDITABLE_FIELDS = list(Hall.OWN_FIELDS)
assert set(EDITABLE_FIELDS) == services.HALL_FIELDS


def halls_for_api() -> QuerySet[Hall]:
    """Halls in tree order, each with ``children_count``.

    A correlated count rather than ``Count("children")``: with GROUP BY the database aggregates
    every matching hall before the page is cut, while the subquery runs for the page's rows only.
    """
    children = (
        Hall.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Hall.objects.annotate(
        children_count=Coalesce(Subquery(children, output_field=IntegerField()), 0)
    ).order_by("tree_id", "lft")


def _coordinate(limit: int, **kwargs) -> serializers.DecimalField:
    # Numbers, not DRF's default decimal strings: map clients want floats.
    return serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-limit,
        max_value=limit,
        coerce_to_string=False,
        allow_null=True,
        **kwargs,
    )


class HallSerializer(serializers.ModelSerializer):
    children_count = serializers.IntegerField(read_only=True, help_text=_("直接下级馆的数量"))
    latitude = _coordinate(90, read_only=True)
    longitude = _coordinate(180, read_only=True)

    class Meta:
        model = Hall
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "status",
            "parent",
            "level",
            "plaque_name",
            "locality",
            "operator",
            "operator_name",
            "address",
            "latitude",
            "longitude",
            "phone",
            "opening_hours",
            "services",
            "main_hall",
            "branch_hall",
            "children_count",
        ]
        read_only_fields = fields

    # Fields whose representation is the column's value as loaded: a string, an integer, a
    # related hall's id. DRF's walk over them (get_attribute, then to_representation, for each
    # field of each row) took 6 ms of a page of 50 halls, and building the fields from the model
    # for each request 1.5 ms more; the coordinates still go through their field (quantized to
    # six places), whose to_representation changes nothing on it and may be shared.
    AS_LOADED = (
        serializers.CharField,
        serializers.ChoiceField,
        serializers.IntegerField,
        serializers.PrimaryKeyRelatedField,
    )

    @classmethod
    @cache
    def columns(cls) -> list[tuple[str, str, Callable | None]]:
        """(key, attribute, None or the field's to_representation) of each field, in order."""
        columns = []
        for name, field in cls().fields.items():
            if field.write_only:
                continue
            try:
                attname = Hall._meta.get_field(field.source).attname  # parent → parent_id
            except FieldDoesNotExist:
                attname = field.source  # children_count, an annotation
            convert = None if isinstance(field, cls.AS_LOADED) else field.to_representation
            columns.append((name, attname, convert))
        return columns

    def to_representation(self, instance: Hall) -> dict:
        row = {}
        for name, attname, convert in self.columns():
            value = getattr(instance, attname)
            row[name] = value if convert is None or value is None else convert(value)
        return row


class HallUpdateSerializer(serializers.ModelSerializer):
    """可修改的字段。正文里出现其他字段(如 parent、kind)时返回 400。"""

    # The docstring above is the schema's description. Unknown keys are refused rather than
    # ignored, so that a client trying to move a hall or change its kind is told it cannot.

    latitude = _coordinate(90, required=False)
    longitude = _coordinate(180, required=False)

    class Meta:
        model = Hall
        fields = EDITABLE_FIELDS

    def get_fields(self):
        fields = super().get_fields()
        # A duplicate code is the service's to refuse (full_clean under the tree lock), so the
        # rule and its message live in one place; its ValidationError becomes the same 400.
        fields["code"].validators = [
            v for v in fields["code"].validators if not isinstance(v, UniqueValidator)
        ]
        return fields

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            errors = {
                key: [_("此字段不能通过接口修改。")] for key in sorted(set(data) - set(self.fields))
            }
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise ValidationError({**errors, **exc.detail}) from exc
        if errors:
            raise ValidationError(errors)
        return value


class ScopeWritePermission(permissions.IsAuthenticated):
    """Signed-in accounts read their scope; read-only accounts (officials) write nothing. A
    subclass says in ``message`` what they may not do."""

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return not user_scope(request.user).read_only


class HallWritePermission(permissions.IsAuthenticatedOrReadOnly):
    """Writes are for staff with a writable scope; which halls they reach is the queryset's
    job (so a hall outside the scope is a 404, not a 403 that confirms it exists).

    A subclass of ``IsAuthenticatedOrReadOnly`` so that the schema marks reads as open to all."""

    message = _("该账号只能查看,不能修改文化馆。")

    def has_permission(self, request: Request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if request.method.lower() not in view.http_method_names:
            return True  # let the view answer 405
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff) and not user_scope(user).read_only


class HallPagination(Pagination):
    """Pages of halls with ``count_capped``: a search (``q``) counts its matches only up to
    ``SEARCH_COUNT_CAP``, or ``SEARCH_SHORT_COUNT_CAP`` for one or two characters
    (``network.search.SearchPaginator``); every other list counts exactly."""

    def paginate_queryset(self, queryset, request, view=None):
        query = request.query_params.get("q", "")
        if query_forms(query):
            self.django_paginator_class = partial(SearchPaginator, query=query)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_capped": getattr(paginator, "capped", False),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = _(
            "结果总数。按名称查找(`q`)时最多数到 SEARCH_COUNT_CAP(默认 1000),"
            "一两个字的查找(或其数字写法为一两个字)只数到 SEARCH_SHORT_COUNT_CAP(默认 200):"
            "超过时即为该上限,且 `count_capped` 为 true,翻页也止于该上限。"
        )
        response["properties"] = {
            "count": properties["count"],
            "count_capped": {
                "type": "boolean",
                "description": _(
                    "为 true 时,实际结果多于 `count`:只能翻到前 `count` 条,"
                    "请用更具体的名称(村名、乡镇名)或 `within` 缩小范围。"
                ),
            },
            **{key: value for key, value in properties.items() if key != "count"},
        }
        response["required"] = [*response["required"], "count_capped"]
        return response


# Reads are open to everyone; a signed-in client may still send its credentials.
OPTIONAL_AUTH = [{"tokenAuth": []}, {"cookieAuth": []}, {}]


@extend_schema_view(
    list=extend_schema(
        summary=_("文化馆列表"),
        auth=OPTIONAL_AUTH,
        description=_(
            "公开,无需登录。按树序(每个中心馆一棵树,树内先序)排列,每页 50 条。"
            "`parent`、`within` 指向不存在的馆时返回 400(而不是空列表),以免把错号当成空子树。"
            "按名称查找(`q`)时结果只数到 SEARCH_COUNT_CAP(默认 1000)个,"
            "一两个字的查找只数到 SEARCH_SHORT_COUNT_CAP(默认 200)个:"
            "更多时 `count` 为该上限、`count_capped` 为 true,翻页止于该上限。"
        ),
        responses={200: HallSerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary=_("文化馆详情"),
        auth=OPTIONAL_AUTH,
        description=_("公开,无需登录。"),
        responses={200: HallSerializer, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary=_("修改文化馆"),
        description=_(
            "工作人员修改其管辖范围(所在馆及其下级)内的馆。认证方式:会话(登录后台后的 Cookie,"
            "需带 X-CSRFToken 请求头)或接口令牌(供其他系统调用)。管辖范围之外的馆返回 404,"
            "只读账号(文化和旅游局)返回 403。修改所在地名时,该馆及其下级的统一标识随之更新。"
            "不能在此修改上级馆和层级。"
        ),
        request=HallUpdateSerializer,
        responses={
            200: HallSerializer,
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
)
class HallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HallSerializer
    filterset_class = HallFilter
    pagination_class = HallPagination
    permission_classes = [HallWritePermission]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Hall]:
        queryset = halls_for_api()
        if self.request.method not in permissions.SAFE_METHODS:
            queryset = queryset.filter(user_scope(self.request.user).q())
        return queryset

    def partial_update(self, request: Request, pk=None) -> Response:
        hall = self.get_object()
        serializer = HallUpdateSerializer(hall, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.hall_update(hall=hall, **serializer.validated_data)
        return Response(HallSerializer(halls_for_api().get(pk=hall.pk)).data)
