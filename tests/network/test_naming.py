"""Naming schemes: the plaque pattern and level names of each city tree, as data.

The seeds' wording (统一标识), level by level:
- Kunming/Yunnan: "XX县(市)区文化馆XX乡镇(街道)分馆"; "XX县(市)区文化馆XX乡镇(街道)分馆XX村(社区)基层服务点".
- 澄江: "XX区(县)文化馆XX镇(街道)分馆"; "XX镇(街道)XXX村(社区)综合文化支馆".
"""

from __future__ import annotations

import csv
import importlib
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from network import naming, services
from network.bulk import NewHall, bulk_load
from network.exchange import export_network, import_network
from network.models import Hall, NamingScheme, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def chengjiang(db):
    # get_or_create: a transactional test elsewhere may have flushed the migration's rows.
    scheme, _created = NamingScheme.objects.get_or_create(
        code="chengjiang", defaults=naming.SHIPPED["chengjiang"]
    )
    return scheme


def yuxi_tree(scheme=None, *, villages=("旧城村", "禄充村")):
    """玉溪市 → 澄江县 → 右所镇 (with ``villages``) and 龙街街道 (one community)."""
    create = services.hall_create
    centre = create(parent=None, name="玉溪市文化馆", locality="玉溪市", naming_scheme=scheme)
    county = create(parent=centre, name="澄江县文化馆", locality="澄江县")
    town = create(parent=county, name="右所镇综合文化站", locality="右所镇")
    points = [create(parent=town, name=f"{v}综合文化室", locality=v) for v in villages]
    street = create(parent=county, name="龙街街道综合文化站", locality="龙街街道")
    community = create(parent=street, name="龙街社区综合文化室", locality="龙街社区")
    return SimpleNamespace(
        centre=centre, county=county, town=town, points=points, street=street, community=community
    )


def fresh(hall: Hall) -> Hall:
    return Hall.objects.get(pk=hall.pk)


# --- the two shipped schemes -----------------------------------------------------------------


def test_kunmings_scheme_gives_the_seeds_wording_at_every_level(cast):
    assert fresh(cast.centre).plaque_name == "昆明市文化馆"
    assert fresh(cast.county).plaque_name == "官渡区文化馆"
    assert fresh(cast.branch).plaque_name == "官渡区文化馆关上街道分馆"
    assert fresh(cast.point).plaque_name == "官渡区文化馆关上街道分馆关上一社区基层服务点"
    assert fresh(cast.centre).naming_scheme.code == "kunming"
    assert NamingScheme.for_tree(cast.centre.tree_id).level_names() == {
        "centre": "中心馆",
        "main": "总馆",
        "branch": "分馆",
        "point": "基层服务点",
    }


def test_chengjiangs_scheme_gives_the_seeds_wording_at_every_level(chengjiang):
    tree = yuxi_tree(chengjiang)

    assert fresh(tree.centre).plaque_name == "玉溪市文化馆"
    assert fresh(tree.county).plaque_name == "澄江县文化馆"
    # "XX区(县)文化馆XX镇(街道)分馆"
    assert fresh(tree.town).plaque_name == "澄江县文化馆右所镇分馆"
    assert fresh(tree.street).plaque_name == "澄江县文化馆龙街街道分馆"
    # "XX镇(街道)XXX村(社区)综合文化支馆": the township's name, not the county's.
    assert fresh(tree.points[0]).plaque_name == "右所镇旧城村综合文化支馆"
    assert fresh(tree.community).plaque_name == "龙街街道龙街社区综合文化支馆"
    assert chengjiang.level_name("point") == "支馆"
    call_command("check_tree")


def test_the_migration_ships_the_same_two_schemes():
    migration = importlib.import_module("network.migrations.0009_naming_schemes")
    assert migration.SHIPPED == naming.SHIPPED
    assert naming.DEFAULT_CODE == "kunming"


def test_a_tree_without_a_scheme_uses_the_default(cast):
    Hall.objects.filter(pk=cast.centre.pk).update(naming_scheme=None)
    assert NamingScheme.for_tree(cast.centre.tree_id).code == "kunming"
    hall = services.hall_create(parent=cast.branch, name="关上三社区", locality="关上三社区")
    assert hall.plaque_name == "官渡区文化馆关上街道分馆关上三社区基层服务点"
    call_command("check_tree")


