"""``common.pagination.RowsFirstPaginator``: Django's pages, one query fewer for a short list."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.paginator import Paginator

from common.pagination import RowsFirstPaginator

pytestmark = pytest.mark.django_db


def groups(n: int):
    Group.objects.bulk_create(Group(name=f"g{i:03d}") for i in range(n))
    return Group.objects.order_by("name")


def same_page(number, total: int, per_page: int = 5) -> None:
    ours = RowsFirstPaginator(groups(total), per_page).get_page(number)
    django = Paginator(Group.objects.order_by("name"), per_page).get_page(number)
    assert list(ours) == list(django)
    assert (ours.number, ours.paginator.count, ours.paginator.num_pages) == (
        django.number,
        django.paginator.count,
        django.paginator.num_pages,
    )
    assert (ours.has_next(), ours.has_previous(), ours.start_index(), ours.end_index()) == (
        django.has_next(),
        django.has_previous(),
        django.start_index(),
        django.end_index(),
    )


@pytest.mark.parametrize("total", [0, 1, 4, 5, 6, 12])
@pytest.mark.parametrize("number", [None, "", "1", 1, "2", "3", "99", "x", "0", "-1"])
def test_every_page_is_the_one_django_gives(total, number):
    same_page(number, total)


def test_a_list_shorter_than_a_page_is_one_query(django_assert_num_queries):
    rows = groups(4)
    with django_assert_num_queries(1):
        page = RowsFirstPaginator(rows, 5).get_page(None)
        assert [g.name for g in page] == ["g000", "g001", "g002", "g003"]
        assert page.paginator.count == 4 and not page.has_other_pages()


def test_a_full_first_page_is_counted(django_assert_num_queries):
    rows = groups(5)
    with django_assert_num_queries(2):
        page = RowsFirstPaginator(rows, 5).get_page("1")
        assert len(page) == 5 and page.paginator.count == 5 and not page.has_next()
