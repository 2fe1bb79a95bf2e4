"""Hall search as residents type it: numbers either way, full-width characters, spaces; and on
PostgreSQL, trigram indexes and (for one or two characters) character-pair indexes that the
search's query reads."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from network import services, views
from network.bulk import NetworkShape, generate_network
from network.filters import HallFilter
from network.models import Hall
from network.search import (
    SEARCH_FIELDS,
    SearchPaginator,
    chinese_to_int,
    int_to_chinese,
    is_caseless,
    name_search_q,
    query_forms,
    search_count_cap,
)
from network.selectors import directory_search, hall_chain, search_results
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
    return [hall.name for hall, _where, _url in response.context["results"]]


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


# --- One and two characters: the same halls as a plain substring match, through an index -------


@pytest.fixture
def lettered(numbered, cast):
    return services.hall_create(parent=cast.other_branch, name="太和Ab社区", locality="太和Ab社区")


def substring_matches(q: str, fields) -> list[int]:
    """What a search must find, worked out in Python: any field holds any form, ignoring case."""
    forms = [form.upper() for form in query_forms(q)]
    return [
        hall.pk
        for hall in Hall.objects.order_by("tree_id", "lft")
        if any(form in (getattr(hall, field) or "").upper() for form in forms for field in fields)
    ]


SHORT_AND_LONG = [
    "关",  # one character in many names
    "王",  # in none
    "一",  # also 1: 关上第1社区 and the codes (API)
    "１",  # full-width, as 1 and 一
    "十",  # also 10, which no name holds
    "关上",
    "第一",  # finds 第1
    "第1",
    "十二",  # and 12
    "ab",  # any case
    "ＡＢ",  # full-width
    "b社",
    " 社 区 ",
    "11",  # in the codes only (API), and as 十一
    "%",  # LIKE's wildcards, as plain characters
    "_1",
    "53",
    "一社区",
    "关上第一社区",
    "第十二社",
]


@pytest.mark.parametrize("q", SHORT_AND_LONG)
def test_short_and_long_searches_find_every_substring_match(lettered, q):
    expected = substring_matches(q, SEARCH_FIELDS)
    assert [hall.pk for hall in directory_search(q)] == expected
    with_code = substring_matches(q, (*SEARCH_FIELDS, "code"))
    api = HallFilter({"q": q}, queryset=Hall.objects.all()).qs
    assert [hall.pk for hall in api] == with_code
    # Both paginator orders: the few sorted, and the many along the tree index.
    for cap in (1000, 2):
        with override_settings(SEARCH_COUNT_CAP=cap):
            paginator = SearchPaginator(directory_search(q), 50, query=q)
            assert [hall.pk for hall in paginator.page(1)] == expected[:cap]


def test_one_and_two_character_forms_ask_postgres_for_the_grams(db):
    need_postgres()
    for q, operators in (
        ("关", 3),
        ("关上", 3),
        ("第1", 6),
        ("关上第一社区", 0),
        ("10", 6),
        ("第10", 3),
    ):
        sql = str(Hall.objects.filter(name_search_q(q, SEARCH_FIELDS)).query)
        assert sql.count("hall_search_grams(UPPER(") == operators, sql
        assert sql.count("@> ARRAY[UPPER(") == operators, sql


@pytest.mark.parametrize(
    "form, caseless",
    [
        ("东村", True),
        ("第1", True),
        ("_%", True),
        ("ab", False),
        ("东a", False),
        ("Ⅰ", False),
        ("ⓐ", False),
    ],
)
def test_a_form_has_case_unless_every_character_is_caseless(form, caseless):
    # Ⅰ and ⓐ are not letters, yet UPPER() and LOWER() change them.
    assert is_caseless(form) is caseless


def test_a_form_without_case_is_first_tested_without_upper(db):
    # The rows' first test (the CASE in front of the grams) reads the fields as they are for a
    # form without case: the same rows, a third of the cost of UPPER() for each row tested.
    need_postgres()
    for q, uppers in (("东村", 0), ("ab", 6), ("第1", 0)):
        sql = str(Hall.objects.filter(name_search_q(q, SEARCH_FIELDS)).query)
        first_test = sql.split(" THEN ")[0]
        assert first_test.count("UPPER(") == uppers, sql
        assert first_test.count(" LIKE ") == 3 * len(query_forms(q)), sql


@pytest.mark.django_db
def test_postgres_has_a_grams_index_for_each_searched_field():
    need_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'network_hall' "
            "AND indexname LIKE '%%_grams'"
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT hall_search_grams('ABCA'), hall_search_grams('东村'), hall_search_grams(''), "
            "hall_search_grams(NULL), provolatile, proparallel FROM pg_proc "
            "WHERE proname = 'hall_search_grams'"
        )
        grams, two, empty, null, volatility, parallel = cursor.fetchone()
    assert set(indexes) == {
        "hall_name_grams",
        "hall_plaque_name_grams",
        "hall_locality_grams",
        "hall_code_grams",
    }
    assert all("hall_search_grams(upper(" in sql for sql in indexes.values()), indexes
    assert sorted(set(grams)) == ["A", "AB", "B", "BC", "C", "CA"]
    assert sorted(two) == ["东", "东村", "村"]
    # Immutable, as an index needs; never in a parallel worker (see the migration).
    assert (empty, null, volatility, parallel) == ([], None, "i", "r")


@pytest.mark.django_db
def test_postgres_search_indexes_keep_a_short_pending_list():
    # A search reads a GIN index's pending list through; the default 4 MB made a search of the
    # national network after ordinary tree writes 60 ms instead of 8 (migration 0014).
    need_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'network_hall'::regclass "
            "AND a.amname = 'gin'"
        )
        options = dict(cursor.fetchall())
    assert len(options) == 8, options
    assert all(o == ["gin_pending_list_limit=256"] for o in options.values()), options


def test_postgres_reads_the_grams_indexes_on_a_network_of_20000_halls(db):
    """Left to itself (no planner setting), the planner reads a rare pair through the indexes,
    for the count and for the page."""
    need_postgres()
    generate_network(
        NetworkShape(
            cities=4, counties_per_city=5, townships_per_county=10, points_per_township=100
        )
    )  # about 20,000 halls, analysed by the load
    rare = (
        Hall.objects.filter(level=3).order_by("pk").values_list("locality", flat=True).first()[:2]
    )
    found = directory_search(rare)
    assert 0 < found.count() < 1000
    count_plan = found.order_by().values("pk")[:1001].explain()
    page_plan = found[:20].explain()
    for plan in (count_plan, page_plan):
        assert "hall_locality_grams" in plan and "hall_name_grams" in plan, plan
    assert "hall_locality_grams" in directory_search(rare[0] + "王").explain()


# --- A search that matches most of the nation: counted up to SEARCH_COUNT_CAP -------------------

COMMON = "综合文化服务中心"  # in the name of nearly every village's hall


@pytest.fixture
def villages(cast):
    """Twelve service points named like most of the nation's: eleven under 华山街道, then one
    under 关上街道, added last but first in tree order (so ids alone would misorder them)."""
    later = [
        services.hall_create(
            parent=cast.other_county_branch, name=f"华山{i}村{COMMON}", locality=f"华山{i}村"
        )
        for i in range(11)
    ]
    first = services.hall_create(parent=cast.branch, name=f"关上新村{COMMON}", locality="关上新村")
    return [first, *later]


def page_links(response) -> list[int]:
    main = response.content.decode().split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return [int(pk) for pk in re.findall(r'href="/halls/(\d+)/"', main)]


@pytest.fixture
def four_a_page(monkeypatch):
    monkeypatch.setattr(views, "RESULTS_PER_PAGE", 4)


def test_the_page_counts_up_to_the_cap_and_asks_for_a_closer_name(
    client, villages, settings, four_a_page
):
    settings.SEARCH_COUNT_CAP = 10
    url = reverse("network:hall_search")
    first = client.get(url, {"q": COMMON})
    html = first.content.decode()
    assert f"“{COMMON}”:找到超过 10 个场馆,只列出前 10 个。" in html
    assert "村(社区)名、乡镇(街道)名" in html
    assert "第 1 / 3 页" in html  # 10 of the 12, four a page
    pages = [page_links(first)] + [
        page_links(client.get(url, {"q": COMMON, "page": n})) for n in (2, 3)
    ]
    assert [len(p) for p in pages] == [4, 4, 2]
    assert sum(pages, []) == [hall.pk for hall in villages[:10]]  # tree order
    last = client.get(url, {"q": COMMON, "page": 3}).content.decode()
    assert 'rel="next"' not in last
    # A page past the cap shows the last page within it.
    assert page_links(client.get(url, {"q": COMMON, "page": 4})) == pages[2]


def test_the_page_counts_exactly_up_to_the_cap(client, villages, settings):
    settings.SEARCH_COUNT_CAP = 12
    html = client.get(reverse("network:hall_search"), {"q": COMMON}).content.decode()
    assert "找到 12 个场馆" in html and "超过" not in html


def api_walk(client, params: dict) -> tuple[dict, list[int]]:
    """The first page, and the ids of every page reached through ``next``."""
    first = page = client.get("/api/v1/halls/", params).json()
    ids = [row["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        ids += [row["id"] for row in page["results"]]
    return first, ids


def test_the_api_says_when_the_count_is_capped_and_next_stops_at_it(client, villages, settings):
    settings.SEARCH_COUNT_CAP = 10
    first, ids = api_walk(client, {"q": COMMON, "page_size": 4})
    assert first["count"] == 10 and first["count_capped"] is True
    assert ids == [hall.pk for hall in villages[:10]]
    assert client.get("/api/v1/halls/", {"q": COMMON, "page_size": 4, "page": 4}).status_code == 404
    # Under the cap the count is exact; lists without q always count exactly.
    settings.SEARCH_COUNT_CAP = 12
    first, ids = api_walk(client, {"q": COMMON, "page_size": 5})
    assert (first["count"], first["count_capped"]) == (12, False)
    assert ids == [hall.pk for hall in villages]
    settings.SEARCH_COUNT_CAP = 1
    body = client.get("/api/v1/halls/").json()
    assert (body["count"], body["count_capped"]) == (22, False)
    body = client.get("/api/v1/halls/", {"q": "  "}).json()
    assert (body["count"], body["count_capped"]) == (22, False)


def test_the_api_caps_a_search_within_a_subtree(client, cast, villages, settings):
    settings.SEARCH_COUNT_CAP = 5
    first, ids = api_walk(client, {"q": COMMON, "within": cast.other_county.pk, "page_size": 2})
    assert (first["count"], first["count_capped"]) == (5, True)
    assert ids == [hall.pk for hall in villages[1:6]]
    body = client.get("/api/v1/halls/", {"q": COMMON, "within": cast.county.pk}).json()
    assert (body["count"], body["count_capped"]) == (1, False)
    assert [row["id"] for row in body["results"]] == [villages[0].pk]


def test_both_orders_give_tree_order(villages, settings):
    """Few matches are sorted (tree_id + 0, so the trigram indexes find them); matches that reach
    the cap are read along the tree index: the same halls in the same order."""
    settings.SEARCH_COUNT_CAP = 100
    with CaptureQueriesContext(connection) as few:
        sorted_page = list(SearchPaginator(directory_search(COMMON), 20, query=COMMON).page(1))
    settings.SEARCH_COUNT_CAP = 7
    with CaptureQueriesContext(connection) as dense:
        paginator = SearchPaginator(directory_search(COMMON), 20, query=COMMON)
        walked_page = list(paginator.page(1))
    assert sorted_page == villages
    assert walked_page == villages[:7] and paginator.capped
    count_sql, page_sql = (query["sql"] for query in dense.captured_queries)
    assert "LIMIT 8" in count_sql  # stops at cap + 1
    assert "+ 0" in few.captured_queries[1]["sql"] and "+ 0" not in page_sql


@pytest.mark.parametrize("cap", [100, 7, 3])
def test_the_search_page_chooses_its_halls_before_reading_their_ancestors(
    villages, settings, cap, django_assert_num_queries, monkeypatch
):
    """``rows``: the page's ids are chosen in a subquery, in the order the count chose, and
    only those halls are read with their ancestors: the same halls in the same order, in the
    same one query a page."""
    monkeypatch.setattr(SearchPaginator, "ROWS_FIRST_ABOVE", 0)  # a few villages stand for many
    settings.SEARCH_COUNT_CAP = cap
    plain = SearchPaginator(directory_search(COMMON), 4, query=COMMON)
    chosen = SearchPaginator(directory_search(COMMON), 4, query=COMMON, rows=search_results)
    assert chosen.count == plain.count  # counted once, before the pages
    for number in range(1, plain.num_pages + 1):
        expected = list(plain.page(number))
        with CaptureQueriesContext(connection) as queries:
            page = list(chosen.page(number))
        assert page == expected and [hall_chain(h) for h in page] == [
            hall_chain(h) for h in expected
        ]
        (sql,) = (query["sql"] for query in queries.captured_queries)
        window = sql.split(" IN (SELECT ", 1)[1].rsplit(") ORDER BY", 1)[0]
        assert "JOIN" not in window and "JOIN" in sql  # the ancestors joined to the page alone
        assert ("+ 0" in window) is (not chosen.capped)


def test_a_few_matches_are_read_with_their_ancestors_without_choosing_first(villages):
    # Up to ROWS_FIRST_ABOVE pages of matches, joining them all costs less than the subquery.
    few = SearchPaginator(directory_search(COMMON), 20, query=COMMON, rows=search_results)
    assert 0 < few.count <= SearchPaginator.ROWS_FIRST_ABOVE * 20
    with CaptureQueriesContext(connection) as queries:
        page = list(few.page(1))
    (sql,) = (query["sql"] for query in queries.captured_queries)
    assert " IN (SELECT " not in sql and "JOIN" in sql
    assert page == list(SearchPaginator(directory_search(COMMON), 20, query=COMMON).page(1))


@pytest.mark.parametrize("q", [COMMON, "华山", "华"])
@pytest.mark.parametrize("cap", [5, 1000])
def test_search_query_counts_are_pinned(
    client, cast, villages, settings, cap, q, django_assert_num_queries
):
    settings.SEARCH_COUNT_CAP = cap
    # The capped count, then the page with its ancestors joined.
    with django_assert_num_queries(2):
        assert client.get(reverse("network:hall_search"), {"q": q}).status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/api/v1/halls/", {"q": q}).status_code == 200
    # ``within`` first loads its hall's tree numbers.
    with django_assert_num_queries(3):
        body = client.get("/api/v1/halls/", {"q": q, "within": cast.centre.pk}).json()
    assert body["count_capped"] is (cap == 5)


# --- One and two characters: counted up to SEARCH_SHORT_COUNT_CAP ------------------------------


def test_a_search_with_a_form_of_one_or_two_characters_counts_less_far(settings):
    settings.SEARCH_COUNT_CAP = 1000
    settings.SEARCH_SHORT_COUNT_CAP = 200
    assert [search_count_cap(q) for q in ("华", "华山", " 华 山 ", "１２")] == [200] * 4
    assert search_count_cap("第10") == 200  # also 第十
    assert [search_count_cap(q) for q in ("华山村", "关上第一社区", "", "  ")] == [1000] * 4
    settings.SEARCH_COUNT_CAP = 50  # the short cap never counts further than the other
    assert (search_count_cap("华"), search_count_cap("华山村")) == (50, 50)


def test_the_page_counts_a_short_search_up_to_its_cap(client, villages, settings, four_a_page):
    settings.SEARCH_COUNT_CAP = 1000
    settings.SEARCH_SHORT_COUNT_CAP = 5
    url = reverse("network:hall_search")
    matches = substring_matches("华山", SEARCH_FIELDS)
    assert len(matches) > 5
    first = client.get(url, {"q": "华山"})
    html = first.content.decode()
    assert "“华山”:找到超过 5 个场馆,只列出前 5 个。" in html
    assert "第 1 / 2 页" in html and 'rel="next"' in html
    second = client.get(url, {"q": "华山", "page": 2}).content.decode()
    assert 'rel="next"' not in second
    assert page_links(first) + page_links(client.get(url, {"q": "华山", "page": 2})) == matches[:5]
    # Three characters count as far as before.
    long = client.get(url, {"q": "华山街"}).content.decode()
    assert f"找到 {len(substring_matches('华山街', SEARCH_FIELDS))} 个场馆" in long


def test_the_api_counts_a_short_search_up_to_its_cap(client, villages, settings):
    settings.SEARCH_COUNT_CAP = 1000
    settings.SEARCH_SHORT_COUNT_CAP = 5
    matches = substring_matches("华", (*SEARCH_FIELDS, "code"))
    first, ids = api_walk(client, {"q": "华", "page_size": 2})
    assert (first["count"], first["count_capped"]) == (5, True)
    assert ids == matches[:5]
    assert client.get("/api/v1/halls/", {"q": "华", "page_size": 2, "page": 4}).status_code == 404
    body = client.get("/api/v1/halls/", {"q": "华山街道综合"}).json()
    assert (body["count"], body["count_capped"]) == (1, False)


SHORT_COUNTED = ["华", "华山", "中心", "关上", "山村", "村", "一", "王", "ab"]


@pytest.mark.parametrize("q", SHORT_COUNTED)
def test_a_short_search_counts_what_counting_every_match_would(villages, lettered, settings, q):
    """On PostgreSQL the count first reads the place names alone (``place_name_q``) and reads
    the other fields only when those do not reach the cap: the count and ``capped`` must be what
    counting every match gives, whether the place names reach the cap (华山) or not (中心), with
    or without another filter."""
    other_county = Hall.objects.get(locality="五华区")
    searches = (
        lambda: directory_search(q),
        lambda: HallFilter({"q": q}, queryset=Hall.objects.all()).qs,
        lambda: HallFilter({"q": q, "within": other_county.pk}, queryset=Hall.objects.all()).qs,
    )
    for search in searches:
        every = len(search())
        for cap in range(1, 16):
            settings.SEARCH_SHORT_COUNT_CAP = cap
            paginator = SearchPaginator(search(), 4, query=q)
            assert (paginator.count, paginator.capped) == (min(every, cap), every > cap), cap
