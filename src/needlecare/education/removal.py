"""Deleting a clinic's education records (the demo's ``--reset``): children first, since every
foreign key protects, and an article's published version points back at the article."""

from __future__ import annotations

from django.db import transaction

from needlecare.accounts.models import Clinic
from needlecare.education.models import (
    Article,
    ArticleVersion,
    Campaign,
    CommunicationConsent,
    EducationSettings,
    Subscriber,
)


def remove_clinic(clinic: Clinic) -> None:
    with transaction.atomic():
        CommunicationConsent.objects.filter(clinic=clinic).delete()
        Subscriber.objects.filter(clinic=clinic).delete()
        Campaign.objects.filter(clinic=clinic).delete()
        Article.objects.filter(clinic=clinic).update(published=None)
        ArticleVersion.objects.filter(article__clinic=clinic).delete()
        Article.objects.filter(clinic=clinic).delete()
        EducationSettings.objects.filter(clinic=clinic).delete()
