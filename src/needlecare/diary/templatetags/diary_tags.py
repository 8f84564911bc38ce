from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

#: The button that moves an appointment into each state.
_ACTIONS = {
    "confirmed": _("Confirm"),
    "arrived": _("Arrived"),
    "in_progress": _("Into the room"),
    "done": _("Done"),
    "no_show": _("Did not attend"),
}


@register.filter
def status_action(status: str) -> str:
    return str(_ACTIONS.get(status, status))


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key, ()) if hasattr(mapping, "get") else ()
