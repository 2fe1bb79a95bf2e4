"""The public catalogue page: residents see the public, active teams and venues of an area."""

from __future__ import annotations

import pytest
from django.urls import reverse

from activities.resources import services
from activities.resources.models import ResourceKind
from common.cache import ProcessMemory

pytestmark = pytest.mark.django_db

URL = "/resources/"


@pytest.fixture
def catalogue(cast):
    make = services.resource_create
    return {
        "lantern": make(hall=cast.point, kind=ResourceKind.TEAM, name="关上一社区花灯队"),
        "square": make(hall=cast.branch, kind=ResourceKind.VENUE, name="关上文化广场"),
        "choir": make(hall=cast.other_branch, kind=ResourceKind.TEAM, name="太和合唱团"),
        "wuhua": make(hall=cast.other_county, kind=ResourceKind.VENUE, name="五华剧场"),
        "hidden": make(hall=cast.branch, kind=ResourceKind.TEAM, name="内部排练队", public=False),
        "retired": make(hall=cast.branch, kind=ResourceKind.VENUE, name="旧礼堂", active=False),
        "truck": make(hall=cast.county, kind=ResourceKind.STAGE_TRUCK, name="流动舞台车"),
    }


def names(response) -> set[str]:
    return {r.name for r in response.context["page"]}


def test_the_url_is_stable():
    assert reverse("resources:resource_list") == URL


def test_only_public_active_teams_and_venues_are_shown(client, catalogue):
    response = client.get(URL)
    assert response.status_code == 200
    assert names(response) == {"关上一社区花灯队", "关上文化广场", "太和合唱团", "五华剧场"}
    html = response.content.decode()
    assert "内部排练队" not in html and "流动舞台车" not in html and "旧礼堂" not in html


def test_within_a_hall_and_kind(client, cast, catalogue):
    assert names(client.get(URL, {"within": cast.branch.pk})) == {
        "关上一社区花灯队",
        "关上文化广场",
    }
    assert names(client.get(URL, {"within": cast.county.pk, "kind": "team"})) == {
        "关上一社区花灯队",
        "太和合唱团",
    }
    page = client.get(URL, {"within": cast.point.pk})
    assert names(page) == {"关上一社区花灯队"}
    assert "关上一社区的文艺团队和场地" in page.content.decode()


def test_the_area_picker_narrows_by_county_then_township(client, cast, catalogue):
    page = client.get(URL, {"county": cast.county.pk})
    assert names(page) == {"关上一社区花灯队", "关上文化广场", "太和合唱团"}
    townships = dict(page.context["form"].fields["township"].choices)
    assert townships[cast.branch.pk] == "关上街道"
    page = client.get(URL, {"county": cast.county.pk, "township": cast.other_branch.pk})
    assert names(page) == {"太和合唱团"}


def test_bad_filters_say_so_and_show_everything_else(client, catalogue):
    page = client.get(URL, {"within": "999999"})
    assert page.status_code == 200
    assert "没有这个场馆" in page.content.decode()
    assert len(names(page)) == 4
    page = client.get(URL, {"kind": "stage_truck"})
    assert "只能查看文艺团队或场地" in page.content.decode()
    assert len(names(page)) == 4
    assert client.get(URL, {"within": "abc", "county": "x", "page": "zz"}).status_code == 200


def test_the_hall_page_links_to_its_teams_and_venues(client, cast):
    html = client.get(reverse("network:hall_detail", args=[cast.branch.pk])).content.decode()
    assert f'href="{URL}?within={cast.branch.pk}"' in html


@pytest.mark.parametrize("params", [{}, {"within": "branch"}, {"county": "county", "kind": "team"}])
def test_the_page_costs_the_same_for_few_and_many_entries(
    client, cast, django_assert_num_queries, params
):
    params = {
        k: (getattr(cast, v).pk if k in ("within", "county") else v) for k, v in params.items()
    }
    # counties, [townships of the county | the "within" hall], count, rows
    expected = 3 + (1 if params else 0)
    for i in range(3):
        services.resource_create(hall=cast.point, kind=ResourceKind.TEAM, name=f"队{i}")
    with django_assert_num_queries(expected):
        assert len(client.get(URL, params).context["page"]) == 3
    for i in range(30):
        services.resource_create(hall=cast.branch, kind=ResourceKind.TEAM, name=f"新队{i}")
    # The counties are kept a minute in each process (activities.selectors.area_counties):
    # pin the full cost.
    ProcessMemory.clear_all()
    with django_assert_num_queries(expected):
        assert len(client.get(URL, params).context["page"]) == 20
