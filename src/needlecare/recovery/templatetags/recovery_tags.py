"""Helpers for the patient's pages: phone numbers as tap-to-call links, times as a patient
reads them in the clinic's time zone."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django import template

from needlecare import clock
from needlecare.recovery.next_steps import spoken_time

register = template.Library()


@register.filter
def tel(number: str) -> str:
    """``"020 7946 0000"`` → ``"tel:02079460000"`` (a link a phone dials)."""
    return "tel:" + re.sub(r"[^\d+]", "", str(number or ""))


@register.filter
def spoken(moment: dt.datetime | None, time_zone: str) -> str:
    """A moment relative to now, in ``time_zone``: "20:21", "yesterday at 20:21"…"""
    if moment is None:
        return ""
    zone = ZoneInfo(time_zone)
    return spoken_time(moment.astimezone(zone), clock.now().astimezone(zone))
