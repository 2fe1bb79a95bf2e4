from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "evaluation.returns"
    label = "returns"
    verbose_name = _("统计年报")

    def ready(self) -> None:
        from network.signals import hall_moved

        from .services import returns_follow_moved_hall

        hall_moved.connect(returns_follow_moved_hall, dispatch_uid="returns-follow-moved-hall")
