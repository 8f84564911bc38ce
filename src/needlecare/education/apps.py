from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "needlecare.education"
    verbose_name = "Articles, reading and the newsletter"

    def ready(self) -> None:
        # Imported here, not at the top: models cannot be imported before the app registry
        # is ready, and these modules import them.
        from needlecare.education import registration

        registration.register()
