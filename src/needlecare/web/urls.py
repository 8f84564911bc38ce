from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from needlecare.web import views


class FaviconRedirect(RedirectView):
    """Resolved per request, not at import: the hashed name exists only once the static files
    are collected, and commands such as ``migrate`` load the URLs before that."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("needlecare/favicon.svg")


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON, files).
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
