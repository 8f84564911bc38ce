"""``{% patient_messages_section patient %}``: the messages section of the patient page.

The patient page has already reached ``patient`` through the access layer (and audited that
read), so the section adds no audit row of its own; it shows what the signed-in user's role
may see."""

from __future__ import annotations

from typing import Any

from django import template

from needlecare.access import Actor
from needlecare.messaging.services import link_deliveries, messages_of

register = template.Library()


@register.inclusion_tag("messaging/_patient_messages.html", takes_context=True)
def patient_messages_section(context: Any, patient: Any) -> dict[str, Any]:
    request = context["request"]
    clinic = context.get("current_clinic")
    return {"section": messages_of(Actor.from_request(request), patient),
            "here": request.get_full_path(), "csrf_token": context.get("csrf_token"),
            "time_zone": clinic.time_zone if clinic is not None else "UTC"}


@register.inclusion_tag("messaging/_link_deliveries.html", takes_context=True)
def link_deliveries_section(context: Any, patient: Any) -> dict[str, Any]:
    """When and how the patient's personal link was sent (the link page shows it)."""
    request = context["request"]
    return {"deliveries": link_deliveries(Actor.from_request(request), patient),
            "time_zone": context.get("time_zone", "UTC")}
