from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "activities.orders"
    label = "orders"
    verbose_name = _("点单")

    def ready(self) -> None:
        # The escalation task lives beside its service; importing the module registers it with
        # Celery (autodiscovery looks only for a ``tasks`` module).
        from . import services  # noqa: F401
