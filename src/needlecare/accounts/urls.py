from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as passkey_views

from needlecare.accounts import security_views, signin_views, trail_views, views

# django-otp-webauthn's endpoints under its own namespace (its template tags name them), with
# the completing views replaced by audited ones.
passkeys = ([
    path("registration/begin/", passkey_views.BeginCredentialRegistrationView.as_view(),
         name="credential-registration-begin"),
    path("registration/complete/", signin_views.PasskeyRegistrationComplete.as_view(),
         name="credential-registration-complete"),
    path("authentication/begin/", passkey_views.BeginCredentialAuthenticationView.as_view(),
         name="credential-authentication-begin"),
    path("authentication/complete/", signin_views.PasskeyAuthenticationComplete.as_view(),
         name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
         name="js-i18n-catalog"),
], "otp_webauthn")

urlpatterns = [
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/<int:pk>/", views.staff_edit, name="staff-edit"),
    path("settings/clinic/", views.clinic_settings_page, name="clinic-settings"),
    path("settings/clinic/closures/", views.closure_add, name="closure-add"),
    path("settings/clinic/closures/<int:pk>/remove/", views.closure_remove,
         name="closure-remove"),
    path("clinic-logo/<slug:slug>/", views.clinic_logo, name="clinic-logo"),
    path("staff/<int:pk>/reset-factors/", security_views.staff_factors_reset,
         name="staff-factors-reset"),
    path("clinic/security/", security_views.clinic_security, name="clinic-security"),
    path("audit/", trail_views.audit_list, name="audit-list"),
    path("audit/export.csv", trail_views.audit_export, name="audit-export"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("account/security/", security_views.security, name="account-security"),
    path("account/security/authenticator/", security_views.totp, name="account-totp"),
    path("account/security/recovery-codes/", security_views.recovery_codes,
         name="account-recovery-codes"),
    path("account/security/<str:kind>/<int:pk>/remove/", security_views.remove_factor,
         name="account-factor-remove"),
    path("account/password/", signin_views.PasswordChange.as_view(), name="password-change"),
    path("login/verify/", signin_views.verify, name="signin-verify"),
    path("login/forgot/", signin_views.PasswordReset.as_view(), name="password-reset"),
    path("login/forgot/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_sent.html"), name="password-reset-sent"),
    path("login/reset/<uidb64>/<token>/", signin_views.PasswordResetConfirm.as_view(),
         name="password-reset-confirm"),
    path("login/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_done.html"), name="password-reset-done"),
    path("passkeys/", include(passkeys)),
]
