from django.urls import path

from needlecare.rights import views

urlpatterns = [
    path("patients/<int:pk>/record/export/", views.record_export,
         name="patient-record-export"),
    path("patients/<int:pk>/record/erase/", views.record_erase, name="patient-record-erase"),
]
