from django.contrib import admin

from needlecare.education.models import RateLimit


@admin.register(RateLimit)
class RateLimitAdmin(admin.ModelAdmin):
    """The public newsletter's limits: an operator raises or lowers them here, and every
    server process counts against the new numbers at once."""

    list_display = ("name", "max_requests", "window_seconds", "description")
    list_editable = ("max_requests", "window_seconds")
    readonly_fields = ("name",)
