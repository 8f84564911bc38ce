from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "needlecare.accounts"
    verbose_name = "Clinics and staff"

    def ready(self) -> None:
        # Importing the module connects its receivers of the sign-in signals (audit rows);
        # it needs the models, so it cannot be imported before the apps are ready.
        from needlecare.accounts import signin  # noqa: F401
