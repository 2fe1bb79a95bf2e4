from django.urls import path

from . import views

app_name = "venues"
urlpatterns = [
    path("venues/", views.venue_list, name="venue_list"),
    path("venues/<int:venue_id>/", views.venue_detail, name="venue_detail"),
    path("venues/<int:venue_id>/photo/", views.venue_photo, name="venue_photo"),
    path("venues/reservations/lookup/", views.reservation_lookup, name="reservation_lookup"),
    path("venues/reservations/<str:code>/", views.reservation_detail, name="reservation_detail"),
    path(
        "venues/reservations/<str:code>/cancel/",
        views.reservation_cancel,
        name="reservation_cancel",
    ),
]
