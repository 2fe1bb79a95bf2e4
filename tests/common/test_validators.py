"""The mainland mobile-number validator: the numbering plan (``phonenumbers``), not a pattern."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from common.validators import mobile_validator, normalize_mobile


@pytest.mark.parametrize(
    "phone", ["13800138000", "15012345678", "16200000000", "17400000000", "19200000000"]
)
def test_mobile_ranges_pass(phone):
    mobile_validator(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12345678901",  # no such range
        "14000000000",  # 140, 154, 160 and 179: patterned like a mobile, never assigned
        "15400000000",
        "16000000000",
        "17900000000",
        "1380013800",  # 10 digits
        "138001380001",
        "08716312345",  # a landline
        "+8613800138000",  # the form keeps 11 digits; normalize_mobile turns this into them
        "",
        "13800138000\n",  # the pattern's $ would let a newline through
        "13\u0668\u0660\u0660\u0661\u0663\u0668\u0660\u0660\u0660",  # digits, not ASCII ones
        "13８００１３８０００",
    ],
)
def test_numbers_that_are_not_mainland_mobiles_fail_with_one_message(phone):
    with pytest.raises(ValidationError) as exc:
        mobile_validator(phone)
    assert exc.value.messages == ["请填写 11 位中国大陆手机号码,如 13800138000。"]


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("+86 138 0013 8000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        (" 13800138000 ", "13800138000"),
        ("+1 650 555 0100", "+1 650 555 0100"),  # not mainland: left for the validator to refuse
        ("abc", "abc"),
    ],
)
def test_normalize_mobile(raw, digits):
    assert normalize_mobile(raw) == digits


def test_migrations_see_the_pattern_they_always_saw():
    # Every room that stores a phone serialized this validator as a RegexValidator.
    path, args, kwargs = mobile_validator.deconstruct()
    assert path == "django.core.validators.RegexValidator"
    assert args == (r"^1[3-9]\d{9}$", "请填写 11 位中国大陆手机号码,如 13800138000。")
