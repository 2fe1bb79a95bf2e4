from django.urls import path

from . import views

app_name = "residents"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
]
