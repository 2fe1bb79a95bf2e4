"""Validators that models, forms and API serializers of several rooms share."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# A mainland China mobile number. Migrations serialize it as the RegexValidator it is, so where
# it lives does not matter to them.
mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("请填写 11 位中国大陆手机号码,如 13800138000。")
)
