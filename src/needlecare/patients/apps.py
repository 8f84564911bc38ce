from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "needlecare.patients"
    verbose_name = "Patients"
