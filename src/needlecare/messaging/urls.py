from django.urls import path

from needlecare.messaging import views

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/retry/", views.message_retry, name="message-retry"),
    path("outbox/<int:pk>/cancel/", views.message_cancel, name="message-cancel"),
]
