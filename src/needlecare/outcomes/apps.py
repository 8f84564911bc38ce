from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "needlecare.outcomes"
    verbose_name = "Outcomes, treatment choice, referrals and the clinic's numbers"

    def ready(self) -> None:
        # Imported here, not at the top: models cannot be imported before the app registry
        # is ready, and the handlers' and sections' modules import them.
        from needlecare.outcomes import handlers, page_sections

        handlers.register()
        page_sections.register()
