"""The codes residents are given for a booking, an order or a reservation, and read aloud."""

from __future__ import annotations

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
