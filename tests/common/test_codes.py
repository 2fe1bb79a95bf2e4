"""The codes residents read aloud: a booking's, an order's, a reservation's."""

from __future__ import annotations

from common.codes import CODE_ALPHABET, CODE_LENGTH, new_code, normalize_code


def test_a_code_is_eight_letters_none_of_which_can_be_misread():
    codes = [new_code() for _i in range(2000)]
    assert all(len(code) == CODE_LENGTH == 8 for code in codes)
    letters = set("".join(codes))
    assert letters <= set(CODE_ALPHABET)
    assert not letters & set("01IO")


def test_every_letter_of_the_alphabet_is_drawn():
    # 16,000 letters from 32: a letter missing from all of them would mean the draw skips it.
    assert set("".join(new_code() for _i in range(2000))) == set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) == 32  # the draw takes a byte modulo 32


def test_a_typed_code_is_read_as_stored():
    assert normalize_code("  euwvg92t ") == "EUWVG92T"
    assert normalize_code(None) == ""
