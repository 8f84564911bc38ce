from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "needlecare.audit"
    verbose_name = "Audit trail"
