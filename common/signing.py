"""Links that open a resident's own page without an account.

A booking or order page shows a resident's name and phone, so its link carries a signature of
the code (``?t=``): the server gave that browser this code. Each kind of link has its own salt,
so a signature of one kind is worthless for another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import urlencode


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
