from django.urls import path

from needlecare.outcomes import views

urlpatterns = [
    path("plans/<int:pk>/outcomes/new/", views.outcome_new, name="outcome-new"),
    path("plans/<int:pk>/adverse-events/new/", views.adverse_event_new,
         name="adverse-event-new"),
    path("consultations/<int:pk>/treatment-options/", views.alternatives,
         name="consultation-alternatives"),
    path("consultations/<int:pk>/treatment-options/choose/", views.alternatives_choose,
         name="consultation-alternatives-choose"),
    path("treatment-choices/<int:pk>/patient-copy.pdf", views.choice_copy,
         name="treatment-choice-copy"),
    path("clinic/treatments-offered/", views.offerings, name="clinic-offerings"),
    path("escalations/<int:pk>/referral/", views.escalation_referral,
         name="escalation-referral"),
    path("referrals/", views.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral-outcome"),
    path("referrals/<int:pk>/letter.pdf", views.referral_letter, name="referral-letter"),
    path("numbers/", views.numbers_page, name="numbers"),
    path("numbers/export.csv", views.numbers_csv, name="numbers-csv"),
    path("numbers/records/", views.numbers_records, name="numbers-records"),
    # The patient's phone pages (personal link).
    path("p/<str:token>/outcomes/<int:pk>/", views.patient_outcomes, name="patient-outcomes"),
    path("p/<str:token>/outcomes/<int:pk>/thanks/", views.patient_outcomes_thanks,
         name="patient-outcomes-thanks"),
]
