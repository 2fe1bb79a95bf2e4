from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VenuesConfig(AppConfig):
    name = "activities.venues"
    # Tables, admin URLs and content types are named "venues": the room stands beside
    # activities on its floor, it is not part of it.
    label = "venues"
    verbose_name = _("场馆预约")
