"""The operators' admin (/operator/): clinics and their staff accounts. Clinic owners manage
their own staff in the app; this is for the people who run the deployment."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from needlecare.accounts.models import Clinic, User


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "phone", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "clinic", "role", "is_active",
                    "last_login")
    list_filter = ("clinic", "role", "is_active", "is_superuser")
    list_select_related = ("clinic",)
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Clinic"), {"fields": ("clinic", "role", "title")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Clinic"), {"fields": ("clinic", "role", "title")}),
    )
