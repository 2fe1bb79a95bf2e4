from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "evaluation.reports"
    label = "reports"
    verbose_name = _("季度与年度报告")
