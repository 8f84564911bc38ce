from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from needlecare.access import Actor, Permission


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's clinic and what their role lets the navigation offer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = Actor.from_request(request)
    return {
        "current_clinic": user.clinic,
        "can_clinical": actor.can(Permission.VIEW_CLINICAL),
        "can_manage_staff": actor.can(Permission.MANAGE_STAFF),
        "can_manage_clinic": actor.can(Permission.MANAGE_CLINIC),
        "can_articles": actor.can(Permission.EDIT_ARTICLES)
        or actor.can(Permission.REVIEW_ARTICLES),
    }
