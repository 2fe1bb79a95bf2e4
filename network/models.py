"""The hall tree, and who works where.

One MPTT tree per city centre hall. A hall's kind is fixed by its depth; the database checks it.
Every write to the tree goes through ``network.services`` under a per-tree lock.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from . import naming


class HallKind(models.TextChoices):
    CENTRE = "centre", _("中心馆")
    MAIN = "main", _("总馆")
    BRANCH = "branch", _("分馆")
    POINT = "point", _("基层服务点")


KIND_BY_LEVEL = [HallKind.CENTRE, HallKind.MAIN, HallKind.BRANCH, HallKind.POINT]
LEVEL_BY_KIND = {kind: level for level, kind in enumerate(KIND_BY_LEVEL)}


class NamingScheme(models.Model):
    """A city tree's names: what each level is called (中心馆, 总馆, 分馆, 基层服务点 or 支馆) and
    its plaque pattern (统一标识, ``network.naming``). Each centre hall names its tree's scheme;
    a tree without one uses the default (``naming.DEFAULT_CODE``, Kunming's rule). The kind
    values of the database and the API (``HallKind``) stay the same under every scheme."""

    code = models.SlugField(
        _("代码"), max_length=40, unique=True, help_text=_("稳定的英文代码,如 kunming、chengjiang")
    )
    name = models.CharField(_("名称"), max_length=60)
    centre_name = models.CharField(_("第一级(市)名称"), max_length=20)
    main_name = models.CharField(_("第二级(县区)名称"), max_length=20)
    branch_name = models.CharField(_("第三级(乡镇街道)名称"), max_length=20)
    point_name = models.CharField(_("第四级(村社区)名称"), max_length=20)
    centre_plaque = models.CharField(_("第一级牌匾样式"), max_length=80)
    main_plaque = models.CharField(_("第二级牌匾样式"), max_length=80)
    branch_plaque = models.CharField(_("第三级牌匾样式"), max_length=80)
    point_plaque = models.CharField(_("第四级牌匾样式"), max_length=80)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("命名规则")
        verbose_name_plural = pgettext_lazy("复数", "命名规则")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> NamingScheme:
        """The default scheme's row; Kunming's rule as shipped (unsaved) if the row is gone."""
        found = cls.objects.filter(code=naming.DEFAULT_CODE).first()
        return found or cls(code=naming.DEFAULT_CODE, **naming.SHIPPED[naming.DEFAULT_CODE])

    @classmethod
    def for_tree(cls, tree_id: int) -> NamingScheme:
        root = (
            Hall.objects.filter(tree_id=tree_id, parent__isnull=True)
            .select_related("naming_scheme")
            .only("pk", "naming_scheme")
            .first()
        )
        if root is not None and root.naming_scheme is not None:
            return root.naming_scheme
        return cls.default()

    def level_name(self, kind: str) -> str:
        """The level's name as people read it: a name that is also a kind's label (基层服务点)
        shows in the interface's language, any other (支馆) as the scheme writes it."""
        return gettext(getattr(self, f"{kind}_name"))

    def level_names(self) -> dict[str, str]:
        return {kind: self.level_name(kind) for kind in KIND_BY_LEVEL}

    def parts(self, kind: str) -> naming.Parts:
        return naming.parse(getattr(self, f"{kind}_plaque"), LEVEL_BY_KIND[kind])

    def plaque(self, *, localities: list[str], parent_plaque: str | None) -> str:
        """The plaque of a hall whose place names from its centre down are ``localities``."""
        kind = KIND_BY_LEVEL[len(localities) - 1]
        return naming.render(self.parts(kind), naming.values_for(localities, parent_plaque))

    def clean(self) -> None:
        errors: dict[str, list] = {}
        for kind in KIND_BY_LEVEL:
            field = f"{kind}_plaque"
            pattern = getattr(self, field)
            if not pattern:
                continue  # the field's own "required" error says it
            try:
                naming.parse(pattern, LEVEL_BY_KIND[kind])
            except ValidationError as exc:
                errors[field] = exc.messages
        if errors:
            raise ValidationError(errors)


class HallStatus(models.TextChoices):
    OPEN = "open", _("开放")
    PLANNED = "planned", _("待建")
    CLOSED = "closed", _("关闭")


class Operator(models.TextChoices):
    GOVERNMENT = "government", _("政府主办")
    SCHOOL = "school", _("学校(社会力量)")
    ENTERPRISE = "enterprise", _("企业(社会力量)")
    RESEARCH = "research", _("科研机构(社会力量)")
    INTERNET_VENUE = "internet_venue", _("上网服务场所(社会力量)")
    SOCIAL_ORG = "social_org", _("社会组织(社会力量)")


phone_validator = RegexValidator(
    r"^[0-9+\-() ]{5,30}$", _("请填写有效的电话号码,只含数字、空格和 + - ( )。")
)


class Hall(MPTTModel):
    parent = TreeForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级馆"),
    )
    # Administrative division codes exist for most halls; several Kunming districts have none.
    # Unique through a constraint (see Meta), which unlike unique=True adds no second
    # pattern-matching index on PostgreSQL. NULL, not "", for "no code": many halls lack one
    # and NULLs do not collide under the unique constraint.
    code = models.CharField(  # noqa: DJ001
        _("编码"),
        max_length=32,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Za-z\-_.]+$", _("编码只能含字母、数字和 - _ ."))],
        help_text=_("行政区划代码;没有时留空"),
    )
    # Not indexed: search is a substring match, and every index costs each tree renumbering
    # (an insert that has used up its parent's room, network.services.TREE_ROOM, shifts the
    # lft/rght of every hall to its right, rewriting all their entries in every index of the
    # table). For the same reason the stored ancestors below are not indexed:
    # nothing looks halls up by them, roll-ups scan.
    name = models.CharField(_("名称"), max_length=120)
    locality = models.CharField(
        _("所在地名"),
        max_length=60,
        help_text=_("市、县(区)、乡镇(街道)或村(社区)名,用于生成统一标识,如 官渡区、关上街道"),
    )
    kind = models.CharField(_("层级"), max_length=10, choices=HallKind.choices, editable=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=HallStatus.choices, default=HallStatus.OPEN
    )
    operator = models.CharField(
        _("办馆主体"), max_length=20, choices=Operator.choices, default=Operator.GOVERNMENT
    )
    operator_name = models.CharField(
        _("社会力量名称"), max_length=120, blank=True, help_text=_("“1+1”模式中参与的社会力量")
    )
    # Derived from the ancestors by the seeds' rule (统一标识); kept in step by the services.
    plaque_name = models.CharField(_("统一标识牌匾"), max_length=255, editable=False)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # GCJ-02 (国测局坐标), the datum every map published in China uses: what staff read off
    # 高德 or 腾讯 maps. The navigation links pass it as such (network.navigation).
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("GCJ-02 坐标(在高德或腾讯地图上拾取)"),
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text=_("GCJ-02 坐标(在高德或腾讯地图上拾取)"),
    )
    phone = models.CharField(_("电话"), max_length=30, blank=True, validators=[phone_validator])
    # A note beside the structured weekly hours (OpeningHours), e.g. "暑期延长至 21:00".
    opening_hours = models.CharField(
        _("开放时间"),
        max_length=255,
        blank=True,
        help_text=_("补充说明,如 暑期延长开放;每周的开放时段在下方“每周开放时段”中填写"),
    )
    services = models.TextField(_("服务项目与内容"), blank=True, help_text=_("向群众公开的服务"))
    # Stored ancestors, so that roll-ups group by a column instead of joining tree ranges.
    main_hall = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
        verbose_name=_("所属总馆"),
    )
    branch_hall = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
        verbose_name=_("所属分馆"),
    )
    # The edition (year) of the statistical division codes that last created or changed this
    # hall; NULL for a hall staff created by hand, which an update of the codes never touches
    # (network.divisions). Its ``code`` is then the division code.
    division_year = models.PositiveSmallIntegerField(
        _("区划代码版本"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Declared here so django-mptt does not add a single-column index on it: the
    # (tree_id, lft) index below serves every lookup by tree.
    tree_id = models.PositiveIntegerField(editable=False)
    # Only a centre hall (a tree's root) names its tree's scheme; NULL there means the default.
    # Not indexed: the few reads by scheme look at roots, and an index costs every renumbering.
    naming_scheme = models.ForeignKey(
        NamingScheme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trees",
        editable=False,
        db_index=False,
        verbose_name=_("命名规则"),
    )

    # A hall's own fields: what a person enters, imports, exports or edits through the API.
    # Everything else is the tree's (numbers, kind, plaque, stored ancestors).
    OWN_FIELDS = (
        "code",
        "name",
        "locality",
        "status",
        "operator",
        "operator_name",
        "address",
        "latitude",
        "longitude",
        "phone",
        "opening_hours",
        "services",
    )

    class MPTTMeta:
        order_insertion_by = None

    class Meta:
        verbose_name = _("文化馆")
        verbose_name_plural = pgettext_lazy("复数", "文化馆")
        indexes = [models.Index(fields=["tree_id", "lft"], name="hall_tree_lft")]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="hall_code_unique"),
            models.CheckConstraint(
                condition=(
                    Q(level=0, kind=HallKind.CENTRE)
                    | Q(level=1, kind=HallKind.MAIN)
                    | Q(level=2, kind=HallKind.BRANCH)
                    | Q(level=3, kind=HallKind.POINT)
                ),
                name="hall_kind_matches_depth",
            ),
            models.CheckConstraint(
                condition=Q(naming_scheme__isnull=True) | Q(level=0),
                name="hall_scheme_only_on_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_name(self) -> str:
        """What this hall's level is called in its tree (支馆 in a 澄江 tree), once a selector
        has attached the tree's scheme (``network.selectors.attach_schemes``); the kind's own
        label otherwise."""
        scheme = getattr(self, "tree_scheme", None)
        return scheme.level_name(self.kind) if scheme is not None else self.get_kind_display()


def subtree_q(hall: Hall | int, *, through: str = "") -> Q:
    """The one subtree filter: rows whose hall lies in ``hall``'s subtree, ``hall`` included.

    ``through`` names the path from the filtered model to its hall (``"hall"``,
    ``"activity__hall"``; empty when filtering halls). Given a Hall, its tree numbers are used as
    they are; given an id, they are read by subqueries inside the same statement, so numbers held
    in memory can never go stale (every insert may renumber a tree).
    """
    prefix = f"{through}__" if through else ""
    if isinstance(hall, Hall):
        tree_id, lft, rght = hall.tree_id, hall.lft, hall.rght
    else:
        top = Hall.objects.filter(pk=hall)
        tree_id = models.Subquery(top.values("tree_id")[:1])
        lft = models.Subquery(top.values("lft")[:1])
        rght = models.Subquery(top.values("rght")[:1])
    return Q(**{f"{prefix}tree_id": tree_id, f"{prefix}lft__gte": lft, f"{prefix}rght__lte": rght})


def plaque_name_for(
    *, scheme: NamingScheme, localities: list[str], parent_plaque: str | None
) -> str:
    """The unified plaque (统一标识) of a hall, by its tree's ``scheme``: ``localities`` are the
    place names from the centre down to the hall itself, ``parent_plaque`` the parent's plaque."""
    return scheme.plaque(localities=localities, parent_plaque=parent_plaque)


def _ancestor_sources(row: str) -> dict[str, tuple[str, str]]:
    """For each placeholder that an ancestor fills: (its column, the SQL condition that makes
    the row aliased ``{x}`` that ancestor of the hall row aliased ``row``). Ancestors are read
    by key through the stored ancestors (``main_hall``, ``branch_hall``) and the tree's root (the
    one hall with ``lft`` 1: ``check_tree``)."""
    return {
        "parent": ("plaque_name", "{x}.id = " + f"{row}.parent_id"),
        "city": (
            "locality",
            "{x}.tree_id = " + f"{row}.tree_id AND " + "{x}.lft = 1 AND {x}.parent_id IS NULL",
        ),
        "county": ("locality", "{x}.id = " + f"{row}.main_hall_id"),
        "township": ("locality", "{x}.id = " + f"{row}.branch_hall_id"),
    }


def plaque_sql_joins(row: str) -> tuple[dict[str, str], str]:
    """Each placeholder as SQL over a hall row aliased ``row``: (columns, the LEFT JOINs of its
    ancestors to add after the row's FROM). The root is joined as ``up_city`` (its
    ``naming_scheme_id`` names the tree's scheme)."""
    table = Hall._meta.db_table
    columns, joins = {"locality": f"{row}.locality"}, []
    for name, (column, condition) in _ancestor_sources(row).items():
        alias = f"up_{name}"
        columns[name] = f"{alias}.{column}"
        joins.append(f"LEFT JOIN {table} {alias} ON {condition.format(x=alias)}")
    return columns, " ".join(joins)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("周一")
    TUESDAY = 1, _("周二")
    WEDNESDAY = 2, _("周三")
    THURSDAY = 3, _("周四")
    FRIDAY = 4, _("周五")
    SATURDAY = 5, _("周六")
    SUNDAY = 6, _("周日")
    # Public holidays (common.workdays) have their own row: a hall that keeps none is closed then.
    HOLIDAY = 7, _("法定节假日")


class OpeningHours(models.Model):
    """One opening range of a hall on a weekday (Beijing time); a day may have several (a
    morning and an evening). A range ends the day it starts: 21:00 closes, 00:30 is tomorrow's.
    A public holiday (``common.workdays``) keeps the ``HOLIDAY`` rows instead of its weekday's
    (none: closed); the hall's own closure dates are closed."""

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="weekly_hours", verbose_name=_("场馆")
    )
    weekday = models.PositiveSmallIntegerField(_("星期或节假日"), choices=Weekday.choices)
    opens = models.TimeField(_("开门"))
    closes = models.TimeField(_("闭馆"))

    class Meta:
        verbose_name = _("每周开放时段")
        verbose_name_plural = pgettext_lazy("复数", "每周开放时段")
        ordering = ["weekday", "opens"]
        indexes = [models.Index(fields=["hall", "weekday"], name="hours_hall_weekday")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="hours_close_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class HallClosure(models.Model):
    """A day a hall is closed although its weekly hours say open (maintenance, an election)."""

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="closures", verbose_name=_("场馆")
    )
    date = models.DateField(_("闭馆日期"))
    reason = models.CharField(_("原因"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("闭馆日")
        verbose_name_plural = pgettext_lazy("复数", "闭馆日")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "date"], name="closure_hall_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class Role(models.TextChoices):
    DIRECTOR = "director", _("馆长")
    DEPUTY = "deputy", _("业务副馆长")
    INSTRUCTOR = "instructor", _("文化指导员")
    STAFF = "staff", _("工作人员")
    VILLAGE_MANAGER = "village_manager", _("文化管理员")
    OFFICIAL = "official", _("文化和旅游局官员")


class Membership(models.Model):
    """A staff account's place in the network. Its scope is the subtree under ``hall``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("账号"),
    )
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("所在馆")
    )
    role = models.CharField(_("岗位"), max_length=20, choices=Role.choices)
    public_welfare_post = models.BooleanField(
        _("公益岗位"), default=False, help_text=_("村(社区)服务点的公益岗位")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人员岗位")
        verbose_name_plural = pgettext_lazy("复数", "人员岗位")
        constraints = [
            models.UniqueConstraint(fields=["user", "hall"], name="membership_user_hall_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.hall} · {self.get_role_display()}"


class AssignmentKind(models.TextChoices):
    INSTRUCTOR = "instructor", _("下派文化指导员(任分馆业务副馆长)")
    SECOND_UP = "second_up", _("上派(分馆人员到总馆挂职)")
    SECOND_DOWN = "second_down", _("下挂(总馆人员到分馆、服务点)")


class StaffAssignment(models.Model):
    """An instructor dispatched from a main hall to one of its branches, or a secondment
    (上派下挂) between a main hall and the halls below it, with its dates."""

    kind = models.CharField(_("类型"), max_length=20, choices=AssignmentKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_assignments",
        verbose_name=_("账号"),
        help_text=_("有平台账号时选择;没有时填写姓名"),
    )
    person_name = models.CharField(_("姓名"), max_length=60, blank=True)
    from_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("派出馆")
    )
    to_hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("接收馆")
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("仍在岗时留空"))
    note = models.CharField(_("备注"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人员派驻与挂职")
        verbose_name_plural = pgettext_lazy("复数", "人员派驻与挂职")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_kind_display()}"

    @property
    def person(self) -> str:
        if self.person_name:
            return self.person_name
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        return ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.user_id and not self.person_name.strip():
            errors["person_name"] = _("请选择账号或填写姓名。")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("结束日期不能早于开始日期。")
        if self.from_hall_id and self.to_hall_id and self.kind:
            errors.update(self._hall_errors())
        if errors:
            raise ValidationError(errors)

    def _hall_errors(self) -> dict[str, str]:
        source, target = self.from_hall, self.to_hall
        if self.kind == AssignmentKind.INSTRUCTOR:
            if source.kind != HallKind.MAIN:
                return {"from_hall": _("指导员由总馆下派,派出馆须是总馆。")}
            if target.kind != HallKind.BRANCH or target.main_hall_id != source.pk:
                return {"to_hall": _("接收馆须是“%(main)s”下的分馆。") % {"main": source}}
        elif self.kind == AssignmentKind.SECOND_UP:
            if source.kind not in (HallKind.BRANCH, HallKind.POINT):
                return {"from_hall": _("上派人员须来自分馆或基层服务点。")}
            if target.pk != source.main_hall_id:
                return {"to_hall": _("上派的接收馆须是派出馆所属的总馆。")}
        elif self.kind == AssignmentKind.SECOND_DOWN:
            if source.kind != HallKind.MAIN:
                return {"from_hall": _("下挂人员须来自总馆。")}
            if target.kind not in (HallKind.BRANCH, HallKind.POINT) or (
                target.main_hall_id != source.pk
            ):
                return {
                    "to_hall": _("接收馆须是“%(main)s”下的分馆或基层服务点。") % {"main": source}
                }
        return {}


def _positive_hours():
    return [MinValueValidator(Decimal("0.5"), _("学时至少为 0.5。"))]


class Training(models.Model):
    """A training (plan or course) a centre or main hall gives the staff below it (培训档案)."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("举办馆")
    )
    title = models.CharField(_("培训名称"), max_length=200)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    hours = models.DecimalField(
        _("学时"), max_digits=6, decimal_places=1, validators=_positive_hours()
    )
    teacher = models.CharField(_("授课教师"), max_length=100)
    content = models.TextField(_("培训计划与内容"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("培训档案")
        verbose_name_plural = pgettext_lazy("复数", "培训档案")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="training_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("结束日期不能早于开始日期。")
        if self.hall_id and self.hall.kind not in (HallKind.CENTRE, HallKind.MAIN):
            errors["hall"] = _("培训由中心馆或总馆举办,请选择中心馆或总馆。")
        if errors:
            raise ValidationError(errors)


class TrainingAttendance(models.Model):
    training = models.ForeignKey(
        Training, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("培训")
    )
    name = models.CharField(_("姓名"), max_length=60)
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在馆")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("账号"),
    )
    hours = models.DecimalField(
        _("参训学时"), max_digits=6, decimal_places=1, validators=_positive_hours()
    )

    class Meta:
        verbose_name = _("参训记录")
        verbose_name_plural = pgettext_lazy("复数", "参训记录")
        constraints = [
            models.UniqueConstraint(
                fields=["training", "name", "hall"], name="attendance_once_per_training"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.training}"

    def clean(self) -> None:
        if not self.training_id and not getattr(self, "training", None):
            return
        training = self.training
        errors: dict[str, str] = {}
        if self.hours is not None and training.hours is not None and self.hours > training.hours:
            errors["hours"] = _("参训学时不能超过培训总学时(%(hours)s)。") % {
                "hours": training.hours
            }
        if self.hall_id and training.hall_id:
            # Asked of the database: tree numbers held in memory go stale with every insert.
            inside = Hall.objects.filter(subtree_q(training.hall_id), pk=self.hall_id).exists()
            if not inside:
                errors["hall"] = _("参训人员须来自“%(hall)s”或其下级馆。") % {"hall": training.hall}
        if errors:
            raise ValidationError(errors)


class Volunteer(models.Model):
    """A cultural volunteer (文化志愿者) registered with the hall they serve."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="volunteers", verbose_name=_("服务馆")
    )
    name = models.CharField(_("姓名"), max_length=60)
    phone = models.CharField(_("电话"), max_length=30, validators=[phone_validator])
    skills = models.CharField(
        _("特长"), max_length=255, blank=True, help_text=_("如 声乐、舞蹈、书法")
    )
    registered_on = models.DateField(_("登记日期"), default=timezone.localdate)
    active = models.BooleanField(_("在册"), default=True)

    class Meta:
        verbose_name = _("文化志愿者")
        verbose_name_plural = pgettext_lazy("复数", "文化志愿者")
        ordering = ["-registered_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "phone"], name="volunteer_once_per_hall")
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A key another system sends as ``Authorization: Token <key>``; it acts as its account,
    with that account's scope. Only a SHA-256 digest of the key is kept: the key itself is shown
    once, when it is made. A revoked token stays, to show who revoked it and when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("账号"),
    )
    name = models.CharField(_("用途"), max_length=100, help_text=_("如 区图书馆预约系统"))
    prefix = models.CharField(_("令牌开头"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = pgettext_lazy("复数", "接口令牌")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
