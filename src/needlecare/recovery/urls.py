from django.urls import path

from needlecare.recovery import views

urlpatterns = [
    # The patient's phone pages: the token in the address is the only key.
    path("p/<str:token>/", views.patient_home, name="patient-home"),
    path("p/<str:token>/verify/", views.patient_verify, name="patient-verify"),
    path("p/<str:token>/checkin/", views.patient_checkin, name="patient-checkin"),
    path("p/<str:token>/access/", views.patient_access_log, name="patient-access-log"),
    path("p/<str:token>/checkins/<int:pk>/", views.patient_checkin_result,
         name="patient-checkin-result"),
    # Staff.
    path("patients/<int:patient_pk>/link/", views.patient_link, name="patient-link"),
    path("patients/<int:patient_pk>/link/send/", views.link_send, name="link-send"),
    path("patients/<int:patient_pk>/link/replace/", views.link_replace, name="link-replace"),
    path("links/<int:pk>/revoke/", views.link_revoke, name="link-revoke"),
    path("links/<int:pk>/unlock/", views.link_unlock, name="link-unlock"),
    path("worklist/", views.worklist, name="worklist"),
    path("escalations/<int:pk>/", views.escalation_detail, name="escalation-detail"),
    path("escalations/<int:pk>/acknowledge/", views.escalation_acknowledge,
         name="escalation-acknowledge"),
    path("escalations/<int:pk>/note/", views.escalation_note, name="escalation-note"),
    path("escalations/<int:pk>/close/", views.escalation_close, name="escalation-close"),
    path("checkins/<int:pk>/", views.checkin_detail, name="checkin-detail"),
]
