from django.contrib import admin
from django.urls import include, path

from needlecare.api.routes import api

urlpatterns = [
    path("", include("needlecare.web.urls")),
    path("", include("needlecare.patients.urls")),
    path("", include("needlecare.accounts.urls")),
    path("", include("needlecare.care.urls")),
    path("", include("needlecare.recovery.urls")),
    path("", include("needlecare.documents.urls")),
    path("", include("needlecare.photos.urls")),
    path("", include("needlecare.messaging.urls")),
    path("", include("needlecare.chart.urls")),
    path("", include("needlecare.rights.urls")),
    path("api/", api.urls),
    path("operator/", admin.site.urls),
]