# --- switching and editing -------------------------------------------------------------------


def test_switching_a_tree_to_chengjiang_renames_its_points_and_only_that_tree(cast, chengjiang):
    tree = yuxi_tree()  # the default: Kunming's rule
    assert fresh(tree.points[0]).plaque_name == "澄江县文化馆右所镇分馆旧城村基层服务点"
    kunming_before = dict(
        Hall.objects.filter(tree_id=cast.centre.tree_id).values_list("pk", "plaque_name")
    )

    services.tree_scheme_set(centre=tree.centre, scheme=chengjiang)

    assert fresh(tree.points[0]).plaque_name == "右所镇旧城村综合文化支馆"
    assert fresh(tree.points[1]).plaque_name == "右所镇禄充村综合文化支馆"
    assert fresh(tree.town).plaque_name == "澄江县文化馆右所镇分馆"
    assert fresh(tree.centre).naming_scheme == chengjiang
    kunming_after = dict(
        Hall.objects.filter(tree_id=cast.centre.tree_id).values_list("pk", "plaque_name")
    )
    assert kunming_after == kunming_before
    call_command("check_tree")


def test_switching_back_restores_kunmings_plaques(chengjiang):
    tree = yuxi_tree(chengjiang)
    services.tree_scheme_set(centre=tree.centre, scheme=NamingScheme.objects.get(code="kunming"))
    assert fresh(tree.community).plaque_name == "澄江县文化馆龙街街道分馆龙街社区基层服务点"


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def test_renaming_a_tree_takes_the_same_queries_for_2_or_40_points(chengjiang):
    kunming = NamingScheme.objects.get(code="kunming")
    small = yuxi_tree(villages=["一村", "二村"])
    big = yuxi_tree(villages=[f"{n}村" for n in range(40)])
    # The savepoint, the centre's lookup, the scheme's, the root's save, one UPDATE per level,
    # the re-read, the release (and the tree's lock on PostgreSQL).
    expected = 10 + (1 if connection.vendor == "postgresql" else 0)
    assert (
        _queries(lambda: services.tree_scheme_set(centre=small.centre, scheme=chengjiang))
        == expected
    )
    assert (
        _queries(lambda: services.tree_scheme_set(centre=big.centre, scheme=chengjiang)) == expected
    )
    assert _queries(lambda: services.tree_scheme_set(centre=big.centre, scheme=kunming)) == expected
    assert fresh(big.points[39]).plaque_name.endswith("39村基层服务点")


def test_editing_a_scheme_renames_every_tree_that_uses_it_and_no_other(cast, chengjiang):
    first = yuxi_tree(chengjiang)
    second = yuxi_tree(chengjiang, villages=[f"{n}村" for n in range(30)])
    kunming_before = dict(
        Hall.objects.filter(tree_id=cast.centre.tree_id).values_list("pk", "plaque_name")
    )

    with CaptureQueriesContext(connection) as ctx:
        services.naming_scheme_update(
            scheme=chengjiang, point_plaque="{county}{township}{locality}综合文化支馆"
        )

    assert fresh(first.points[0]).plaque_name == "澄江县右所镇旧城村综合文化支馆"
    assert fresh(second.points[29]).plaque_name == "澄江县右所镇29村综合文化支馆"
    kunming_after = dict(
        Hall.objects.filter(tree_id=cast.centre.tree_id).values_list("pk", "plaque_name")
    )
    assert kunming_after == kunming_before
    # Per level, not per hall or tree: the savepoint, the read, the code's uniqueness check,
    # the save, the trees (before and under the locks), one UPDATE per level, the release; on
    # PostgreSQL also one statement that takes the trees' locks.
    assert len(ctx.captured_queries) == 11 + (1 if connection.vendor == "postgresql" else 0)
    call_command("check_tree")


