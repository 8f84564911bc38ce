from django.urls import path

from needlecare.chart import views

urlpatterns = [
    path("patients/<int:pk>/", views.patient_detail, name="patient-detail"),
]
