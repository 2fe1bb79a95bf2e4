"""``statistics/`` (public, submitted figures only, rolled up over the subtree) and ``scores/``
(staff and officials, within their scope)."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.returns import services as returns
from evaluation.returns.models import AssetReturn, ReturnKind, ServiceReturn
from evaluation.scoring import services as scoring
from network import services as network_services
from network.models import Hall
from tests.api import token_auth

from .factories import YEAR, open_window, scheme_for

pytestmark = pytest.mark.django_db
SERVICE, ASSET = ReturnKind.SERVICE, ReturnKind.ASSET
STATISTICS = "/api/v1/statistics/"
SCORES = "/api/v1/scores/"


def submitted(kind, hall, by, **values):
    report = returns.return_get_or_create(kind=kind, hall=hall, year=YEAR)
    returns.return_update(kind=kind, annual_return=report, by=by, values=values)
    return returns.return_submit(kind=kind, annual_return=report, by=by)


def test_routes():
    assert reverse("statistics") == STATISTICS and reverse("scores") == SCORES


def test_statistics_are_public_and_count_submitted_reports_only(client, cast):
    open_window(SERVICE)
    open_window(ASSET)
    submitted(SERVICE, cast.branch, cast.branch_staff, teams=3, volunteers=10)
    submitted(SERVICE, cast.point, cast.village_manager, teams=2, opening_hours_weekly="40.5")
    submitted(ASSET, cast.point, cast.village_manager, floor_area="120.5", staff=1)
    draft = returns.return_get_or_create(kind=SERVICE, hall=cast.other_branch, year=YEAR)
    returns.return_update(
        kind=SERVICE, annual_return=draft, by=cast.other_branch_staff, values={"teams": 100}
    )

    response = client.get(STATISTICS, {"hall": cast.county.pk, "year": YEAR})
    assert response.status_code == 200
    data = response.json()
    assert data["hall"] == {
        "id": cast.county.pk,
        "code": "530111",
        "name": "官渡区文化馆",
        "kind": "main",
        "parent": cast.centre.pk,
    }
    assert data["year"] == YEAR
    assert set(data["service"]) == {"halls", *ServiceReturn.FIGURES}
    assert set(data["asset"]) == {"halls", *AssetReturn.FIGURES}
    assert (data["service"]["halls"], data["service"]["teams"]) == (2, 5)  # not the draft's 100
    assert data["service"]["volunteers"] == 10
    # Not additive: the mean over the two halls that reported (40.5 and 0), not their sum.
    assert data["service"]["opening_hours_weekly"] == 20.3
    assert (data["asset"]["halls"], data["asset"]["floor_area"], data["asset"]["staff"]) == (
        1, 120.5, 1,
    )  # fmt: skip
    assert data["completeness"]["service"] == {
        "expected": 5, "submitted": 2, "on_time": 2, "rate": 0.4,
    }  # fmt: skip
    assert data["completeness"]["asset"]["submitted"] == 1

    # A point: its own figures; nothing below it, so complete by definition.
    data = client.get(STATISTICS, {"hall": cast.point.pk, "year": YEAR}).json()
    assert data["service"]["teams"] == 2
    assert data["completeness"]["service"] == {
        "expected": 0, "submitted": 0, "on_time": 0, "rate": 1.0,
    }  # fmt: skip
    # Another year has nothing.
    data = client.get(STATISTICS, {"hall": cast.county.pk, "year": YEAR - 1}).json()
    # Another year nobody reported: every figure is null (未报送), never a 0 that looks real.
    assert data["service"]["halls"] == 0 and data["service"]["teams"] is None
    assert set(data["asset"].values()) == {0, None} and data["asset"]["halls"] == 0


def test_the_roll_up_equals_the_sum_of_the_leaves(client, cast):
    open_window(SERVICE)
    leaves = list(Hall.objects.filter(level=3))
    for i, leaf in enumerate(leaves):
        submitted(SERVICE, leaf, cast.superuser, teams=i + 1, trainees=10 * (i + 2))
    for top in (cast.centre, cast.county, cast.other_county, cast.branch, cast.other_branch):
        top = Hall.objects.get(pk=top.pk)
        mine = [leaf for i, leaf in enumerate(leaves) if top.lft < leaf.lft < top.rght]
        data = client.get(STATISTICS, {"hall": top.pk, "year": YEAR}).json()["service"]
        assert data["halls"] == len(mine), top
        assert data["teams"] == sum(leaves.index(leaf) + 1 for leaf in mine), top
        assert data["trainees"] == sum(10 * (leaves.index(leaf) + 2) for leaf in mine), top


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"hall": "1"}, "year"),
        ({"hall": "1", "year": "去年"}, "year"),
        ({"hall": "1", "year": "1800"}, "year"),
        ({"year": str(YEAR)}, "hall"),
        ({"hall": "x", "year": str(YEAR)}, "hall"),
        ({"hall": "0", "year": str(YEAR)}, "hall"),
    ],
)
def test_statistics_bad_parameters_are_400(client, cast, params, field):
    response = client.get(STATISTICS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_statistics_of_an_unknown_hall_are_404(client, cast):
    response = client.get(STATISTICS, {"hall": 999999, "year": YEAR})
    assert response.status_code == 404


def test_statistics_cost_a_fixed_number_of_queries(client, cast, django_assert_num_queries):
    open_window(SERVICE)
    params = {"hall": cast.centre.pk, "year": YEAR}
    with django_assert_num_queries(4):  # hall; per report kind: totals; who reported, both kinds
        client.get(STATISTICS, params)
    for i in range(10):
        hall = network_services.hall_create(
            parent=cast.branch, name=f"新服务点{i}", locality=f"新{i}"
        )
        submitted(SERVICE, hall, cast.superuser, teams=1)
    with django_assert_num_queries(4):
        data = client.get(STATISTICS, params).json()
    assert data["service"]["teams"] == 10


def test_statistics_are_kept_until_a_return_changes(client, cast, django_assert_num_queries):
    open_window(SERVICE)
    submitted(SERVICE, cast.point, cast.village_manager, teams=2)
    params = {"hall": cast.county.pk, "year": YEAR}
    with django_assert_num_queries(4):
        first = client.get(STATISTICS, params).json()
    with django_assert_num_queries(0):  # kept: no query at all, however big the subtree
        assert client.get(STATISTICS, params).json() == first
    with django_assert_num_queries(4):  # another year, another answer
        client.get(STATISTICS, {**params, "year": YEAR - 1})
    # A submission renews every kept answer at once.
    submitted(SERVICE, cast.point2, cast.branch_staff, teams=3)
    with django_assert_num_queries(4):
        data = client.get(STATISTICS, params).json()
    assert (data["service"]["halls"], data["service"]["teams"]) == (2, 5)
    # So does a review by the hall above.
    report = ServiceReturn.objects.get(hall=cast.point2, year=YEAR)
    returns.return_review(kind=SERVICE, annual_return=report, by=cast.county_director,
                          approve=False, comment="人数有误")  # fmt: skip
    assert client.get(STATISTICS, params).json()["service"]["teams"] == 2
    with django_assert_num_queries(0):
        client.get(STATISTICS, params)


def test_statistics_are_kept_per_language(client, cast, django_assert_num_queries):
    params = {"hall": cast.county.pk, "year": YEAR}
    client.get(STATISTICS, params)
    with django_assert_num_queries(4):
        client.get(STATISTICS, params, HTTP_ACCEPT_LANGUAGE="en")
    with django_assert_num_queries(0):
        client.get(STATISTICS, params, HTTP_ACCEPT_LANGUAGE="en")


def test_statistics_kept_for_no_time_are_computed_each_time(
    client, cast, settings, django_assert_num_queries
):
    settings.STATISTICS_CACHE_SECONDS = 0
    params = {"hall": cast.county.pk, "year": YEAR}
    for _i in range(2):
        with django_assert_num_queries(4):
            assert client.get(STATISTICS, params).status_code == 200


def test_statistics_are_computed_when_redis_is_out(client, cast, settings, caplog):
    """A Redis nobody listens on: no answer is kept, each is computed, none fails."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and closed again: connections are refused
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.FaultTolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    from django.core.cache import caches

    caches["default"].breaker.reset()
    open_window(SERVICE)
    submitted(SERVICE, cast.point, cast.village_manager, teams=2)
    params = {"hall": cast.county.pk, "year": YEAR}
    for _i in range(2):
        response = client.get(STATISTICS, params)
        assert response.status_code == 200
        assert response.json()["service"]["teams"] == 2
    assert "going on without it" in caplog.text
    caches["default"].breaker.reset()


