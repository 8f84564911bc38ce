from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "needlecare.messaging"
    verbose_name = "Messages to patients and staff (outbox)"
