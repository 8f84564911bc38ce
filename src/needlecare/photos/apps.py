from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "needlecare.photos"
    verbose_name = "Clinical photographs"

    def ready(self) -> None:
        # Imported here, not at the top: the sections' module reaches the models, which cannot
        # be imported before the app registry is ready.
        from needlecare.photos import page_sections

        page_sections.register()
