from django.urls import path

from needlecare.care import views

urlpatterns = [
    path("patients/<int:patient_pk>/consultations/new/", views.consultation_new,
         name="consultation-new"),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation-detail"),
    path("consultations/<int:pk>/override/", views.consultation_override,
         name="consultation-override"),
    path("patients/<int:patient_pk>/consents/new/", views.consent_new, name="consent-new"),
    path("consents/<int:pk>/", views.consent_detail, name="consent-detail"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent-withdraw"),
    path("consultations/<int:consultation_pk>/plans/new/", views.plan_new, name="plan-new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    # Booking and cancelling a session are the diary's (needlecare.diary.urls).
    path("sessions/lots/", views.lot_search, name="lot-search"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/sign/", views.session_sign, name="session-sign"),
    path("sessions/<int:pk>/addenda/", views.session_addendum, name="session-addendum"),
]
