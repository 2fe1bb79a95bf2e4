"""Links that open a resident's own page without an account.

A booking or order page shows a resident's name and phone, so its link carries a signature of
the code (``?t=``): the server gave that browser this code. Each kind of link has its own salt,
so a signature of one kind is worthless for another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core import signing
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import urlencode

T = TypeVar("T")


@dataclass(frozen=True)
class SignedLink:
    salt: str
    viewname: str

    def token(self, code: str) -> str:
        return signing.Signer(salt=self.salt).signature(code)

    def url(self, code: str) -> str:
        return f"{reverse(self.viewname, args=[code])}?{urlencode({'t': self.token(code)})}"

    def valid(self, code: str, token: str) -> bool:
        return bool(token) and constant_time_compare(token, self.token(code))

    def find(
        self,
        request: HttpRequest,
        code: str,
        *,
        normalize: Callable[[str], str],
        select: Callable[[str], T | None],
        not_found: str,
    ) -> T:
        """What ``select`` finds for the code when the request carries the code's token (``t``
        in the query or the form); a 404 saying ``not_found`` otherwise, the same answer for a
        code that does not exist, so a guess learns nothing."""
        code = normalize(code)
        token = request.GET.get("t") or request.POST.get("t") or ""
        if not self.valid(code, token):
            raise Http404(not_found)
        found = select(code)
        if found is None:
            raise Http404(not_found)
        return found
