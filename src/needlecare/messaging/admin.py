from django.contrib import admin

from needlecare.messaging.models import MessagingSettings


@admin.register(MessagingSettings)
class MessagingSettingsAdmin(admin.ModelAdmin):
    list_display = ("clinic", "quiet_from", "quiet_until", "outbox_retention_days")