def test_renaming_a_township_renames_its_villages_by_the_trees_scheme(chengjiang):
    tree = yuxi_tree(chengjiang)
    services.hall_update(hall=tree.town, locality="右所镇(新)")
    assert fresh(tree.points[0]).plaque_name == "右所镇(新)旧城村综合文化支馆"
    services.hall_move(hall=tree.points[1], new_parent=tree.street)
    assert fresh(tree.points[1]).plaque_name == "龙街街道禄充村综合文化支馆"
    call_command("check_tree")


# --- bad patterns ----------------------------------------------------------------------------

FIELDS = {key: value for key, value in naming.SHIPPED["kunming"].items() if key != "name"}


@pytest.mark.parametrize(
    "field, pattern, words",
    [
        ("point_plaque", "{village}{locality}支馆", ["{village}", "{locality}"]),
        ("main_plaque", "{township}{locality}文化馆", ["{township}"]),
        ("centre_plaque", "{parent}{locality}文化馆", ["{parent}"]),
        ("branch_plaque", "{parent}{locality分馆", ["花括号不成对"]),
        ("branch_plaque", "{parent}分馆", ["{locality}"]),
        ("point_plaque", "{locality!r}支馆", ["! 或 :"]),
        ("point_plaque", "{0}{locality}", ["{0}"]),
    ],
)
def test_a_bad_pattern_is_refused_with_an_error_naming_it(db, field, pattern, words):
    with pytest.raises(ValidationError) as exc:
        services.naming_scheme_create(code="bad", name="坏规则", **{**FIELDS, field: pattern})
    messages = exc.value.message_dict[field]
    for word in words:
        assert any(word in m for m in messages), messages
    assert not NamingScheme.objects.filter(code="bad").exists()


def test_a_bad_edit_leaves_the_scheme_and_the_plaques_as_they_were(chengjiang):
    tree = yuxi_tree(chengjiang)
    with pytest.raises(ValidationError):
        services.naming_scheme_update(scheme=chengjiang, point_plaque="{town}{locality}")
    assert (
        NamingScheme.objects.get(pk=chengjiang.pk).point_plaque
        == "{township}{locality}综合文化支馆"
    )
    assert fresh(tree.points[0]).plaque_name == "右所镇旧城村综合文化支馆"


# --- bulk loads, the spreadsheet, check_tree -------------------------------------------------


def test_a_bulk_load_names_its_trees_by_the_scheme_given(chengjiang):
    root = NewHall(
        name="玉溪市文化馆",
        locality="玉溪市",
        children=[
            NewHall(
                name="澄江县文化馆",
                locality="澄江县",
                children=[
                    NewHall(
                        name="海口镇综合文化站",
                        locality="海口镇",
                        children=[NewHall(name="松元村综合文化室", locality="松元村")],
                    )
                ],
            )
        ],
    )
    result = bulk_load([root], naming_scheme=chengjiang)

    tree = Hall.objects.filter(tree_id=result.tree_ids[0])
    assert tree.get(level=0).naming_scheme == chengjiang
    assert tree.get(level=2).plaque_name == "澄江县文化馆海口镇分馆"
    assert tree.get(level=3).plaque_name == "海口镇松元村综合文化支馆"
    call_command("check_tree")


def test_the_export_writes_the_trees_level_names_and_imports_back_unchanged(
    cast, chengjiang, tmp_path
):
    tree = yuxi_tree(chengjiang)
    path = tmp_path / "network.csv"
    export_network(path)
    with open(path, encoding="utf-8-sig") as f:
        rows = {row["名称"]: row for row in csv.DictReader(f)}
    assert rows["旧城村综合文化室"]["层级"] == "支馆"
    assert rows["旧城村综合文化室"]["统一标识牌匾"] == "右所镇旧城村综合文化支馆"
    assert rows["关上一社区服务中心"]["层级"] == "基层服务点"

    result = import_network(path)
    assert result.created == result.updated == result.moved == 0

    # A new village written with the 澄江 name of its level.
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["编码", "名称", "所在地名", "层级", "上级编码", "上级编号"])
        writer.writerow(["", "小湾村综合文化室", "小湾村", "支馆", "", tree.town.pk])
    assert import_network(path).created == 1
    assert Hall.objects.get(locality="小湾村").plaque_name == "右所镇小湾村综合文化支馆"


