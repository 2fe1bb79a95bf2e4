from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from network import services
from network.bulk import NetworkShape, NewHall, bulk_load, national_network
from network.models import Hall, HallKind

pytestmark = pytest.mark.django_db

SMALL = {"cities": 3, "counties_per_city": 2, "townships_per_county": 3, "points_per_township": 4}


def snapshot(**filters) -> list[dict]:
    return list(Hall.objects.filter(**filters).order_by("pk").values())


def test_generate_network_adds_whole_trees_that_pass_the_check_and_leaves_others_alone(
    cast, capsys
):
    before = snapshot()
    shape = NetworkShape(**SMALL, seed=7)
    expected = sum(city.size() for city in national_network(shape))

    call_command("generate_network", **SMALL, seed=7)

    assert f"已生成 3 棵树、{expected} 个馆" in capsys.readouterr().out
    assert snapshot(pk__in=[h["id"] for h in before]) == before
    new = Hall.objects.filter(code__startswith="G7-")
    assert new.count() == expected == Hall.objects.count() - len(before)
    assert sorted(set(new.values_list("tree_id", flat=True))) == [2, 3, 4]
    call_command("check_tree")
    assert "全部完好" in capsys.readouterr().out


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    def names(seed):
        shape = NetworkShape(**SMALL, seed=seed)
        return [(c.code, c.name, [k.name for k in c.children]) for c in national_network(shape)]

    assert names(1) == names(1)
    assert names(1) != names(2)
    # A city does not depend on how many cities come before or after it.
    first = next(national_network(NetworkShape(**{**SMALL, "cities": 1}, seed=1)))
    assert first.name == names(1)[0][1]


def test_a_loaded_point_knows_its_main_hall_branch_and_plaque(db):
    result = bulk_load(national_network(NetworkShape(**SMALL, seed=3)))

    point = Hall.objects.filter(kind=HallKind.POINT).order_by("pk").first()
    branch = Hall.objects.get(pk=point.parent_id)
    main = Hall.objects.get(pk=branch.parent_id)
    assert (point.main_hall_id, point.branch_hall_id) == (main.pk, branch.pk)
    assert (branch.main_hall_id, branch.branch_hall_id) == (main.pk, branch.pk)
    assert (
        point.plaque_name == f"{main.locality}文化馆{branch.locality}分馆{point.locality}基层服务点"
    )
    assert result.halls == Hall.objects.count()
    assert result.by_kind[HallKind.CENTRE] == 3


def test_a_seed_already_loaded_is_refused(db):
    call_command("generate_network", **SMALL, seed=5)
    count = Hall.objects.count()

    with pytest.raises(CommandError, match="已有 --seed 5 生成的网络"):
        call_command("generate_network", **SMALL, seed=5)

    assert Hall.objects.count() == count


def test_the_services_keep_working_on_a_loaded_tree(db, capsys):
    bulk_load(national_network(NetworkShape(**SMALL, seed=1)))
    loaded_max = max(Hall.objects.values_list("pk", flat=True))
    branch = Hall.objects.filter(kind=HallKind.BRANCH).order_by("pk")[1]

    point = services.hall_create(parent=branch, name="新服务点", locality="新村", code="X-1")
    centre = services.hall_create(parent=None, name="新市文化馆", locality="新市")
    services.hall_move(hall=point, new_parent=Hall.objects.filter(kind=HallKind.BRANCH).first())

    assert centre.tree_id == 4
    assert point.pk > loaded_max
    call_command("check_tree")
    assert "全部完好" in capsys.readouterr().out


def test_text_survives_the_load_exactly(db):
    odd = "一\t二\n三\\四\r五 \\N"
    root = NewHall(
        name="特殊市文化馆",
        locality="特殊市",
        services=odd,
        latitude=Decimal("25.123456"),
        children=[NewHall(name="县馆", locality="某县", code=None, address=odd)],
    )

    bulk_load([root])

    centre = Hall.objects.get(name="特殊市文化馆")
    assert (centre.services, centre.latitude, centre.code) == (odd, Decimal("25.123456"), None)
    assert Hall.objects.get(name="县馆").address == odd


def test_a_tree_deeper_than_four_levels_is_refused_and_nothing_is_written(db):
    point = NewHall(name="点", locality="村", children=[NewHall(name="再下", locality="组")])
    root = NewHall(
        name="市馆",
        locality="市",
        children=[
            NewHall(name="县", locality="县", children=[NewHall("站", "镇", children=[point])])
        ],
    )

    with pytest.raises(ValueError, match="a point is the last level"):
        bulk_load([NewHall(name="好市", locality="好市"), root], batch_rows=1)

    assert not Hall.objects.exists()
