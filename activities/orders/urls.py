from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("orders/", views.order_pick, name="pick"),
    path("orders/lookup/", views.order_lookup, name="lookup"),
    path("orders/village/<int:point_id>/", views.order_village, name="village"),
    path("orders/<str:code>/", views.order_detail, name="detail"),
    path("orders/<str:code>/rate/", views.order_rate, name="rate"),
]