def test_check_tree_holds_each_tree_to_its_own_scheme(cast, chengjiang, capsys):
    tree = yuxi_tree(chengjiang)
    call_command("check_tree")
    # A Kunming-style plaque in the 澄江 tree is damage there.
    Hall.objects.filter(pk=tree.points[0].pk).update(
        plaque_name="澄江县文化馆右所镇分馆旧城村基层服务点"
    )
    with pytest.raises(Exception, match="馆树已损坏"):
        call_command("check_tree")
    out = capsys.readouterr().out
    assert "应为“右所镇旧城村综合文化支馆”" in out
    assert "1 处" in out


# --- the public pages ------------------------------------------------------------------------


def test_the_public_pages_show_the_trees_level_names(
    client, cast, chengjiang, django_assert_num_queries
):
    tree = yuxi_tree(chengjiang)
    # The hall with its chain, then its weekly hours and closures (network.selectors.hall_opening),
    # its venues with this year's use.
    with django_assert_num_queries(4):
        html = client.get(reverse("network:hall_detail", args=[tree.points[0].pk])).content.decode()
    assert "右所镇旧城村综合文化支馆" in html
    assert ">支馆</span>" in html and "基层服务点" not in html

    html = client.get(reverse("network:hall_detail", args=[tree.town.pk])).content.decode()
    assert "下设支馆(2)" in html

    html = client.get(reverse("network:hall_detail", args=[cast.branch.pk])).content.decode()
    assert "下设基层服务点(2)" in html and "支馆" not in html

    with django_assert_num_queries(2):
        html = client.get(reverse("network:hall_search"), {"q": "村"}).content.decode()
    assert ">支馆</span>" in html
    # The page joins the scheme at a service point's root; a township among the results is
    # named by the scheme its tree's points brought, and without a point (澄江县 is in the
    # county's and the townships' plaques only) the tree's scheme is read in one more query.
    chengjiang.branch_name = "镇馆"
    chengjiang.save(update_fields=["branch_name"])
    for q, queries, levels in (
        ("右所镇", 2, ["镇馆", "支馆", "支馆"]),
        ("澄江县", 3, ["总馆", "镇馆", "镇馆"]),
    ):
        with django_assert_num_queries(queries):
            response = client.get(reverse("network:hall_search"), {"q": q})
        assert [hall.level_name for hall, _where, _url in response.context["results"]] == levels


# --- the admin -------------------------------------------------------------------------------


def naming_url(hall):
    return reverse("admin:network_hall_naming", args=[hall.pk])


def scheme_url(view, *args):
    return reverse(f"admin:network_namingscheme_{view}", args=args)


def test_the_centres_staff_choose_their_trees_scheme(client, cast, chengjiang):
    client.force_login(cast.centre_director)
    page = client.get(naming_url(cast.centre))
    assert page.status_code == 200 and page.context["may_write"]
    assert "{parent}{locality}基层服务点" in page.content.decode()

    response = client.post(naming_url(cast.centre), {"naming_scheme": chengjiang.pk})

    assert response.status_code == 302
    assert fresh(cast.point).plaque_name == "关上街道关上一社区综合文化支馆"
    listed = client.get(reverse("admin:network_hall_changelist"), {"parent": cast.branch.pk})
    assert ">支馆<" in listed.content.decode()


def test_a_bad_choice_is_a_form_error_and_changes_nothing(client, cast):
    client.force_login(cast.centre_director)
    response = client.post(naming_url(cast.centre), {"naming_scheme": 99999})
    assert response.status_code == 200
    assert response.context["form"].errors["naming_scheme"]
    assert fresh(cast.point).plaque_name.endswith("基层服务点")


@pytest.mark.parametrize("tester", ["county_director", "branch_staff", "other_county_director"])
def test_staff_below_the_centre_get_404_for_the_trees_scheme(client, cast, chengjiang, tester):
    client.force_login(getattr(cast, tester))
    assert client.get(naming_url(cast.centre)).status_code == 404
    assert client.post(naming_url(cast.centre), {"naming_scheme": chengjiang.pk}).status_code == 404
    assert fresh(cast.point).plaque_name.endswith("基层服务点")


