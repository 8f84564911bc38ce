"""Quiet hours: no message to a patient between the clinic's ``quiet_from`` and
``quiet_until`` (21:00 to 08:00 by default), in the clinic's time zone.

A patient message due in quiet hours moves to the end of them. Clinician alerts ignore them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from needlecare.accounts.models import Clinic
from needlecare.messaging.models import DEFAULT_QUIET_HOURS, MessagingSettings


def quiet_hours(clinic: Clinic) -> tuple[dt.time, dt.time]:
    row = MessagingSettings.objects.filter(clinic_id=clinic.pk).values_list(
        "quiet_from", "quiet_until").first()
    return row if row is not None else DEFAULT_QUIET_HOURS


def quiet_end(moment: dt.datetime, *, quiet_from: dt.time, quiet_until: dt.time,
              time_zone: str) -> dt.datetime | None:
    """The end of the quiet hours ``moment`` falls in, or None when it is not in them."""
    if moment.tzinfo is None:
        raise ValueError("moment must be an aware datetime")
    if quiet_from == quiet_until:
        return None
    zone = ZoneInfo(time_zone)
    local = moment.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    day = local.date()
    if quiet_from < quiet_until:  # within one day, e.g. 12:00–14:00
        end_day = day if quiet_from <= now < quiet_until else None
    elif now >= quiet_from:  # across midnight: the evening part
        end_day = day + dt.timedelta(days=1)
    elif now < quiet_until:  # across midnight: the morning part
        end_day = day
    else:
        end_day = None
    if end_day is None:
        return None
    return dt.datetime.combine(end_day, quiet_until, tzinfo=zone).astimezone(dt.UTC)


def outside_quiet_hours(moment: dt.datetime, clinic: Clinic,
                        hours: tuple[dt.time, dt.time] | None = None) -> dt.datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    quiet_from, quiet_until = hours or quiet_hours(clinic)
    end = quiet_end(moment, quiet_from=quiet_from, quiet_until=quiet_until,
                    time_zone=clinic.time_zone)
    return moment if end is None else end
