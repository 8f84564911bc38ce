from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "needlecare.care"
    verbose_name = "Consultations, plans and sessions"
