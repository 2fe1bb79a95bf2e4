from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("统计与考核")

    def ready(self) -> None:
        from network.signals import hall_moved

        from .services import reports_follow_moved_hall

        hall_moved.connect(reports_follow_moved_hall, dispatch_uid="evaluation-reports-follow")
