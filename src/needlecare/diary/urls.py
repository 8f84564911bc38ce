from django.urls import path

from needlecare.diary import desk_views, patient_views, public_views, views

urlpatterns = [
    # Staff: the calendar and appointments.
    path("diary/", views.today, name="diary-today"),
    path("diary/day/", views.day, name="diary-day"),
    path("diary/week/", views.week, name="diary-week"),
    path("diary/book/", views.book, name="diary-book"),
    path("diary/appointments/<int:pk>/", views.appointment_detail, name="appointment-detail"),
    path("diary/appointments/<int:pk>/status/", views.appointment_status,
         name="appointment-status"),
    path("diary/appointments/<int:pk>/confirm/", views.appointment_confirm,
         name="appointment-confirm"),
    path("diary/appointments/<int:pk>/cancel/", views.appointment_cancel,
         name="appointment-cancel"),
    path("diary/appointments/<int:pk>/move/", views.appointment_move, name="appointment-move"),
    path("diary/waitlist/", desk_views.waitlist, name="diary-waitlist"),
    path("diary/waitlist/<int:pk>/remove/", desk_views.waitlist_remove,
         name="diary-waitlist-remove"),
    path("diary/requests/", desk_views.request_list, name="diary-requests"),
    path("diary/requests/<int:pk>/", desk_views.request_detail, name="diary-request"),
    path("diary/requests/<int:pk>/act/", desk_views.request_action, name="diary-request-act"),
    path("diary/settings/", desk_views.settings_page, name="diary-settings"),
    path("diary/previsits/<int:pk>/", desk_views.previsit_review, name="previsit-review"),
    path("diary/signatures/<int:pk>/countersign/", desk_views.previsit_countersign,
         name="previsit-countersign"),
    # A plan's sessions are booked in the diary (these addresses were care's).
    path("plans/<int:plan_pk>/sessions/book/", views.session_book, name="session-book"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session-cancel"),
    # The patient, through their personal link (under /p/<token>/ like their other pages).
    path("p/<str:token>/appointments/", patient_views.appointments,
         name="patient-appointments"),
    path("p/<str:token>/appointments/<int:pk>/confirm/", patient_views.confirm,
         name="patient-appointment-confirm"),
    path("p/<str:token>/appointments/<int:pk>/cancel/", patient_views.cancel,
         name="patient-appointment-cancel"),
    path("p/<str:token>/appointments/<int:pk>/rebook/", patient_views.rebook,
         name="patient-appointment-rebook"),
    path("p/<str:token>/appointments/<int:pk>/before/", patient_views.before_session,
         name="patient-presession"),
    path("p/<str:token>/offers/<int:pk>/", patient_views.offer, name="patient-offer"),
    path("p/<str:token>/previsit/<int:pk>/", patient_views.previsit, name="patient-previsit"),
    path("p/<str:token>/previsit/<int:pk>/consent/", patient_views.previsit_consent,
         name="patient-previsit-consent"),
    # The public page where a new patient asks for a consultation.
    path("book/<slug:slug>/", public_views.request_consultation, name="public-booking"),
    path("book/<slug:slug>/thanks/", public_views.thanks, name="public-booking-thanks"),
]
