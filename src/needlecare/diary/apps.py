from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "needlecare.diary"
    verbose_name = "The clinic's diary (appointments, rooms, devices, working hours)"

    def ready(self) -> None:
        # Imported here, not at the top: models cannot be imported before the app registry
        # is ready, and the handlers' and sections' modules import them.
        from needlecare.diary import handlers

        handlers.register()
