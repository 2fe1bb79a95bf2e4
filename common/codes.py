"""The codes residents are given for a booking, an order or a reservation, and read aloud; and
the demo's codes, drawn from a fixed seed so that every demo prints the same ones."""

from __future__ import annotations

import random
import secrets

# No 0/O, 1/I: codes are read aloud. 32 letters, as new_code's draw needs.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    # One read of the system's randomness for the whole code; 256 is a multiple of the
    # alphabet's 32 letters, so every letter is as likely.
    return "".join(CODE_ALPHABET[byte % 32] for byte in secrets.token_bytes(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """A code as typed (spaces around it, lower case) as it is stored."""
    return (code or "").strip().upper()


def fix_codes(model, rows, seed: str, order: tuple[str, ...] = ("pk",)) -> None:
    """Give the demo's bookings, orders or reservations codes drawn from a fixed seed (the
    services draw them at random), in ``order``, so that every run of seed_demo prints the
    same code to try."""
    rng = random.Random(seed)
    taken = set(model.objects.values_list("code", flat=True))
    for row in rows.order_by(*order):
        code = row.code
        while code in taken or code == row.code:
            code = "".join(rng.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        taken.add(code)
        model.objects.filter(pk=row.pk).update(code=code)
