"""Hall search as residents type it: numbers either way, full-width characters, spaces; and on
PostgreSQL, trigram indexes that the search's query reads."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from network import services
from network.search import chinese_to_int, int_to_chinese, query_forms
from network.selectors import directory_search
from tests.conftest import need_postgres


@pytest.mark.parametrize(
    "numeral, value",
    [
        ("一", 1),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十三", 23),
        ("一百", 100),
        ("一百零五", 105),
        ("一百一十", 110),
        ("两千零二十六", 2026),
        ("一二", 12),
        ("〇", 0),
    ],
)
def test_chinese_numerals_read_as_numbers_and_back(numeral, value):
    assert chinese_to_int(numeral) == value
    if numeral not in ("一二", "〇", "两千零二十六"):
        assert int_to_chinese(value) == numeral


@pytest.mark.parametrize("numeral", ["十十", "百", "一百十", "二三十"])
def test_what_is_not_one_number_stays_as_typed(numeral):
    assert chinese_to_int(numeral) is None
    assert query_forms(f"第{numeral}组")[0] == f"第{numeral}组"


def test_query_forms():
    assert query_forms("关上第一社区") == ["关上第一社区", "关上第1社区"]
    assert query_forms("关上第1社区") == ["关上第1社区", "关上第一社区"]
    assert query_forms(" 关上 第１２ 社区 ") == ["关上第12社区", "关上第十二社区"]
    assert query_forms("华山社区") == ["华山社区"]
    assert query_forms(" \u3000 ") == []


@pytest.fixture
def numbered(cast):
    branch = cast.branch
    return (
        services.hall_create(parent=branch, name="关上第1社区", locality="关上第1社区"),
        services.hall_create(parent=branch, name="关上第十二社区", locality="关上第十二社区"),
    )


def page_halls(client, q: str) -> list[str]:
    response = client.get(reverse("network:hall_search"), {"q": q})
    assert response.status_code == 200
    return [hall.name for hall, _chain in response.context["results"]]


def test_the_search_page_finds_numbers_typed_either_way(client, numbered):
    assert page_halls(client, "关上第一社区") == ["关上第1社区"]
    assert page_halls(client, "关上第1社区") == ["关上第1社区"]
    assert page_halls(client, "关上第１社区") == ["关上第1社区"]  # full-width digit
    assert page_halls(client, "关上 第 一 社区") == ["关上第1社区"]
    assert page_halls(client, "关上第12社区") == ["关上第十二社区"]
    assert page_halls(client, "第二社区") == []


def test_the_api_q_finds_numbers_typed_either_way(client, numbered):
    names = [
        hall["name"]
        for hall in client.get("/api/v1/halls/", {"q": "关上第一社区"}).json()["results"]
    ]
    assert names == ["关上第1社区"]


def test_search_results_stay_in_tree_order(numbered):
    first, twelfth = numbered
    assert list(directory_search("关上第")) == [first, twelfth]


@pytest.mark.django_db
def test_postgres_has_a_trigram_index_for_each_searched_field():
    need_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'network_hall' "
            "AND indexname LIKE '%%_trgm'"
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {
        "hall_name_trgm",
        "hall_plaque_name_trgm",
        "hall_locality_trgm",
        "hall_code_trgm",
    }
    assert all("gin_trgm_ops" in sql and "upper(" in sql for sql in indexes.values())


def test_postgres_search_reads_the_trigram_indexes(numbered):
    need_postgres()
    with connection.cursor() as cursor:
        # A tiny table: ask whether the query can read the indexes, not whether it would.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = directory_search("关上第一社区").explain()
    for index in ("hall_name_trgm", "hall_plaque_name_trgm", "hall_locality_trgm"):
        assert index in plan, plan
