"""What residents type into a hall search, and the forms of it that a hall's name may use.

Names write numbers both ways (关上第1社区, 关上第一社区) and phones type full-width characters
and stray spaces. ``query_forms`` gives the typed text normalised (full-width to half-width, no
spaces) and, when it holds a number, the same text with Chinese numerals as digits and with
digits as Chinese numerals; ``name_search_q`` matches any of the forms in any of the fields.

On PostgreSQL each field has a ``pg_trgm`` GIN index on ``UPPER(field::text)`` (migration
``0012_hall_search_trigrams``), the very expression of Django's ``icontains``, so a search of
the national network reads the index instead of every row. A form of one or two characters
holds no trigram: it is matched by ``GramContains``, which PostgreSQL answers from a GIN index
of each field's characters and character pairs (migration ``0013_hall_search_grams``). SQLite
scans, as before.

A search that matches most of the nation (综合文化服务中心: 610,000 halls) is neither counted
nor sorted in full: ``SearchPaginator`` counts up to ``SEARCH_COUNT_CAP`` and, when the count
reaches it, orders the matches so that the planner can walk the tree index instead of sorting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection, connections
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.lookups import IContains
from django.utils.functional import cached_property

SEARCH_FIELDS = ("name", "plaque_name", "locality")  # what the public search and the API read
# The order in which a form of one or two characters tests the fields, the shortest first: where
# PostgreSQL tests rows instead of reading the indexes, a matching row builds the grams of the
# fields in this order until one holds the form, at a cost that grows with the field's length.
# Counting 1,001 halls of 社区 took 13.6-14.1 ms with the name first, 7.4-8.6 ms with the place
# name first. Longer forms keep ``SEARCH_FIELDS``' order: 综合文化服务中心 is in the names.
GRAMS_ORDER = ("locality", "name", "plaque_name", "code")
# Tree order for a list of matches, which the planner cannot take from the (tree_id, lft) index:
# walking that index to find the first match of a rare name reads the whole table (about 300 ms
# nationally, against a few ms through the trigram indexes and a sort of the matches).
MATCHES_IN_TREE_ORDER = (F("tree_id") + 0, "lft")
# The same order, which the planner may take from the (tree_id, lft) index: for matches dense
# enough to reach the count's cap, walking the index finds a page's rows at once.
DENSE_MATCHES_IN_TREE_ORDER = ("tree_id", "lft")
DIGITS = "零一二三四五六七八九"
CHINESE_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千]+")
ARABIC_NUMBER = re.compile("[0-9]+")
_VALUES = {ch: i for i, ch in enumerate(DIGITS)} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def normalize(text: str) -> str:
    """Full-width letters, digits and spaces as half-width (NFKC), and no whitespace at all."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def chinese_to_int(numeral: str) -> int | None:
    """一 → 1, 十一 → 11, 二十 → 20, 一百零五 → 105, 一二 → 12 (digit by digit);
    ``None`` when it does not read as one number (十十, 百)."""
    if not any(ch in _UNITS for ch in numeral):
        return int("".join(str(_VALUES[ch]) for ch in numeral))
    total, digit, last_unit = 0, None, 10_000
    for ch in numeral:
        if ch in _VALUES:
            if digit is not None and _VALUES[ch] != 0:
                return None  # two digits without a unit between them
            digit = _VALUES[ch] if _VALUES[ch] != 0 else None
            continue
        unit = _UNITS[ch]
        if unit >= last_unit:
            return None
        if digit is None:
            if ch != "十" or total:
                return None  # 百 or 千 alone; 十 alone only leads (十一, not 一百十)
            digit = 1
        total += digit * unit
        digit, last_unit = None, unit
    return total + (digit or 0)


