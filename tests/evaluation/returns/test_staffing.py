"""Staffing compliance: the 编制 and 公益岗位 a hall reports in its asset return, against the
seeds' standard (昆办发〔2019〕9号: ≥ 3 编制 per township station, ≥ 1 公益岗位 per village
centre), with the platform's accounts as a second signal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.returns import selectors
from evaluation.returns import services as returns
from evaluation.returns.models import ReturnKind
from evaluation.returns.selectors import Staffing
from network import services as network_services
from network.models import Hall, Role

from ..factories import YEAR, open_window

ASSET = ReturnKind.ASSET
URL = "admin:returns_assetreturn_staffing"


def _report(hall, by, **figures):
    report = returns.return_get_or_create(kind=ASSET, hall=hall, year=YEAR)
    returns.return_update(kind=ASSET, annual_return=report, by=by, values=figures)
    returns.return_submit(kind=ASSET, annual_return=report, by=by)
    return report


@pytest.fixture
def staffed(cast, settings):
    settings.STAFFING_MIN_BRANCH = 3
    settings.STAFFING_MIN_POINT = 1
    open_window(ASSET)
    by = cast.centre_director
    # 关上 reports 3 编制 with one account; 太和 reports 2; 关上一 one post; 关上二 none.
    _report(cast.branch, by, staff=3)
    _report(cast.other_branch, by, staff=2)
    _report(cast.point, by, public_welfare_posts=1)
    _report(cast.point2, by, public_welfare_posts=0)
    # 太和一 entered a post but never submitted: not reported.
    draft = returns.return_get_or_create(kind=ASSET, hall=cast.other_branch_point, year=YEAR)
    returns.return_update(
        kind=ASSET, annual_return=draft, by=by, values={"public_welfare_posts": 4}
    )
    return cast


def _rows(cast, **kwargs):
    halls = Hall.objects.filter(tree_id=cast.centre.tree_id)
    return {
        h.name: (h.reported, h.required, h.staffing, h.accounts)
        for h in selectors.staffing(year=YEAR, halls=halls, min_branch=3, min_point=1, **kwargs)
    }


def test_staffing_is_judged_by_the_reported_figures(staffed):
    rows = _rows(staffed)
    assert rows["关上街道综合文化站"] == (3, 3, Staffing.MET, 1)  # one account, three 编制
    assert rows["太和街道综合文化站"] == (2, 3, Staffing.SHORT, 1)
    assert rows["关上一社区服务中心"] == (1, 1, Staffing.MET, 1)
    assert rows["关上二社区服务中心"] == (0, 1, Staffing.SHORT, 0)
    assert rows["太和一社区服务中心"] == (None, 1, Staffing.UNREPORTED, 0)
    assert rows["华山街道综合文化站"][2] == Staffing.UNREPORTED
    # Counties and the centre are not judged.
    assert "官渡区文化馆" not in rows and "昆明市文化馆" not in rows


def test_accounts_do_not_make_a_hall_compliant(staffed):
    for i in range(3):
        network_services.staff_member_add(
            username=f"th{i}", hall=staffed.other_branch, role=Role.STAFF
        )
    assert _rows(staffed)["太和街道综合文化站"] == (2, 3, Staffing.SHORT, 4)


def test_another_year_nobody_reported_is_unreported_not_short(staffed):
    halls = Hall.objects.filter(tree_id=staffed.centre.tree_id)
    rows = selectors.staffing(year=YEAR - 1, halls=halls, min_branch=3, min_point=1)
    assert {h.staffing for h in rows} == {Staffing.UNREPORTED}


def test_the_staffing_page_lists_the_gaps_of_the_scope(client, staffed, django_assert_num_queries):
    url = reverse(URL)
    client.force_login(staffed.county_official)  # read-only, over 官渡区
    response = client.get(url, {"year": YEAR})
    assert response.status_code == 200
    names = {h.name for h in response.context["page"]}
    assert names == {
        "太和街道综合文化站",
        "关上二社区服务中心",
        "太和一社区服务中心",
    }
    assert dict(response.context["summary"]) == {"达标": 2, "未达标": 2, "未报送": 1}
    body = response.content.decode()
    assert "未报送" in body and "平台账号(参考)" in body
    response = client.get(url, {"year": YEAR, "show": "met"})
    assert {h.name for h in response.context["page"]} == {
        "关上街道综合文化站",
        "关上一社区服务中心",
    }
    response = client.get(url, {"year": YEAR, "show": "all"})
    assert response.context["page"].paginator.count == 5
    # Narrowed to one branch.
    response = client.get(url, {"year": YEAR, "show": "all", "hall": staffed.other_branch.pk})
    assert {h.name for h in response.context["page"]} == {
        "太和街道综合文化站",
        "太和一社区服务中心",
    }
    # A fixed number of queries, whatever the number of halls: session, user, memberships
    # (scope), the summary, the page's count and rows.
    with django_assert_num_queries(6):
        client.get(url, {"year": YEAR})
    network_services.hall_create(parent=staffed.branch, name="关上五社区", locality="关上五社区")
    with django_assert_num_queries(6):
        client.get(url, {"year": YEAR})


def test_the_staffing_page_of_another_county(client, staffed):
    client.force_login(staffed.other_county_director)
    response = client.get(reverse(URL), {"year": YEAR, "show": "all"})
    assert {h.name for h in response.context["page"]} == {
        "华山街道综合文化站",
        "华山一社区服务中心",
    }
    # A hall outside the scope answers 404, as does a bad year.
    assert client.get(reverse(URL), {"hall": staffed.branch.pk}).status_code == 404
    assert client.get(reverse(URL), {"year": "twenty"}).status_code == 404


def test_the_staffing_page_needs_a_staff_account(client, staffed):
    response = client.get(reverse(URL))
    assert response.status_code == 302 and "/login/" in response["Location"]
