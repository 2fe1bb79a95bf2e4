"""Validators that models, forms and API serializers of several rooms share."""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

MOBILE_MESSAGE = _("请填写 11 位中国大陆手机号码,如 13800138000。")
_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def normalize_mobile(value: str) -> str:
    """The 11 digits of a mainland mobile number as people write it (spaces, dashes, +86 or
    0086 in front); the input stripped but otherwise unchanged when it is not one, for the
    validator to refuse."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return raw
    if number.country_code != 86:
        return raw
    return str(number.national_number)


# Migrations record it as the RegexValidator it extends (the same pattern and message as before
# ``phonenumbers`` came in), so no room that stores a phone needs a migration for the change.
@deconstructible(path="django.core.validators.RegexValidator")
class MobileValidator(RegexValidator):
    """A mainland China mobile number: 11 digits (the pattern), in a range the numbering plan
    gives to mobiles (``phonenumbers``' metadata, which follows new ranges with the package),
    so a made-up number such as 12345678901 or an unassigned range is refused."""

    def __call__(self, value) -> None:
        # The pattern compiled here rather than RegexValidator's lazily compiled one: a booking
        # checks its phone twice, and the lazy object's indirection cost more than the match.
        if not (isinstance(value, str) and _ELEVEN_DIGITS.fullmatch(value)):
            super().__call__(value)  # RegexValidator's own answer (and error) for the rest
        if not _in_mobile_range(str(value)):
            raise ValidationError(self.message, code=self.code)


_MOBILE_DIGITS = r"1[3-9]\d{9}"
MOBILE_PATTERN = rf"^{_MOBILE_DIGITS}$"
_ELEVEN_DIGITS = re.compile(_MOBILE_DIGITS)


# A booking checks its phone twice (the API's serializer, then the service, which every caller
# goes through), and the numbering plan's lookup is most of what checking it costs; the answer for
# a string of 11 digits never changes while the process runs.
@functools.lru_cache(maxsize=1024)
def _in_mobile_range(digits: str) -> bool:
    if not digits.isascii() or not digits.isdigit():
        return False
    # The number as parse() would make it of 11 digits in CN, without parse()'s work.
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    return phonenumbers.number_type(number) in _MOBILE_TYPES


mobile_validator = MobileValidator(MOBILE_PATTERN, MOBILE_MESSAGE)
