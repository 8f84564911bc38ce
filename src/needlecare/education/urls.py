from django.urls import path

from needlecare.education import feeds, public_views, views

urlpatterns = [
    # Staff.
    path("articles/", views.article_list, name="article-list"),
    path("articles/new/", views.article_new, name="article-new"),
    path("articles/starter/", views.article_import_starter, name="article-import-starter"),
    path("articles/<int:pk>/", views.article_detail, name="article-detail"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article-edit"),
    path("articles/<int:pk>/submit/", views.article_submit, name="article-submit"),
    path("articles/<int:pk>/review/", views.article_review, name="article-review"),
    path("articles/<int:pk>/publish/", views.article_publish, name="article-publish"),
    path("articles/<int:pk>/unpublish/", views.article_unpublish, name="article-unpublish"),
    path("articles/<int:pk>/versions/<int:number>/", views.article_version,
         name="article-version"),
    path("articles/<int:pk>/versions/<int:number>/image/", views.article_staff_image,
         name="article-staff-image"),
    path("newsletter/", views.campaign_list, name="campaign-list"),
    path("newsletter/new/", views.campaign_new, name="campaign-new"),
    path("newsletter/settings/", views.newsletter_settings, name="newsletter-settings"),
    path("newsletter/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("newsletter/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("newsletter/<int:pk>/test/", views.campaign_test, name="campaign-test"),
    path("newsletter/<int:pk>/schedule/", views.campaign_schedule, name="campaign-schedule"),
    path("newsletter/<int:pk>/cancel/", views.campaign_cancel, name="campaign-cancel"),
    # Anyone.
    path("resources/<slug:slug>/", public_views.public_articles, name="public-articles"),
    path("resources/<slug:slug>/feed.atom", feeds.ArticlesFeed(), name="public-feed"),
    path("resources/<slug:slug>/subscribe/", public_views.public_subscribe,
         name="public-subscribe"),
    path("resources/<slug:slug>/<slug:article>/", public_views.public_article,
         name="public-article"),
    path("resources/<slug:slug>/<slug:article>/image/<int:number>/",
         public_views.public_image, name="public-article-image"),
    path("newsletter/confirm/<str:token>/", public_views.newsletter_confirm,
         name="newsletter-confirm"),
    path("newsletter/unsubscribe/<str:token>/", public_views.newsletter_unsubscribe,
         name="newsletter-unsubscribe"),
    path("newsletter/link/<str:token>/", public_views.newsletter_click,
         name="newsletter-click"),
    path("newsletter/email-events/", public_views.email_events, name="email-events"),
    # The patient's phone pages.
    path("p/<str:token>/reading/", public_views.patient_reading, name="patient-reading"),
    path("p/<str:token>/newsletter/", public_views.patient_newsletter,
         name="patient-newsletter"),
]
