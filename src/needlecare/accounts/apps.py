from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "needlecare.accounts"
    verbose_name = "Clinics and staff"
