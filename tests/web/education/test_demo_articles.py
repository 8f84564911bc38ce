"""The demo clinic carries the starter articles, reviewed and published by its clinician, and
its reset removes them with everything else."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from needlecare.education.models import Article, ArticleVersion, Campaign, VersionStatus
from needlecare.education.starter import starter_articles

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_the_reviewed_starter_set_and_resets_cleanly() -> None:
    call_command("demo", stdout=io.StringIO())
    published = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED)
    assert published.count() == len(starter_articles())
    assert {str(v.reviewed_by) for v in published} == {"Jo Rowe"}
    assert Campaign.objects.count() == 1
    call_command("demo", "--reset", stdout=io.StringIO())
    assert Article.objects.count() == len(starter_articles())