def test_another_citys_centre_staff_get_404(client, cast, chengjiang):
    tree = yuxi_tree()
    client.force_login(cast.centre_director)
    assert client.get(naming_url(tree.centre)).status_code == 404
    assert client.post(naming_url(tree.centre), {"naming_scheme": chengjiang.pk}).status_code == 404
    # Not a centre: no such page.
    assert client.get(naming_url(cast.county)).status_code == 404


def test_a_centre_official_reads_the_trees_scheme_but_cannot_change_it(client, cast, chengjiang):
    official = services.staff_create(
        username="city_official", hall=cast.centre, role=Role.OFFICIAL, password="pw-12345678"
    )
    client.force_login(official)
    page = client.get(naming_url(cast.centre))
    assert page.status_code == 200 and not page.context["may_write"]
    assert client.post(naming_url(cast.centre), {"naming_scheme": chengjiang.pk}).status_code == 403
    assert fresh(cast.point).plaque_name.endswith("基层服务点")

    assert client.get(scheme_url("changelist")).status_code == 200
    change = client.get(scheme_url("change", chengjiang.pk))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert client.post(scheme_url("change", chengjiang.pk), {"name": "改掉"}).status_code == 403
    assert client.get(scheme_url("add")).status_code == 403


@pytest.mark.parametrize("tester", ["county_director", "county_official", "village_manager"])
def test_the_scheme_pages_are_404_below_the_centres(client, cast, chengjiang, tester):
    client.force_login(getattr(cast, tester))
    assert client.get(scheme_url("changelist")).status_code == 404
    assert client.get(scheme_url("change", chengjiang.pk)).status_code == 404
    assert client.post(scheme_url("change", chengjiang.pk), {}).status_code == 404
    assert client.get(scheme_url("add")).status_code == 404


def _form(scheme: NamingScheme, **changes) -> dict:
    data = {name: getattr(scheme, name) for name in services.SCHEME_FIELDS}
    return {"code": scheme.code, **data, **changes}


