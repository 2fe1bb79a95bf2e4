from django.urls import path

from . import staff_views

app_name = "activities_staff"

urlpatterns = [
    path("checkin/", staff_views.checkin_index, name="checkin"),
    path("checkin/<int:activity_id>/", staff_views.checkin_activity, name="checkin_activity"),
]
