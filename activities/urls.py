from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/<int:activity_id>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:activity_id>/picture/", views.activity_picture, name="activity_picture"),
    path(
        "activities/<int:activity_id>/calendar.ics",
        views.activity_calendar,
        name="activity_calendar",
    ),
    path("halls/<int:hall_id>/calendar.ics", views.hall_calendar, name="hall_calendar"),
    path("bookings/lookup/", views.booking_lookup, name="booking_lookup"),
    path("bookings/<str:code>/", views.booking_detail, name="booking_detail"),
    path("bookings/<str:code>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice_detail"),
]