# --- Scores --------------------------------------------------------------------------------------


def basic(user, password):
    token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def scored(cast):
    scheme = scheme_for()
    std = scheme.dimensions.get(code="service_standard")
    scoring.score_set(dimension=std, hall=cast.branch, points=6, by=cast.county_director)
    scoring.score_set(dimension=std, hall=cast.other_branch, points=8, by=cast.county_director)
    return scheme


def test_scores_need_an_account(client, cast, scored):
    assert client.get(SCORES, {"year": YEAR}).status_code in (401, 403)


def test_an_official_reads_the_scores_of_the_county(client, cast, scored):
    response = client.get(
        SCORES,
        {"year": YEAR, "within": cast.county.pk},
        **token_auth(cast.county_official),
    )
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 6  # the county hall, two branches, three points
    rows = {row["hall"]["id"]: row for row in data["results"]}
    branch = rows[cast.branch.pk]
    assert set(branch["points"]) == set(scored.dimensions.values_list("code", flat=True))
    assert branch["points"]["service_standard"] == 6.0
    assert branch["points"]["service_content"] is None  # 缺项
    # 6 of the 8 points of the one dimension with data, scaled to the scheme's 100
    assert (branch["total"], branch["grade"], branch["grade_label"], branch["rank"]) == (
        75.0, "good", "良好", 2,
    )  # fmt: skip
    assert branch["status"] == "assessed" and branch["scaled"] is True
    assert len(branch["missing"]) == 12 and "service_standard" not in branch["missing"]
    assert rows[cast.other_branch.pk]["rank"] == 1
    # The county hall and the points were never scored: no total, grade or rank.
    county = rows[cast.county.pk]
    assert (county["status"], county["total"], county["grade"], county["rank"]) == (
        "unassessed", None, None, None,
    )  # fmt: skip
    assert county["grade_label"] is None and set(county["points"].values()) == {None}


