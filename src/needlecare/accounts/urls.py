from django.urls import path

from needlecare.accounts import views

urlpatterns = [
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/<int:pk>/", views.staff_edit, name="staff-edit"),
]
