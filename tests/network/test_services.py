from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from network import services
from network.management.commands.check_tree import find_damage
from network.models import Hall, HallKind
from network.selectors import hall_subtree
from tests.conftest import need_postgres

pytestmark = pytest.mark.django_db


def test_kind_follows_depth_and_plaques_follow_the_seed_rule(cast):
    assert [cast.centre.kind, cast.county.kind, cast.branch.kind, cast.point.kind] == [
        HallKind.CENTRE,
        HallKind.MAIN,
        HallKind.BRANCH,
        HallKind.POINT,
    ]
    assert cast.county.plaque_name == "官渡区文化馆"
    assert cast.branch.plaque_name == "官渡区文化馆关上街道分馆"
    assert cast.point.plaque_name == "官渡区文化馆关上街道分馆关上一社区基层服务点"


def test_stored_ancestors_point_at_the_main_and_branch(cast):
    point = Hall.objects.get(pk=cast.point.pk)
    assert (point.main_hall_id, point.branch_hall_id) == (cast.county.pk, cast.branch.pk)
    county = Hall.objects.get(pk=cast.county.pk)
    assert (county.main_hall_id, county.branch_hall_id) == (cast.county.pk, None)


def test_a_point_under_a_point_is_refused_and_nothing_is_saved(cast):
    before = Hall.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.hall_create(parent=cast.point, name="不该存在", locality="某处")
    assert "parent" in exc.value.message_dict
    assert Hall.objects.count() == before


def test_a_duplicate_code_is_refused_with_a_field_error(cast):
    before = Hall.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.hall_create(
            parent=cast.branch, name="重复", locality="重复社区", code="530111001001"
        )
    assert "code" in exc.value.message_dict
    assert Hall.objects.count() == before


def test_halls_without_a_code_may_coexist(cast):
    a = services.hall_create(parent=cast.branch, name="甲", locality="甲社区", code="")
    b = services.hall_create(parent=cast.branch, name="乙", locality="乙社区")
    assert a.code is None and b.code is None


def test_renaming_a_branch_renames_the_plaques_below_it(cast):
    services.hall_update(hall=cast.branch, locality="关上新街道")
    assert Hall.objects.get(pk=cast.point.pk).plaque_name == (
        "官渡区文化馆关上新街道分馆关上一社区基层服务点"
    )


def test_moving_a_point_to_another_branch_updates_plaque_and_ancestors(cast):
    moved = services.hall_move(hall=cast.point, new_parent=cast.other_county_branch)
    assert moved.plaque_name == "五华区文化馆华山街道分馆关上一社区基层服务点"
    assert (moved.main_hall_id, moved.branch_hall_id) == (
        cast.other_county.pk,
        cast.other_county_branch.pk,
    )
    assert cast.point.pk in hall_subtree(Hall.objects.get(pk=cast.other_county.pk)).values_list(
        "pk", flat=True
    )
    assert find_damage() == []


def test_moving_a_branch_under_a_branch_is_refused(cast):
    with pytest.raises(ValidationError):
        services.hall_move(hall=cast.other_branch, new_parent=cast.branch)


def test_each_city_is_its_own_tree(cast):
    other_city = services.hall_create(parent=None, name="玉溪市文化馆", locality="玉溪市")
    assert other_city.tree_id != cast.centre.tree_id


