from django.urls import path

from . import views

app_name = "digital"
urlpatterns = [
    path("digital/", views.resource_list, name="resource_list"),
    path("digital/<int:resource_id>/", views.resource_detail, name="resource_detail"),
    path("digital/<int:resource_id>/file/", views.resource_file, name="resource_file"),
    path("digital/<int:resource_id>/cover/", views.resource_cover, name="resource_cover"),
    path("digital/<int:resource_id>/play/", views.resource_play, name="resource_play"),
    path("digital/pictures/<int:picture_id>/", views.picture_file, name="picture_file"),
]
