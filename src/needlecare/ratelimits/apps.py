from django.apps import AppConfig


class RateLimitsConfig(AppConfig):
    name = "needlecare.ratelimits"
    verbose_name = "Rate limits"
