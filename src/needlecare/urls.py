from django.contrib import admin
from django.urls import include, path

from needlecare.api.routes import api

urlpatterns = [
    path("", include("needlecare.web.urls")),
    path("", include("needlecare.patients.urls")),
    path("", include("needlecare.accounts.urls")),
    path("", include("needlecare.care.urls")),
    path("", include("needlecare.recovery.urls")),
    path("", include("needlecare.diary.urls")),
    path("", include("needlecare.documents.urls")),
    path("", include("needlecare.outcomes.urls")),
    path("", include("needlecare.photos.urls")),
    path("", include("needlecare.messaging.urls")),
    path("", include("needlecare.chart.urls")),
    path("", include("needlecare.education.urls")),
    path("", include("needlecare.rights.urls")),
    path("api/", api.urls),
    path("operator/", admin.site.urls),
]

# The error pages (web.errors): the product's style, and on a patient's link the clinic's
# number without a database query.
handler403 = "needlecare.web.errors.permission_denied"
handler404 = "needlecare.web.errors.page_not_found"
handler500 = "needlecare.web.errors.server_error"