def test_rank_is_among_all_siblings_even_on_a_short_page(client, cast, scored):
    client.force_login(cast.county_director)
    response = client.get(SCORES, {"year": YEAR, "within": cast.branch.pk, "page_size": 1})
    row = response.json()["results"][0]
    assert row["hall"]["id"] == cast.branch.pk and row["rank"] == 2


def test_scores_stay_in_the_scope(client, cast, scored):
    client.force_login(cast.other_county_director)
    assert client.get(SCORES, {"year": YEAR, "within": cast.county.pk}).status_code == 404
    data = client.get(SCORES, {"year": YEAR}).json()
    ids = {row["hall"]["id"] for row in data["results"]}
    assert ids == {cast.other_county.pk, cast.other_county_branch.pk, cast.other_county_point.pk}


@pytest.mark.parametrize(
    "params", [{}, {"year": "x"}, {"year": YEAR + 5}, {"year": YEAR, "within": "x"}]
)
def test_scores_bad_parameters_are_400(client, cast, scored, params):
    client.force_login(cast.county_director)
    assert client.get(SCORES, params).status_code == 400


def test_scores_cost_a_fixed_number_of_queries(client, cast, scored, django_assert_num_queries):
    client.force_login(cast.county_official)
    params = {"year": YEAR, "within": cast.county.pk}
    client.get(SCORES, params)
    with CaptureQueriesContext(connection) as few:
        client.get(SCORES, params)
    std = scored.dimensions.get(code="service_standard")
    for i in range(12):
        hall = network_services.hall_create(
            parent=cast.county, name=f"新街道{i}", locality=f"新{i}"
        )
        director = type(cast.county_director).objects.get(pk=cast.county_director.pk)
        scoring.score_set(dimension=std, hall=hall, points=Decimal(i % 8), by=director)
    with django_assert_num_queries(len(few)):
        data = client.get(SCORES, params).json()
    assert data["count"] == 18
