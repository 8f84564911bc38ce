from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "needlecare.messaging"
    verbose_name = "Messages to patients and staff (outbox)"

    def ready(self) -> None:
        # Imported here, not at the top: models cannot be imported before the app registry
        # is ready, and the handlers' module imports them.
        from needlecare.messaging import scheduling

        scheduling.register()
