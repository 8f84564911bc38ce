from django.urls import path

from needlecare.documents import views

urlpatterns = [
    # Staff.
    path("sessions/<int:pk>/aftercare-plan.pdf", views.aftercare_plan_pdf,
         name="session-aftercare-pdf"),
    path("sessions/<int:pk>/check-in-days.ics", views.session_calendar,
         name="session-calendar"),
    path("consents/<int:pk>/consent.pdf", views.consent_pdf, name="consent-pdf"),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    # The patient's phone pages: under /p/<token>/, where the device cookie is sent.
    path("p/<str:token>/aftercare-plan.pdf", views.patient_aftercare_pdf,
         name="patient-aftercare-pdf"),
    path("p/<str:token>/check-in-days.ics", views.patient_calendar, name="patient-calendar"),
]
