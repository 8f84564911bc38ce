from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
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


def _cell(cell: Any, chosen: Any) -> str:
    label = escape(cell.label)
    appointment = cell.appointment
    if appointment is not None:
        more = "" if cell.first else " more"
        text = ""
        if cell.first:
            start = timezone.localtime(appointment.starts_at)
            text = escape(f"{start:%H:%M} {appointment.patient.full_name} · "
                          f"{appointment.type.name}")
        return (f'<td><a class="slot taken status-{escape(appointment.status)}{more}" '
                f'href="{escape(cell.href)}" aria-label="{label}">{text}</a></td>')
    if cell.open:
        mark = " chosen" if chosen is not None and chosen == cell.start else ""
        return (f'<td><a class="slot free{mark}" href="{escape(cell.href)}" '
                f'aria-label="{label}"><span class="plus" aria-hidden="true">+</span></a></td>')
    return f'<td class="closed"><span class="visually-hidden">{label}</span></td>'


@register.simple_tag
def grid_body(grid: Any, chosen: Any = None) -> SafeString:
    """The grid's rows as HTML, built in one pass (a template node per cell costs more than
    the rest of the page). Every value is escaped here."""
    rows = []
    for row in grid.rows:
        cells = "".join(_cell(cell, chosen) for cell in row.cells)
        rows.append(f'<tr><th scope="row">{row.time:%H:%M}</th>{cells}</tr>')
    return mark_safe("\n".join(rows))  # every value above is escaped
