from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitalConfig(AppConfig):
    name = "activities.digital"
    label = "digital"
    verbose_name = _("数字文化馆")
    default_auto_field = "django.db.models.BigAutoField"
