"""Yearly statistics and assessment scores in the API.

``statistics/`` is public: a hall's figures are public information once the hall has submitted
them, so the totals count submitted and approved reports only (drafts and returned reports are
left out) and need no account. ``scores/`` is for staff and officials, and lists only halls in
the account's scope; a ``within`` outside it answers 404 as if it did not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import FIELD_ERRORS, NOT_AUTHENTICATED, NOT_FOUND, Pagination, Serializer
from common.cache import versioned_key
from network.models import Hall, subtree_q
from network.selectors import user_scope

from .returns import selectors as returns
from .returns.models import AssetReturn, Rollup, ServiceReturn
from .scoring import selectors as scoring
from .scoring.models import AssessmentScheme, Grade

OPTIONAL_AUTH = [{"tokenAuth": []}, {"cookieAuth": []}, {}]
MIN_YEAR, MAX_YEAR = 2000, 2100


class HallBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hall
        fields = ["id", "code", "name", "kind", "parent"]


def _rollup_help_now(model, figure: str) -> str:
    return _("%(figure)s:不可相加,取本馆及下级各报送馆的%(rollup)s") % {
        "figure": model.figure_label(figure),
        "rollup": model.rollup_of(figure).label,
    }


_rollup_help = lazy(_rollup_help_now, str)


def _figures_serializer(name: str, model) -> type[Serializer]:
    fields: dict = {
        "halls": serializers.IntegerField(help_text=_("计入的报表数(已报送或已审核)")),
    }
    for figure in model.FIGURES:
        field = model._meta.get_field(figure)
        help_text = field.verbose_name
        if model.rollup_of(figure) != Rollup.SUM:
            # Not additive: the subtree's value is the declared roll-up, and says so.
            help_text = _rollup_help(model, figure)
        if isinstance(field, models.DecimalField):
            fields[figure] = serializers.DecimalField(
                max_digits=None,
                decimal_places=field.decimal_places,
                coerce_to_string=False,
                allow_null=True,
                help_text=help_text,
            )
        else:
            fields[figure] = serializers.IntegerField(allow_null=True, help_text=help_text)
    return type(name, (Serializer,), fields)


ServiceTotalsSerializer = _figures_serializer("ServiceTotals", ServiceReturn)
AssetTotalsSerializer = _figures_serializer("AssetTotals", AssetReturn)


class CompletenessSerializer(Serializer):
    expected = serializers.IntegerField(help_text=_("下属开放中的馆数"))
    submitted = serializers.IntegerField(help_text=_("其中已报送(或已审核)的馆数"))
    on_time = serializers.IntegerField(help_text=_("其中在截止时间前报送的馆数"))
    rate = serializers.FloatField(help_text=_("报送率,0–1;下面没有馆时为 1"))


class CompletenessPairSerializer(Serializer):
    service = CompletenessSerializer()
    asset = CompletenessSerializer()


class StatisticsSerializer(Serializer):
    hall = HallBriefSerializer()
    year = serializers.IntegerField()
    service = ServiceTotalsSerializer(
        help_text=_(
            "服务统计年报:本馆及全部下级馆按各项的汇总方式汇总(可相加的求和,不可相加的见各项"
            "说明);没有任何已报送的报表时 halls 为 0,各项为 null(未报送,不是 0)"
        )
    )
    asset = AssetTotalsSerializer(
        help_text=_(
            "资产统计年报:本馆及全部下级馆按各项的汇总方式汇总;没有任何已报送的报表时 halls"
            " 为 0,各项为 null(未报送,不是 0)"
        )
    )
    completeness = CompletenessPairSerializer(help_text=_("下级馆的报送情况"))


class StatisticsQuerySerializer(Serializer):
    hall = serializers.IntegerField(min_value=1, help_text=_("馆的 id;合计其整个下级子树"))
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, help_text=_("年度"))


class StatisticsView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary=_("年度统计汇总"),
        auth=OPTIONAL_AUTH,
        description=_(
            "公开,无需登录。一个馆及其全部下级馆在某年度的服务统计年报和资产统计年报,各项按"
            "其汇总方式(求和、报送馆的平均值或最大值)在数据库中按树的区间汇总,以及下级馆的"
            "报送完成情况;没有任何报送时各项为 null(未报送)。只计已报送和已审核的报表:"
            "报送之后数据才公开,填报中和被退回的报表不计入。`hall` 或 `year` 缺少或有误时返回"
            " 400,`hall` 不存在时返回 404。"
        ),
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hall_id, year = query.validated_data["hall"], query.validated_data["year"]
        # A centre's roll-up reads its whole tree: the answer is kept (in Redis, for every web
        # process) until a return changes (returns.STATISTICS_CACHE) or for at most
        # STATISTICS_CACHE_SECONDS. With Redis out, it is computed per request.
        timeout = settings.STATISTICS_CACHE_SECONDS
        key = None
        if timeout > 0:
            key = versioned_key(
                returns.STATISTICS_CACHE, hall_id, year, get_language(), timeout=timeout
            )
        data = cache.get(key) if key else None
        if data is None:
            hall = Hall.objects.filter(pk=hall_id).first()
            if hall is None:
                raise NotFound(_("没有这个馆。"))
            figures = returns.statistics_for_hall(hall=hall, year=year)
            data = StatisticsSerializer({"hall": hall, "year": year, **figures}).data
            if key:
                cache.set(key, data, timeout)
        return Response(data)


class ScoreSerializer(Serializer):
    hall = HallBriefSerializer()
    status = serializers.ChoiceField(
        choices=[
            (scoring.ResultStatus.ASSESSED, _("已考核")),
            (scoring.ResultStatus.UNASSESSED, _("未考核")),
            (scoring.ResultStatus.PLANNED, _("待建")),
        ],
        help_text=_("已考核、未考核(没有任何评分)或待建;后两种没有总分、等级和排名"),
    )
    points = serializers.DictField(
        child=serializers.DecimalField(
            max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True
        ),
        help_text=_(
            "各考核维度的得分,键为维度代码(如 service_standard、satisfaction);缺项(没有数据)为 null"
        ),
    )
    missing = serializers.ListField(child=serializers.CharField(), help_text=_("缺项维度的代码"))
    scaled = serializers.BooleanField(help_text=_("总分是否按有数据的维度折算"))
    total = serializers.DecimalField(
        max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    grade = serializers.ChoiceField(choices=Grade.choices, allow_null=True)
    grade_label = serializers.CharField(
        allow_null=True, help_text=_("等级:优秀、良好、合格、不合格")
    )
    rank = serializers.IntegerField(
        allow_null=True, help_text=_("在同一上级馆的已考核下级馆中的名次")
    )


class ScoresQuerySerializer(Serializer):
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, help_text=_("年度"))
    within = serializers.IntegerField(
        min_value=1, required=False, help_text=_("馆的 id:只列该馆及其下级馆")
    )


class ScoresView(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = Pagination
    filter_backends: list = []
    serializer_class = ScoreSerializer

    @extend_schema(
        summary=_("年度考核得分"),
        description=_(
            "工作人员和文化和旅游局官员(只读)查看其管辖范围内各馆某年度的考核结果:各维度得分、"
            "总分、等级和在同一上级馆下的排名。按树序排列,每页 50 条。`within` 不存在或不在管辖"
            "范围内时返回 404;该年度没有考核方案时返回 400。"
        ),
        parameters=[ScoresQuerySerializer],
        responses={
            200: ScoreSerializer(many=True),
            400: FIELD_ERRORS,
            401: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request) -> Response:
        query = ScoresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["year"]
        scheme = AssessmentScheme.objects.filter(year=year).first()
        if scheme is None:
            raise ValidationError({"year": [_("%(year)d 年还没有考核方案。") % {"year": year}]})
        halls = Hall.objects.filter(user_scope(request.user).q())
        if "within" in query.validated_data:
            within = halls.filter(pk=query.validated_data["within"]).first()
            if within is None:
                raise NotFound(_("没有这个馆,或它不在您的管辖范围内。"))
            halls = halls.filter(subtree_q(within))
        page = self.paginate_queryset(halls.order_by("tree_id", "lft"))
        dimensions = list(scheme.dimensions.all())
        codes = {d.pk: d.code for d in dimensions}
        results = scoring.assessment_results_among_siblings(scheme, page, dimensions)
        rows = [
            {
                "hall": r.hall,
                "status": r.status,
                "points": {codes[pk]: points for pk, points in r.points.items()},
                "missing": [codes[pk] for pk in r.missing],
                "scaled": r.scaled,
                "total": r.total,
                "grade": r.grade,
                "grade_label": r.grade_label or None,
                "rank": r.rank,
            }
            for r in results
        ]
        return self.get_paginated_response(ScoreSerializer(rows, many=True).data)
