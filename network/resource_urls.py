from django.urls import path

from . import resource_views

app_name = "resources"
urlpatterns = [
    path("resources/", resource_views.resource_list, name="resource_list"),
]
