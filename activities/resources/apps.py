from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResourcesConfig(AppConfig):
    name = "activities.resources"
    # The label keeps the tables, the admin URLs and the content types named "resources", not
    # "activities_resources": the app stands on activities, it is not part of it.
    label = "resources"
    verbose_name = _("资源目录与调配")
