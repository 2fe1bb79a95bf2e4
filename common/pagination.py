"""A paginator that spares a public list its COUNT query when the list fits on its first page."""

from __future__ import annotations

from django.core import paginator


class RowsFirstPaginator(paginator.Paginator):
    """Django's ``Paginator``, except that the first page reads its rows before the count: when
    there are fewer of them than a page, they are the whole list, and their number is its count,
    so no ``COUNT`` query is sent. A filtered list that fits on one page (the usual answer to a
    narrow filter) is then one query instead of two; building and compiling the second was a
    tenth of a list page no cache had seen. Any other page, or a fuller first page, counts as
    ``Paginator`` does."""

    def get_page(self, number) -> paginator.Page:
        if number not in (None, "", "1", 1) or self.orphans or not self.allow_empty_first_page:
            return super().get_page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.count = len(rows)  # sets Paginator's cached property: nothing left to count
        return self._get_page(rows, 1, self)
