"""Check every hall tree in SQL, so that it takes seconds on the national network (640k rows).

The rules below pin down a valid nested set with room (``network.services.TREE_ROOM``): a root
starts at 1, every hall's ``lft`` is below its ``rght``, a hall lies strictly inside its parent's
range, siblings' ranges do not overlap, no number is used twice in a tree, a point (a leaf that
keeps no room) spans two numbers, and ``lft + level`` is odd and ``rght + level`` even, as in a
dense numbering (room comes in pairs of numbers, which keeps each width what django-mptt expects). Free numbers between siblings and below a parent's ``rght`` are
the room that inserts use, not damage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from network import naming
from network.models import (
    KIND_BY_LEVEL,
    Hall,
    NamingScheme,
    plaque_sql_joins,
)

H = Hall._meta.db_table
# A tree-wide finding names the tree's root, or any hall of a tree that lost it.
ROOT = "COALESCE(MIN(CASE WHEN parent_id IS NULL THEN id END), MIN(id))"


@dataclass(frozen=True)
class Check:
    title: str
    sql: str  # selects the hall's id, then the values that ``detail`` shows
    detail: str
    params: tuple = ()


def _kind_case(column: str) -> str:
    whens = " ".join(f"WHEN {level} THEN '{kind}'" for level, kind in enumerate(KIND_BY_LEVEL))
    return f"CASE {column} {whens} END"


def _plaque_check() -> tuple[str, tuple]:
    """The SQL twin of ``plaque_name_for``: each hall's plaque as its tree's naming scheme gives
    it, from the same parsed patterns (``network.naming.sql``) that the services' renaming
    runs. A tree whose root names no scheme is checked against the default."""
    schemes = list(NamingScheme.objects.all())
    default = NamingScheme.default()
    if default.pk is None:
        schemes.append(default)  # the shipped default, its row gone: key 0 below
    columns, joins = plaque_sql_joins("c")
    whens, params = [], []
    for scheme in schemes:
        for kind in KIND_BY_LEVEL:
            try:
                expr, expr_params = naming.sql(scheme.parts(kind), columns)
            except ValidationError:
                continue  # a pattern that no longer parses: every hall it names is reported
            whens.append(
                f"WHEN COALESCE(up_city.naming_scheme_id, %s) = %s AND c.kind = '{kind}' "
                f"THEN {expr}"
            )
            params.extend([default.pk or 0, scheme.pk or 0, *expr_params])
    want = f"CASE {' '.join(whens)} END" if whens else "NULL"
    sql = f"""SELECT id, plaque_name, want FROM (
            SELECT c.id, c.plaque_name, {want} AS want FROM {H} c {joins}
        ) y WHERE plaque_name <> COALESCE(want, '')"""
    return sql, tuple(params)


def checks() -> list[Check]:
    plaque_sql, plaque_params = _plaque_check()
    return [
        Check(
            _("每棵树应恰有一个根(中心馆)"),
            f"""SELECT {ROOT}, tree_id, SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END)
                FROM {H} GROUP BY tree_id
                HAVING SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END) <> 1""",
            _("第 {0} 棵树有 {1} 个根"),
        ),
        Check(
            _("左值应小于右值"),
            f"SELECT id, lft, rght FROM {H} WHERE lft >= rght",
            _("左值 {0},右值 {1}"),
        ),
        Check(
            _("左右值与同一棵树中的其他馆重复"),
            f"""SELECT MIN(id), tree_id, v, COUNT(*) FROM (
                    SELECT id, tree_id, lft AS v FROM {H}
                    UNION ALL SELECT id, tree_id, rght AS v FROM {H}
                ) n GROUP BY tree_id, v HAVING COUNT(*) > 1""",
            _("第 {0} 棵树中左右值 {1} 出现了 {2} 次"),
        ),
        Check(
            _("根应从 1 开始,层级为 0"),
            f"SELECT id, lft, level FROM {H} WHERE parent_id IS NULL AND (lft <> 1 OR level <> 0)",
            _("左值 {0},层级 {1}"),
        ),
        Check(
            _("应与上级馆在同一棵树中"),
            f"""SELECT c.id, c.tree_id, p.tree_id FROM {H} c JOIN {H} p ON p.id = c.parent_id
                WHERE c.tree_id <> p.tree_id""",
            _("在第 {0} 棵树,上级馆在第 {1} 棵树"),
        ),
        Check(
            _("左右值应落在上级馆的左右值之内"),
            f"""SELECT c.id, c.lft, c.rght, p.lft, p.rght FROM {H} c JOIN {H} p ON p.id = c.parent_id
                WHERE c.tree_id = p.tree_id AND (c.lft <= p.lft OR c.rght >= p.rght)""",
            _("左右值 {0}–{1},上级馆 {2}–{3}"),
        ),
        Check(
            _("层级应为上级馆的层级加一"),
            f"""SELECT c.id, c.level, p.level FROM {H} c JOIN {H} p ON p.id = c.parent_id
                WHERE c.level <> p.level + 1""",
            _("层级 {0},上级馆层级 {1}"),
        ),
        Check(
            _("类别应与层级相符"),
            f"SELECT id, kind, level FROM {H} WHERE kind <> COALESCE({_kind_case('level')}, '')",
            _("类别 {0},层级 {1}"),
        ),
        Check(
            _("同级馆的左右值不应交叠"),
            f"""SELECT c.id, c.lft, c.rght, c.prev_rght FROM (
                    SELECT id, lft, rght,
                        LAG(rght) OVER (PARTITION BY parent_id ORDER BY lft) AS prev_rght
                    FROM {H} WHERE parent_id IS NOT NULL
                ) c WHERE c.lft <= c.prev_rght""",
            _("左右值 {0}–{1},前一个同级馆的右值 {2}"),
        ),
        Check(
            # Room is kept in pairs of numbers, so a hall's width stays even; django-mptt's moves
            # compute a subtree's width from rght - lft and rely on it.
            _("左值加层级应为奇数,右值加层级应为偶数"),
            f"SELECT id, lft, rght, level FROM {H} WHERE (lft + level) %% 2 = 0 OR (rght + level) %% 2 = 1",
            _("左右值 {0}–{1},层级 {2}"),
        ),
        Check(
            _("基层服务点的右值应为左值加一"),
            f"SELECT id, lft, rght FROM {H} WHERE kind = 'point' AND rght <> lft + 1",
            _("左右值 {0}–{1}"),
        ),
        Check(
            _("所属总馆、所属分馆应与上级链一致"),
            f"""SELECT id, main_hall_id, want_main, branch_hall_id, want_branch FROM (
                    SELECT c.id, c.main_hall_id, c.branch_hall_id,
                        CASE c.kind WHEN 'main' THEN c.id WHEN 'branch' THEN p.id
                            WHEN 'point' THEN p.parent_id END AS want_main,
                        CASE c.kind WHEN 'branch' THEN c.id WHEN 'point' THEN p.id
                            END AS want_branch
                    FROM {H} c LEFT JOIN {H} p ON p.id = c.parent_id
                ) x
                WHERE COALESCE(main_hall_id, 0) <> COALESCE(want_main, 0)
                   OR COALESCE(branch_hall_id, 0) <> COALESCE(want_branch, 0)""",
            _("所属总馆 {0}(应为 {1}),所属分馆 {2}(应为 {3})"),
        ),
        Check(
            _("统一标识牌匾应按本树的命名规则,由上级馆的牌匾和所在地名生成"),
            plaque_sql,
            _("现为“{0}”,应为“{1}”"),
            plaque_params,
        ),
    ]


@dataclass
class Finding:
    check: Check
    count: int
    rows: list[tuple]


def find_damage(*, limit: int = 20) -> list[Finding]:
    """Every check that fails, with its first ``limit`` rows (the hall id first)."""
    findings = []
    with connection.cursor() as cursor:
        for check in checks():
            cursor.execute(f"{check.sql} ORDER BY 1 LIMIT {int(limit) + 1}", check.params)
            rows = cursor.fetchall()
            if not rows:
                continue
            count = len(rows)
            if count > limit:
                cursor.execute(f"SELECT COUNT(*) FROM ({check.sql}) x", check.params)
                count = cursor.fetchone()[0]
            findings.append(Finding(check, count, rows[:limit]))
    return findings


class Command(BaseCommand):
    help = "检查每一棵馆树的完整性(左右值、层级、类别、所属总馆/分馆、统一标识),有损坏时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="每类问题最多列出几个馆")

    def handle(self, *args, **options):
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(DISTINCT tree_id), COUNT(*) FROM {H}")
            trees, halls = cursor.fetchone()
        findings = find_damage(limit=options["limit"])
        seconds = time.monotonic() - started
        summary = _("检查了 %(trees)s 棵树、%(halls)s 个馆,用时 %(seconds).1f 秒。") % {
            "trees": trees,
            "halls": halls,
            "seconds": seconds,
        }
        if not findings:
            self.stdout.write(self.style.SUCCESS(summary + _("全部完好。")))
            return
        names = dict(
            (pk, (name, code))
            for pk, name, code in Hall.objects.filter(
                pk__in={row[0] for f in findings for row in f.rows}
            ).values_list("pk", "name", "code")
        )
        self.stdout.write(summary)
        total = 0
        for finding in findings:
            total += finding.count
            self.stdout.write(
                self.style.ERROR(
                    _("✗ %(title)s:%(count)s 处")
                    % {"title": finding.check.title, "count": finding.count}
                )
            )
            for pk, *details in finding.rows:
                name, code = names.get(pk, ("?", None))
                self.stdout.write(
                    "    "
                    + _("“%(name)s”(编号 %(id)s,编码 %(code)s):%(details)s")
                    % {
                        "name": name,
                        "id": pk,
                        "code": code or _("无"),
                        "details": finding.check.detail.format(
                            *("—" if d is None else d for d in details)
                        ),
                    }
                )
            if finding.count > len(finding.rows):
                self.stdout.write(
                    "    " + _("……另有 %(n)s 处未列出") % {"n": finding.count - len(finding.rows)}
                )
        raise CommandError(_("馆树已损坏:%(n)s 处问题,见上。") % {"n": total})