@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_and_moves_keep_the_tree_whole():
    need_postgres()
    centre = services.hall_create(parent=None, name="昆明市文化馆", locality="昆明市")
    mains = [
        services.hall_create(parent=centre, name=f"县{i}", locality=f"县{i}") for i in range(3)
    ]
    branches = [
        services.hall_create(parent=m, name=f"{m.name}镇{j}", locality=f"镇{j}")
        for m in mains
        for j in range(2)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def insert(worker: int) -> None:
        try:
            barrier.wait()
            for k in range(10):
                services.hall_create(
                    parent=branches[(worker + k) % len(branches)],
                    name=f"村{worker}-{k}",
                    locality=f"村{worker}-{k}",
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def move(worker: int) -> None:
        try:
            barrier.wait()
            for k in range(6):
                services.hall_move(
                    hall=branches[(worker + k) % len(branches)],
                    new_parent=mains[(worker + k + 1) % len(mains)],
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=(w,)) for w in range(6)]
    threads += [threading.Thread(target=move, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connections.close_all()
    assert errors == []
    assert Hall.objects.filter(tree_id=centre.tree_id).count() == 1 + 3 + 6 + 60
    rows = list(
        Hall.objects.filter(tree_id=centre.tree_id).values_list("pk", "lft", "rght", "parent_id")
    )
    by_pk = {pk: (lft, rght) for pk, lft, rght, _p in rows}
    for _pk, lft, rght, parent_id in rows:
        assert lft < rght
        if parent_id:
            plft, prght = by_pk[parent_id]
            assert plft < lft and rght < prght
    numbers = [n for span in by_pk.values() for n in span]
    assert len(set(numbers)) == len(numbers)
    assert find_damage() == []


def _numbers(tree_id: int) -> dict[int, tuple[int, int]]:
    return {
        pk: (lft, rght)
        for pk, lft, rght in Hall.objects.filter(tree_id=tree_id).values_list("pk", "lft", "rght")
    }


def test_an_insert_into_a_branch_with_room_renumbers_no_other_hall(cast):
    before = _numbers(cast.centre.tree_id)

    point = services.hall_create(parent=cast.branch, name="新村", locality="新村")

    after = _numbers(cast.centre.tree_id)
    del after[point.pk]
    assert after == before
    branch = Hall.objects.get(pk=cast.branch.pk)
    assert branch.lft < point.lft < point.rght < branch.rght
    assert point.rght == point.lft + 1
    assert list(branch.get_children())[-1] == point
    assert find_damage() == []


def test_inserts_past_the_room_shift_the_rest_of_the_tree_and_leave_new_room(cast):
    room = services.TREE_ROOM[HallKind.BRANCH] // 2
    created = [
        services.hall_create(parent=cast.branch, name=f"村{i}", locality=f"村{i}")
        for i in range(room + 3)
    ]

    assert find_damage() == []
    branch = Hall.objects.get(pk=cast.branch.pk)
    children = list(branch.get_children())
    assert children[-len(created) :] == created  # in the order they were added
    assert hall_subtree(branch).count() == 1 + len(children)
    # The halls after the branch moved up, but stayed inside their own parents.
    county = Hall.objects.get(pk=cast.county.pk)
    assert county.lft < branch.lft < branch.rght < county.rght
    assert set(hall_subtree(county).values_list("pk", flat=True)) >= {
        cast.branch.pk,
        cast.other_branch.pk,
        *(h.pk for h in created),
    }


def test_a_new_branch_brings_room_for_its_points(cast):
    branch = services.hall_create(parent=cast.county, name="新镇", locality="新镇")
    assert branch.rght - branch.lft - 1 == services.TREE_ROOM[HallKind.BRANCH]
    before = _numbers(cast.centre.tree_id)

    point = services.hall_create(parent=branch, name="新镇一村", locality="新镇一村")

    after = _numbers(cast.centre.tree_id)
    del after[point.pk]
    assert after == before
    assert find_damage() == []


def test_moves_keep_the_tree_whole_with_room(cast):
    services.hall_create(parent=cast.branch, name="甲村", locality="甲村")
    services.hall_move(hall=cast.branch, new_parent=cast.other_county)
    services.hall_move(hall=cast.point, new_parent=cast.other_branch)
    services.hall_create(parent=cast.other_branch, name="乙村", locality="乙村")

    assert find_damage() == []
    moved = Hall.objects.get(pk=cast.point.pk)
    assert moved.parent_id == cast.other_branch.pk
    assert moved.main_hall_id == Hall.objects.get(pk=cast.other_branch.pk).main_hall_id


def _room(parent: Hall) -> int:
    parent = Hall.objects.get(pk=parent.pk)
    return parent.rght - list(parent.get_children())[-1].rght - 1


def test_a_moved_hall_lands_before_its_new_parents_room(cast):
    room = _room(cast.other_branch)
    assert room > 0

    services.hall_move(hall=cast.point, new_parent=cast.other_branch)

    parent = Hall.objects.get(pk=cast.other_branch.pk)
    assert list(parent.get_children())[-1].pk == cast.point.pk  # the last child, in tree order
    assert _room(parent) == room
    before = _numbers(cast.centre.tree_id)

    point = services.hall_create(parent=parent, name="丙村", locality="丙村")

    after = _numbers(cast.centre.tree_id)
    del after[point.pk]
    assert after == before  # the room was there: nothing renumbered
    assert find_damage() == []
