from django.urls import path

from needlecare.accounts import views

urlpatterns = [
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/<int:pk>/", views.staff_edit, name="staff-edit"),
    path("settings/clinic/", views.clinic_settings_page, name="clinic-settings"),
    path("settings/clinic/closures/", views.closure_add, name="closure-add"),
    path("settings/clinic/closures/<int:pk>/remove/", views.closure_remove,
         name="closure-remove"),
    path("clinic-logo/<slug:slug>/", views.clinic_logo, name="clinic-logo"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
