from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import health, views

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (a PDF, a download).
    path(
        "favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg", permanent=True)
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health.health, name="health"),
    path("staff/", include("activities.staff_urls")),
    path("residents/", include("activities.residents.urls")),
    path("privacy/", views.privacy, name="privacy"),
    path("me/", views.me, name="me"),
    path("screen/", views.screen, name="screen"),
    path("screen/<str:token>/", views.screen_public, name="screen_public"),
    path("me/bookings/<str:code>/cancel/", views.me_cancel, name="me_cancel"),
    path("me/data/", views.me_data, name="me_data"),
    path("me/data.json", views.me_data_download, name="me_data_download"),
    path("me/data/erase/", views.me_erase, name="me_erase"),
    path("", include("activities.orders.urls")),
    path("", include("activities.urls")),
    path("", include("evaluation.urls")),
    path("", include("activities.resources.urls")),
    path("", include("activities.digital.urls")),
    path("", include("activities.venues.urls")),
    path("", include("network.urls")),
    path("", views.home, name="home"),
]

handler400 = "common.middleware.bad_request"
handler404 = "common.middleware.not_found"
handler500 = "common.middleware.server_error"
handler403 = "portal.views.forbidden"
