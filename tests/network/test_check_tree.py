from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from network.models import Hall

pytestmark = pytest.mark.django_db


def damage(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("hall", Hall._meta.db_table, 1), params)


def tree(cast) -> dict[str, Hall]:
    return {
        name: Hall.objects.get(pk=getattr(cast, name).pk)
        for name in vars(cast)
        if isinstance(getattr(cast, name), Hall)
    }


def check_fails(capsys) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("check_tree")
    assert "馆树已损坏" in str(exc.value)
    return capsys.readouterr().out


def test_a_healthy_network_passes(cast, capsys):
    call_command("check_tree")

    out = capsys.readouterr().out
    assert "检查了 1 棵树、10 个馆" in out
    assert "全部完好" in out


def test_an_empty_database_passes(db, capsys):
    call_command("check_tree")

    assert "检查了 0 棵树、0 个馆" in capsys.readouterr().out


def test_a_right_number_not_above_the_left_is_found(cast, capsys):
    damage("UPDATE hall SET rght = lft WHERE id = %s", cast.point.pk)

    out = check_fails(capsys)

    assert "左值应小于右值" in out
    assert f"“关上一社区服务中心”(编号 {cast.point.pk},编码 530111001001)" in out


def test_free_numbers_are_room_not_damage(cast, capsys):
    damage("UPDATE hall SET rght = rght + 100 WHERE parent_id IS NULL")

    call_command("check_tree")

    assert "全部完好" in capsys.readouterr().out


def test_a_point_with_room_is_found(cast, capsys):
    damage("UPDATE hall SET rght = lft + 3 WHERE id = %s", cast.point.pk)

    out = check_fails(capsys)

    assert "基层服务点的右值应为左值加一" in out


def test_a_duplicate_number_is_found(cast, capsys):
    halls = tree(cast)
    damage("UPDATE hall SET lft = %s WHERE id = %s", halls["point"].lft, halls["point2"].pk)

    out = check_fails(capsys)

    assert "左右值与同一棵树中的其他馆重复" in out


def test_a_child_outside_its_parent_is_found(cast, capsys):
    halls = tree(cast)
    # Swap the numbers of two points of different counties: each now lies outside its parent.
    a, b = halls["point"], halls["other_county_point"]
    damage("UPDATE hall SET lft = %s, rght = %s WHERE id = %s", b.lft, b.rght, a.pk)
    damage("UPDATE hall SET lft = %s, rght = %s WHERE id = %s", a.lft, a.rght, b.pk)

    out = check_fails(capsys)

    assert "左右值应落在上级馆的左右值之内" in out
    assert "“关上一社区服务中心”" in out and "“华山一社区服务中心”" in out


def test_overlapping_siblings_are_found_even_when_every_number_is_unique(cast, capsys):
    halls = tree(cast)
    a, b = halls["point"], halls["point2"]
    assert b.lft == a.rght + 1
    damage("UPDATE hall SET rght = %s WHERE id = %s", b.lft, a.pk)
    damage("UPDATE hall SET lft = %s WHERE id = %s", a.rght, b.pk)

    out = check_fails(capsys)

    assert "同级馆的左右值不应交叠" in out
    assert "左右值应落在上级馆的左右值之内" not in out


def test_a_wrong_level_is_found(cast, capsys):
    damage("UPDATE hall SET level = 3, kind = 'point' WHERE id = %s", cast.other_county_branch.pk)

    out = check_fails(capsys)

    assert "层级应为上级馆的层级加一" in out
    assert "“华山街道综合文化站”" in out


def test_a_hall_in_another_tree_than_its_parent_is_found(cast, capsys):
    damage("UPDATE hall SET tree_id = 99 WHERE id = %s", cast.point.pk)

    out = check_fails(capsys)

    assert "应与上级馆在同一棵树中" in out
    assert "每棵树应恰有一个根(中心馆)" in out  # tree 99 has no root


def test_wrong_stored_ancestors_are_found(cast, capsys):
    damage("UPDATE hall SET main_hall_id = %s WHERE id = %s", cast.other_county.pk, cast.point.pk)
    damage("UPDATE hall SET branch_hall_id = NULL WHERE id = %s", cast.point2.pk)

    out = check_fails(capsys)

    assert "所属总馆、所属分馆应与上级链一致" in out
    assert f"所属总馆 {cast.other_county.pk}(应为 {cast.county.pk})" in out
    assert f"所属分馆 —(应为 {cast.branch.pk})" in out


def test_a_plaque_out_of_step_with_its_parent_is_found(cast, capsys):
    damage("UPDATE hall SET locality = '新关上街道' WHERE id = %s", cast.branch.pk)
    damage("UPDATE hall SET plaque_name = '随便写的' WHERE id = %s", cast.other_branch_point.pk)

    out = check_fails(capsys)

    assert "统一标识牌匾应按本树的命名规则,由上级馆的牌匾和所在地名生成" in out
    assert "现为“官渡区文化馆关上街道分馆”,应为“官渡区文化馆新关上街道分馆”" in out
    assert "现为“随便写的”" in out


def test_an_odd_width_is_found(cast, capsys):
    # An odd shift of one hall's right number: its width is no longer what django-mptt's moves
    # compute from rght - lft.
    damage("UPDATE hall SET rght = rght + 1 WHERE parent_id IS NULL")

    out = check_fails(capsys)

    assert "左值加层级应为奇数,右值加层级应为偶数" in out