def int_to_chinese(number: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 105 → 一百零五; above 9,999 digit by digit."""
    if number >= 10_000:
        return "".join(DIGITS[int(d)] for d in str(number))
    if number == 0:
        return DIGITS[0]
    out, zero = [], False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, number = divmod(number, unit)
        if digit:
            if zero and out:
                out.append(DIGITS[0])
            out.append(DIGITS[digit] + name)
            zero = False
        else:
            zero = True
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


def _digits(match: re.Match) -> str:
    value = chinese_to_int(match.group())
    return match.group() if value is None else str(value)


def _chinese(match: re.Match) -> str:
    return int_to_chinese(int(match.group()))


def query_forms(text: str) -> list[str]:
    """The typed text normalised, then with numbers as digits and as Chinese numerals (each
    once, in that order); empty when nothing is left to search for."""
    typed = normalize(text)
    if not typed:
        return []
    forms = [typed, CHINESE_NUMERAL.sub(_digits, typed), ARABIC_NUMBER.sub(_chinese, typed)]
    return list(dict.fromkeys(forms))


# Characters that no upper- or lower-casing produces and that none changes (checked over all of
# Unicode): other letters (汉字, kana), decimal digits, punctuation. A text of these is in
# UPPER(field) exactly where it is in the field.
CASELESS_CATEGORIES = ("Lo", "Nd", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po")


def is_caseless(form: str) -> bool:
    return all(unicodedata.category(ch) in CASELESS_CATEGORIES for ch in form)


# The longest form that ``hall_search_grams`` (migration 0013) holds whole: a character or a pair.
GRAM_LENGTH = 2


class GramContains(IContains):
    """``icontains`` for a form of at most ``GRAM_LENGTH`` characters, which PostgreSQL answers
    from the GIN indexes of migration 0013: the form is one of the field's characters or pairs,
    which for such a form is the same as containing it. Elsewhere it is ``icontains``."""

    def as_postgresql(self, compiler, connection):
        # UPPER(field::text), as icontains casts it: the indexed expression.
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"hall_search_grams({lhs_sql}) @> ARRAY[UPPER(%s)]", (*lhs_params, self.rhs)


def _any_contains(forms: list[str], fields: tuple[str, ...], *, as_typed: bool = False) -> Q:
    """Any of ``fields`` contains any of ``forms`` ignoring case; with ``as_typed``, a form
    without case is compared as it is (the same rows, without UPPER())."""
    condition = Q()
    for form in forms:
        lookup = "contains" if as_typed and is_caseless(form) else "icontains"
        for field in fields:
            condition |= Q(**{f"{field}__{lookup}": form})
    return condition


def name_search_q(text: str, fields: Iterable[str]) -> Q | None:
    """Any of ``fields`` contains any form of ``text``; ``None`` when there is nothing to find."""
    forms = query_forms(text)
    if not forms:
        return None
    fields = tuple(fields)
    if connection.vendor != "postgresql" or all(len(form) > GRAM_LENGTH for form in forms):
        # SQLite scans; the trigram indexes serve every longer form, on UPPER() as icontains.
        return _any_contains(forms, fields)
    fields = tuple(sorted(fields, key=GRAMS_ORDER.index))
    indexed = Q()
    for form in forms:
        for field in fields:
            if len(form) <= GRAM_LENGTH:
                indexed |= Q(GramContains(F(field), form))
            else:
                indexed |= Q(**{f"{field}__icontains": form})
    # ``indexed`` alone finds the same halls, but where the planner reads rows instead of the
    # indexes (a common character, or the tree index walked for a page at the cap) it would
    # build each row's grams, 3-6 µs a field: 25 ms for a page of 东村. The cheap LIKEs come
    # first and only a matching row builds them. A form without case skips UPPER() there, which
    # cost three times the LIKE itself: the API's page of 东村 tests 5,400 rows along the tree
    # index. The LIKEs are wrapped in CASE so that the planner takes them as a plain halving of
    # the grams' estimate: multiplied as LIKEs, a selectivity already counted (and misjudged for
    # two characters) made it expect a few rows where there are thousands, and sort them all
    # instead of walking the tree index.
    first_test = _any_contains(forms, fields, as_typed=True)
    return Q(Case(When(first_test, then=Value(True)), default=Value(False))) & indexed


def search_count_cap(text: str) -> int:
    """How many matches a search of ``text`` counts: ``SEARCH_COUNT_CAP``, or for a search with a
    form of one or two characters ``SEARCH_SHORT_COUNT_CAP`` (never more than the first).

    Such a search matches thousands of halls (东村 5,300, 庄 50,000) and its count was most of
    its time: the pairs' indexes are read whole into a bitmap or the rows are tested, the more
    the further the count goes (docs/BENCHMARKS.md). The page still says how many there are or
    that there are more than the cap, and its pages reach every match it counted."""
    forms = query_forms(text)
    if any(len(form) <= GRAM_LENGTH for form in forms):
        return min(settings.SEARCH_SHORT_COUNT_CAP, settings.SEARCH_COUNT_CAP)
    return settings.SEARCH_COUNT_CAP


def place_name_q(text: str) -> Q | None:
    """The halls whose place name holds a form of ``text``, for counting a search of one or two
    characters on PostgreSQL; ``None`` elsewhere (SQLite, or every form longer).

    Every such hall is a match of the search (whose fields include the place name), and the
    place name's pairs index is the smallest: where it alone holds more than the cap, the count
    need not read the name's and the plaque's indexes too. 庄 is in 17,000 place names and
    50,000 plaques: reading the three indexes into one bitmap took 7 ms, the place names' 3 ms
    (docs/BENCHMARKS.md)."""
    forms = query_forms(text)
    if connection.vendor != "postgresql" or all(len(form) > GRAM_LENGTH for form in forms):
        return None
    condition = Q()
    for form in forms:
        if len(form) <= GRAM_LENGTH:
            condition |= Q(GramContains(F(GRAMS_ORDER[0]), form))
        else:
            condition |= Q(**{f"{GRAMS_ORDER[0]}__icontains": form})
    return condition


def _count_first_of(first: QuerySet, matches: QuerySet, *, limit: int) -> int:
    """``matches.count()`` where ``first`` (a part of ``matches``, both sliced to ``limit``)
    holds fewer than ``limit`` rows, else ``limit``: one statement, in which PostgreSQL counts
    ``matches`` only when the CASE needs it (an init plan runs when first used)."""
    try:
        first_sql, first_params = first.query.get_compiler(using=first.db).as_sql()
        all_sql, all_params = matches.query.get_compiler(using=matches.db).as_sql()
    except EmptyResultSet:  # a filter that no row can pass
        return 0
    with connections[matches.db].cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN (SELECT COUNT(*) FROM ({first_sql}) AS f) >= %s THEN %s "
            f"ELSE (SELECT COUNT(*) FROM ({all_sql}) AS a) END",
            (*first_params, limit, limit, *all_params),
        )
        return cursor.fetchone()[0]


class SearchPaginator(Paginator):
    """Pages of the matches of a search of ``query`` in tree order, counted only up to
    ``search_count_cap(query)``.

    ``count`` is then at most the cap and ``capped`` says that there are more: the pages stop at
    the cap, and the resident is asked for a more specific name. The order is chosen from the
    count: below the cap the matches are few, found through the search indexes and sorted
    (``MATCHES_IN_TREE_ORDER``); at the cap the plain order (``DENSE_MATCHES_IN_TREE_ORDER``)
    lets the planner walk the tree index, which meets a page's rows at once where a sort would
    read all of them (610,000 for 综合文化服务中心: about a second). The walk is not forced:
    matches above the cap may all sit at the end of the tree order (a big county's halls), where
    the trigram bitmap is the faster plan (docs/BENCHMARKS.md).

    With ``rows``, a page's matches are chosen by id first (a subquery of ``object_list``'s ids)
    and ``rows(ids)`` reads them, in one query: a page that joins each hall's ancestors then
    joins twenty, where the planner joined every match before sorting (the 998 halls of 梅开:
    6 ms, against 2.7 ms). Only for more than ``ROWS_FIRST_ABOVE`` pages of matches: below
    that, joining them all costs less than the subquery (a single match: 0.6–1.2 ms less).
    ``object_list`` is a search of ``query`` over fields that include the place name
    (``place_name_q``).
    """

    ROWS_FIRST_ABOVE = 4

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        query: str,
        rows: Callable[[QuerySet], QuerySet] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.query = query
        self.rows = rows
        self.cap = search_count_cap(query)

    @cached_property
    def _counted(self) -> int:
        # count(*) over a LIMIT: the scan stops at the first cap + 1 matches.
        matches = self.object_list.order_by().values("pk")[: self.cap + 1]
        first = place_name_q(self.query)
        if first is None:
            return matches.count()
        return _count_first_of(
            self.object_list.filter(first).order_by().values("pk")[: self.cap + 1],
            matches,
            limit=self.cap + 1,
        )

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    def page(self, number):
        number = self.validate_number(number)
        order = DENSE_MATCHES_IN_TREE_ORDER if self.capped else MATCHES_IN_TREE_ORDER
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        window = self.object_list.order_by(*order)[bottom:top]
        if self.rows is not None and self.count > self.ROWS_FIRST_ABOVE * self.per_page:
            window = self.rows(window.values("pk"))
        return self._get_page(window, number, self)
