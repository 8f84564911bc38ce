from django.urls import path

from needlecare.patients import views

urlpatterns = [
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/new/", views.patient_new, name="patient-new"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient-edit"),
]
