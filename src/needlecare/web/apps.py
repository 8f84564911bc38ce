from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "needlecare.web"
    verbose_name = "Web pages"
