from django.apps import AppConfig


class ChartConfig(AppConfig):
    name = "needlecare.chart"
    verbose_name = "The patient's chart (timeline across care and recovery)"
