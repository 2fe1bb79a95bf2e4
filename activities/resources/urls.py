from django.urls import path

from . import views

app_name = "resources"
urlpatterns = [
    path("resources/", views.resource_list, name="resource_list"),
]
