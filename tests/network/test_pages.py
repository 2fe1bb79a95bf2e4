"""The public hall directory: what a resident sees, and what each page costs in queries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from network import services
from network.models import HallStatus, Operator


def detail_url(hall) -> str:
    return reverse("network:hall_detail", args=[hall.pk])


def search(client, q: str, **params):
    return client.get(reverse("network:hall_search"), {"q": q, **params})


def hall_links(response) -> list[str]:
    """The hall pages linked from the main column, in order."""
    main = response.content.decode().split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.findall(r'href="(/halls/\d+/)"', main)


@pytest.fixture
def big_county(db, cast):
    """A county whose branches are added by the test, each with one service point."""

    def build(n: int):
        county = services.hall_create(parent=cast.centre, name="盘龙区文化馆", locality="盘龙区")
        for i in range(n):
            branch = services.hall_create(parent=county, name=f"第{i}街道", locality=f"第{i}街道")
            services.hall_create(parent=branch, name=f"第{i}社区", locality=f"第{i}社区")
        return county

    return build


# --- Home -------------------------------------------------------------------------------------


def test_home_has_search_and_counties_as_quick_links(client, cast):
    services.hall_update(hall=cast.other_county, status=HallStatus.PLANNED)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'action="/halls/search/"' in html and 'name="q"' in html
    assert detail_url(cast.county) in hall_links(response)
    assert detail_url(cast.other_county) in hall_links(response)
    # Points and branches are not quick links; the planned county says so.
    assert detail_url(cast.branch) not in hall_links(response)
    assert "待建" in html


def test_home_shell_has_nav_language_switch_and_no_external_assets(client, cast):
    html = client.get("/").content.decode()
    assert "文化馆总分馆服务平台" in html
    assert 'href="/halls/"' in html
    assert 'action="/i18n/setlang/"' in html and "csrfmiddlewaretoken" in html
    assert 'value="en"' in html and 'value="zh-hans"' in html
    assert "/static/css/portal.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_language_switch_posts_with_csrf_and_comes_back(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get("/halls/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/halls/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response["Location"] == "/halls/"
    assert '<html lang="en">' in client.get("/halls/").content.decode()


def test_home_query_count(client, cast, django_assert_num_queries):
    # Counties, then the activity sections: upcoming, featured, notices.
    with django_assert_num_queries(4):
        assert client.get("/").status_code == 200


# --- Directory list ---------------------------------------------------------------------------


def test_directory_lists_city_halls_with_their_county_counts(client, cast):
    response = client.get(reverse("network:hall_list"))
    html = response.content.decode()
    assert hall_links(response) == [detail_url(cast.centre)]
    assert "昆明市文化馆" in html
    assert "2 个下级馆" in html


def test_directory_query_count(client, cast, django_assert_num_queries):
    services.hall_create(parent=None, name="曲靖市文化馆", locality="曲靖市")
    with django_assert_num_queries(2):
        response = client.get(reverse("network:hall_list"))
    assert len(hall_links(response)) == 2


# --- A hall's page ----------------------------------------------------------------------------


def test_village_page_shows_plaque_hours_services_phone_and_breadcrumbs(client, cast):
    services.hall_update(
        hall=cast.point,
        phone="0871 6310-1234",
        opening_hours="每天 8:30-21:00",
        services="文化活动室\n农家书屋",
        address="关上一社区中路 1 号",
        operator=Operator.ENTERPRISE,
        operator_name="云南某某文化传播有限公司",
    )
    html = client.get(detail_url(cast.point)).content.decode()
    assert "官渡区文化馆关上街道分馆关上一社区基层服务点" in html
    assert "关上一社区服务中心" in html
    assert "每天 8:30-21:00" in html
    assert "文化活动室<br>农家书屋" in html
    assert "关上一社区中路 1 号" in html
    assert 'href="tel:087163101234"' in html
    assert "企业(社会力量)" in html and "云南某某文化传播有限公司" in html
    crumbs = html.split('class="crumbs"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="(/halls/[^"]*)"', crumbs) == [
        "/halls/",
        detail_url(cast.centre),
        detail_url(cast.county),
        detail_url(cast.branch),
    ]
    assert "基层服务点" in html
    # The last level lists no children.
    assert "下设" not in html


def test_county_page_lists_branches_with_their_point_counts(client, cast):
    html = client.get(detail_url(cast.county)).content.decode()
    assert "下设分馆(2)" in html
    children = html.split('class="children"', 1)[1]
    assert children.index("关上街道") < children.index("太和街道")
    assert "2 个下级馆" in children and "1 个下级馆" in children


def test_a_hall_without_contact_details_says_they_are_not_published(client, cast):
    html = client.get(detail_url(cast.branch)).content.decode()
    assert "暂未公布" in html
    assert "tel:" not in html


def test_planned_hall_says_it_is_planned(client, cast):
    services.hall_update(hall=cast.other_county, status=HallStatus.PLANNED)
    html = client.get(detail_url(cast.other_county)).content.decode()
    assert "待建" in html and "正在规划建设中" in html
    assert "notice-planned" in html


def test_closed_hall_is_shown_as_closed(client, cast):
    services.hall_update(hall=cast.point2, status=HallStatus.CLOSED)
    html = client.get(detail_url(cast.point2)).content.decode()
    assert "已关闭" in html and "暂停对外服务" in html
    # And the branch's list marks it too.
    children = client.get(detail_url(cast.branch)).content.decode().split('class="children"')[1]
    assert "已关闭" in children


def test_open_hall_shows_no_status_notice(client, cast):
    html = client.get(detail_url(cast.point)).content.decode()
    assert "notice-planned" not in html and "notice-closed" not in html


def test_unknown_hall_is_404(client, cast):
    assert client.get("/halls/987654321/").status_code == 404
    assert client.get("/halls/abc/").status_code == 404


def test_children_are_paginated_fifty_a_page(client, big_county):
    county = big_county(60)
    first = client.get(detail_url(county))
    second = client.get(detail_url(county), {"page": 2})
    assert len(hall_links(first)) == 1 + 50  # the centre in the breadcrumbs, then the page
    assert "下设分馆(60)" in first.content.decode()
    assert 'rel="next" href="?page=2"' in first.content.decode()
    second_links = hall_links(second)
    assert len(second_links) == 1 + 10
    assert set(second_links[1:]).isdisjoint(hall_links(first))
    # A page past the end shows the last page rather than an error.
    assert hall_links(client.get(detail_url(county), {"page": 99})) == second_links


@pytest.mark.parametrize("children", [5, 60])
def test_hall_page_query_count_does_not_grow_with_children(
    client, big_county, django_assert_num_queries, children
):
    county = big_county(children)
    # The hall with its ancestors, its weekly hours and closure dates, its venues with this
    # year's use, the child count, the page of children with their counts.
    with django_assert_num_queries(6):
        response = client.get(detail_url(county))
    assert "1 个下级馆" in response.content.decode()


def test_village_page_query_count(client, cast, django_assert_num_queries):
    # The hall with its ancestors, its weekly hours, its closure dates, its venues.
    with django_assert_num_queries(4):
        assert client.get(detail_url(cast.point)).status_code == 200


# --- Search -----------------------------------------------------------------------------------


def test_search_by_name_shows_where_each_result_sits(client, cast):
    response = search(client, "关上一")
    html = response.content.decode()
    assert hall_links(response) == [detail_url(cast.point)]
    assert "昆明市 › 官渡区 › 关上街道" in html
    assert "找到 1 个场馆" in html


def test_search_by_locality_and_by_plaque(client, cast):
    # 华山 is in the names and localities of a branch and its point.
    assert hall_links(search(client, "华山")) == [
        detail_url(cast.other_county_branch),
        detail_url(cast.other_county_point),
    ]
    # The plaque is the only place where "分馆" occurs in these names.
    assert hall_links(search(client, "太和街道分馆")) == [
        detail_url(cast.other_branch),
        detail_url(cast.other_branch_point),
    ]


def test_search_takes_a_single_character(client, cast):
    # 五华区's hall, and the plaques of the branch and the point below it.
    assert hall_links(search(client, "五")) == [
        detail_url(cast.other_county),
        detail_url(cast.other_county_branch),
        detail_url(cast.other_county_point),
    ]


def test_search_without_a_query_lists_nothing(client, cast, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = search(client, "   ")
    assert response.status_code == 200
    assert hall_links(response) == []


def test_search_with_no_match_says_so(client, cast):
    html = search(client, "不存在的地方").content.decode()
    assert "没有找到" in html


def test_search_is_paginated_and_keeps_the_query(client, big_county):
    big_county(25)
    first = search(client, "社区")
    html = first.content.decode()
    # 25 new points and the cast's 4 (关上一, 关上二, 太和一, 华山一).
    assert "找到 29 个场馆" in html
    assert len(hall_links(first)) == 20
    assert 'href="?q=%E7%A4%BE%E5%8C%BA&amp;page=2"' in html  # 社区, URL-encoded
    assert len(hall_links(search(client, "社区", page=2))) == 9


@pytest.mark.parametrize("branches", [2, 40])
def test_search_query_count_does_not_grow_with_results(
    client, big_county, django_assert_num_queries, branches
):
    big_county(branches)
    with django_assert_num_queries(2):
        response = search(client, "街道")
    # Every branch, and every point through its plaque: the cast's 3 + 4 and two per new branch.
    assert len(hall_links(response)) == min(20, 7 + 2 * branches)


def test_a_nul_in_the_search_is_a_400_that_says_so(client, cast):
    # Issue 15: one guard for the whole site answers a NUL byte with a 400 that says what is
    # wrong (before, the page dropped it silently).
    response = client.get(reverse("network:hall_search"), {"q": "关上\x00"})
    assert response.status_code == 400
    assert "空字符" in response.content.decode()
