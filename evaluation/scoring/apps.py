from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "evaluation.scoring"
    label = "scoring"
    verbose_name = _("考核评分")
