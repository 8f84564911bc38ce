from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "needlecare.recovery"
    verbose_name = "Recovery check-ins and escalations"