def test_centre_staff_edit_a_scheme_only_their_trees_use(client, cast, chengjiang):
    kunming = NamingScheme.objects.get(code="kunming")
    client.force_login(cast.centre_director)
    # Kunming's rule is theirs alone here: they may change it, and the plaques follow.
    response = client.post(
        scheme_url("change", kunming.pk), _form(kunming, point_plaque="{parent}{locality}服务点")
    )
    assert response.status_code == 302
    assert fresh(cast.point).plaque_name == "官渡区文化馆关上街道分馆关上一社区服务点"

    # Once another city's tree uses it, it is no longer theirs to change.
    yuxi_tree(kunming)
    page = client.get(scheme_url("change", kunming.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(scheme_url("change", kunming.pk), _form(kunming, name="改掉"))
    assert response.status_code == 403
    assert NamingScheme.objects.get(pk=kunming.pk).name == kunming.name


def test_the_scheme_form_names_an_unknown_placeholder_and_saves_nothing(client, cast):
    client.force_login(cast.centre_director)
    kunming = NamingScheme.objects.get(code="kunming")
    response = client.post(
        scheme_url("change", kunming.pk), _form(kunming, point_plaque="{parent}{village}服务点")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["point_plaque"]
    assert any("{village}" in e for e in errors)
    assert NamingScheme.objects.get(pk=kunming.pk).point_plaque == "{parent}{locality}基层服务点"
    assert fresh(cast.point).plaque_name.endswith("基层服务点")


def test_centre_staff_add_a_scheme(client, cast):
    client.force_login(cast.centre_director)
    data = {
        **FIELDS,
        "code": "village_room",
        "name": "文化室规则",
        "point_name": "文化室",
        "point_plaque": "{township}{locality}文化室",
    }
    response = client.post(scheme_url("add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert NamingScheme.objects.get(code="village_room").point_name == "文化室"


def test_the_scheme_list_makes_a_fixed_number_of_queries(
    client, cast, chengjiang, django_assert_num_queries
):
    client.force_login(cast.centre_director)
    client.get(scheme_url("changelist"))
    # Session, user, scope, count, rows (with their trees counted).
    with django_assert_num_queries(5):
        response = client.get(scheme_url("changelist"))
    yuxi_tree(chengjiang)
    yuxi_tree(chengjiang)
    with django_assert_num_queries(5):
        response = client.get(scheme_url("changelist"))
    assert {row.code: row.trees_named for row in response.context["cl"].result_list} == {
        "kunming": 1,
        "chengjiang": 2,
    }


def test_the_hall_lists_level_filter_names_each_schemes_levels(client, cast, chengjiang):
    client.force_login(cast.superuser)
    html = client.get(reverse("admin:network_hall_changelist")).content.decode()
    assert "基层服务点/支馆" in html
    response = client.get(reverse("admin:network_hall_changelist"), {"kind": "point"})
    assert {row.kind for row in response.context["cl"].result_list} == {"point"}


def test_the_admins_hall_export_names_each_trees_levels(client, cast, chengjiang):
    import io

    from openpyxl import load_workbook

    tree = yuxi_tree(chengjiang)
    client.force_login(cast.superuser)
    response = client.post(
        reverse("admin:network_hall_changelist") + "?kind=point",  # the level filter: all trees
        {"action": "export_xlsx", "_selected_action": [tree.points[0].pk, cast.point.pk]},
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(r for r in table if "名称" in r)
    rows = table[table.index(header) + 1 :]
    kinds = {row[header.index("名称")]: row[header.index("层级")] for row in rows}
    assert kinds == {"旧城村综合文化室": "支馆", "关上一社区服务中心": "基层服务点"}


def test_a_scheme_whose_plaques_outgrow_the_column_is_refused_and_nothing_is_renamed(cast):
    from tests.conftest import need_postgres

    need_postgres()  # SQLite does not hold a text column to its length
    kunming = NamingScheme.objects.get(code="kunming")
    before = dict(Hall.objects.values_list("pk", "plaque_name"))
    long = "文" * 62  # each pattern at its 80 characters; the point plaque reaches 263
    with pytest.raises(ValidationError) as exc:
        services.naming_scheme_update(
            scheme=kunming,
            centre_plaque="{locality}" + long,
            main_plaque="{parent}{locality}" + long,
            branch_plaque="{parent}{locality}" + long,
            point_plaque="{parent}{locality}" + long,
        )
    assert "超过 255 个字" in exc.value.message_dict["point_plaque"][0]
    assert dict(Hall.objects.values_list("pk", "plaque_name")) == before
    assert NamingScheme.objects.get(pk=kunming.pk).point_plaque == "{parent}{locality}基层服务点"


def test_in_english_a_kinds_own_name_is_translated_and_a_schemes_own_name_kept(
    client, cast, chengjiang, settings
):
    tree = yuxi_tree(chengjiang)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("network:hall_detail", args=[cast.point.pk])).content.decode()
    assert '<html lang="en">' in html and ">Village service point</span>" in html
    html = client.get(reverse("network:hall_detail", args=[tree.points[0].pk])).content.decode()
    assert ">支馆</span>" in html


def test_a_refused_move_names_the_levels_as_the_tree_does(chengjiang):
    from django.utils import translation

    tree = yuxi_tree(chengjiang)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        services.hall_move(hall=tree.points[0], new_parent=tree.county)
    assert exc.value.message_dict["parent"] == ["“旧城村综合文化室”是支馆,只能放在分馆之下。"]


def test_the_centres_page_links_to_its_trees_scheme(client, cast):
    client.force_login(cast.centre_director)
    html = client.get(reverse("admin:network_hall_change", args=[cast.centre.pk])).content.decode()
    assert naming_url(cast.centre) in html and "昆明市规则(基层服务点)" in html
    html = client.get(reverse("admin:network_hall_change", args=[cast.point.pk])).content.decode()
    assert naming_url(cast.centre) not in html and "由中心馆为整棵馆树选择" in html
    assert "基层服务点" in html  # the point's level, as its tree names it
