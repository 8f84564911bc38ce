from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "needlecare.rights"
    label = "rights"
    verbose_name = "Patient's rights"
