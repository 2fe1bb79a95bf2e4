"""Every app's API routes, under ``/api/v1/``, plus the OpenAPI schema and its docs page."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from activities.api import ActivityViewSet, BookingViewSet
from activities.digital.api import DigitalViewSet
from activities.orders.api import MenuItemViewSet, OrderViewSet, StaffOrderViewSet
from activities.residents.api import PhoneCodeView, PhoneTokenView
from activities.resources.api import DispatchViewSet, ResourceViewSet
from activities.venues.api import ReservationViewSet, VenueViewSet
from evaluation.api import ScoresView, StatisticsView
from network.api import HallViewSet
from portal.api import MeView

router = DefaultRouter()
router.include_format_suffixes = False
# The router tries its routes in this order: the residents' bookings, the busiest writes, first.
router.register("activities", ActivityViewSet, basename="activity")
router.register("bookings", BookingViewSet, basename="booking")
router.register("halls", HallViewSet, basename="hall")
router.register("resources", ResourceViewSet, basename="resource")
router.register("digital", DigitalViewSet, basename="digital")
router.register("dispatches", DispatchViewSet, basename="dispatch")
router.register("demands", OrderViewSet, basename="demand")
router.register("menu-items", MenuItemViewSet, basename="menu-item")
router.register("staff/demands", StaffOrderViewSet, basename="staff-demand")
router.register("venues", VenueViewSet, basename="venue")
router.register("reservations", ReservationViewSet, basename="reservation")

urlpatterns = [
    path("", include(router.urls)),
    path("phone-codes/", PhoneCodeView.as_view(), name="phone-code"),
    path("phone-tokens/", PhoneTokenView.as_view(), name="phone-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("scores/", ScoresView.as_view(), name="scores"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start script as a file of its own (no inline script); the UI itself sets
    # style attributes, so its page alone allows inline styles.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
