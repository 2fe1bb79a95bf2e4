"""How a city tree names its halls: the plaque pattern (统一标识) of each level, as data.

A pattern is plain text with named placeholders, e.g. ``{parent}{locality}分馆``. Each
placeholder stands for a name the hall's own row or its ancestors give:

* ``{locality}`` the hall's own place name (所在地名);
* ``{parent}`` the parent's plaque;
* ``{city}``, ``{county}``, ``{township}`` the place names of the centre, main and branch halls
  above it (or of the hall itself at that level).

The seeds' two rules (docs: the Kunming/Yunnan text and the 澄江 text) are ``SHIPPED``; the data
migration copies them into ``NamingScheme`` rows. A pattern is parsed once into parts, and the
same parts render a plaque in Python (``render``) and in SQL (``sql``, used to recompute a level
in one statement and by ``check_tree``), so the two cannot drift apart.
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# name → (the first level that has it, what it stands for)
PLACEHOLDERS = {
    "locality": (0, gettext_lazy("本馆所在地名")),
    "parent": (1, gettext_lazy("上级馆的统一标识")),
    "city": (0, gettext_lazy("市(中心馆)所在地名")),
    "county": (1, gettext_lazy("县(区)(总馆)所在地名")),
    "township": (2, gettext_lazy("乡镇(街道)(分馆)所在地名")),
}
# The ancestor whose locality each place placeholder names, by level (0 = the centre).
PLACE_LEVEL = {"city": 0, "county": 1, "township": 2}

DEFAULT_CODE = "kunming"

# The seeds' wording, level by level (centre, main, branch, point):
# Kunming/Yunnan: "XX县(市)区文化馆XX乡镇(街道)分馆" and "XX县(市)区文化馆XX乡镇(街道)分馆XX村(社区)
# 基层服务点"; 澄江: "XX区(县)文化馆XX镇(街道)分馆" and "XX镇(街道)XXX村(社区)综合文化支馆" (the
# village's plaque names its township, not the county).
SHIPPED = {
    "kunming": {
        "name": "昆明市规则(基层服务点)",
        "centre_name": "中心馆",
        "main_name": "总馆",
        "branch_name": "分馆",
        "point_name": "基层服务点",
        "centre_plaque": "{locality}文化馆",
        "main_plaque": "{locality}文化馆",
        "branch_plaque": "{parent}{locality}分馆",
        "point_plaque": "{parent}{locality}基层服务点",
    },
    "chengjiang": {
        "name": "澄江县规则(综合文化支馆)",
        "centre_name": "中心馆",
        "main_name": "总馆",
        "branch_name": "分馆",
        "point_name": "支馆",
        "centre_plaque": "{locality}文化馆",
        "main_plaque": "{locality}文化馆",
        "branch_plaque": "{parent}{locality}分馆",
        "point_plaque": "{township}{locality}综合文化支馆",
    },
}

Parts = tuple[tuple[str, str | None], ...]  # (literal, placeholder or None)


def known_placeholders() -> str:
    return "、".join(f"{{{name}}}" for name in PLACEHOLDERS)


@lru_cache(maxsize=256)  # a pure function of its text; a bulk load asks it per hall
def parse(pattern: str, level: int) -> Parts:
    """The parts of ``pattern`` for a hall at ``level``; raises ``ValidationError`` naming
    what is wrong (an unknown placeholder, one this level has not, a stray brace)."""
    try:
        pieces = list(Formatter().parse(pattern))
    except ValueError:
        raise ValidationError(
            _("花括号不成对:占位符写作 {locality} 这样的形式,文字中不能单独出现 { 或 }。")
        ) from None
    errors, parts, names = [], [], set()
    for literal, name, spec, conversion in pieces:
        if name is None:
            parts.append((literal, None))
            continue
        if name not in PLACEHOLDERS:
            errors.append(
                _("未知的占位符“{%(name)s}”;可用的有 %(known)s。")
                % {"name": name, "known": known_placeholders()}
            )
        elif PLACEHOLDERS[name][0] > level:
            errors.append(
                _("这一级没有“{%(name)s}”(%(meaning)s),它只能用于更低的层级。")
                % {"name": name, "meaning": PLACEHOLDERS[name][1]}
            )
        elif spec or conversion:
            errors.append(_("占位符“{%(name)s}”后不能带 ! 或 :。") % {"name": name})
        parts.append((literal, name))
        names.add(name)
    if not errors and "locality" not in names:
        errors.append(_("须包含 {locality}(本馆所在地名),否则同级各馆的牌匾会相同。"))
    if errors:
        raise ValidationError(errors)
    return tuple(parts)


def render(parts: Parts, values: dict[str, str]) -> str:
    return "".join(literal + (values[name] if name else "") for literal, name in parts)


def sql(parts: Parts, columns: dict[str, str]) -> tuple[str, list[str]]:
    """``parts`` as an SQL concatenation: literals as parameters, placeholders as the
    expressions ``columns`` gives for them."""
    pieces, params = [], []
    for literal, name in parts:
        if literal:
            pieces.append("%s")
            params.append(literal)
        if name:
            pieces.append(columns[name])
    return " || ".join(pieces) or "''", params


def values_for(localities: list[str], parent_plaque: str | None) -> dict[str, str]:
    """The placeholders' values for a hall whose chain of place names, from its centre down to
    itself, is ``localities``."""
    values = {"locality": localities[-1], "parent": parent_plaque or ""}
    for name, level in PLACE_LEVEL.items():
        if level < len(localities):
            values[name] = localities[level]
    return values
