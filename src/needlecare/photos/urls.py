from django.urls import path

from needlecare.photos import patient_views, views

urlpatterns = [
    # Staff.
    path("patients/<int:pk>/photos/", views.patient_photos, name="patient-photos"),
    path("patients/<int:pk>/photos/add/", views.upload, name="photo-upload"),
    path("patients/<int:pk>/photos/withdraw-use/", views.withdraw_scope,
         name="photo-scope-withdraw"),
    path("photos/<int:pk>/", views.photo_detail, name="photo-detail"),
    path("photos/<int:pk>/file/<str:size>/", views.photo_file, name="photo-file"),
    path("photos/<int:pk>/eyes/", views.mark_eyes, name="photo-eyes"),
    path("photos/<int:pk>/delete/", views.photo_delete, name="photo-delete"),
    path("photos/<int:pk>/teaching/", views.teaching_copy, name="photo-teaching"),
    path("photos/<int:pk>/aligned/<int:moving>/", views.aligned, name="photo-aligned"),
    path("photos/compare/", views.compare, name="photo-compare"),
    path("photos/sheet/<str:audience>/", views.sheet, name="photo-sheet"),
    path("photos/library/", views.library, name="photo-library"),
    path("photos/settings/", views.photo_settings, name="photo-settings"),
    # The patient's phone pages: the token in the address is the only key.
    path("p/<str:token>/checkins/<int:pk>/photos/", patient_views.add_photo,
         name="patient-checkin-photos"),
    path("p/<str:token>/photos/<int:pk>/<str:size>/", patient_views.photo_file,
         name="patient-photo-file"),
    path("p/<str:token>/photo-sheet/", patient_views.sheet, name="patient-photo-sheet"),
]
