"""Whether a session's chart holds only possible values, and whether it can be signed:
pure decisions over the chart and the facts the service loads.

The service (``services.save_chart``, ``services.sign_session``) loads the session, its plan,
the last signed session, the patient's consent and the screening's precautions, asks these
functions, and stores or refuses. Kept apart from the ORM so that the rules that protect
patients (a cartridge past its expiry, a depth deeper than planned, sessions too close
together, no consent, a screening precaution nobody recorded) are tested without a
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from needlecare.care.precautions import NOT_NEEDED, STATUSES, Precaution, PrecautionRecord
from needlecare.clinical import vocabulary as vocab
from needlecare.errors import ServiceError

MAX_DEPTH_MM = Decimal("3.0")


@dataclass(frozen=True)
class ZoneRow:
    zone: str
    depth_mm: Decimal
    passes: int
    depth_reason: str = ""


@dataclass(frozen=True)
class ChartData:
    """What the practitioner records about a session (all optional while it is a draft)."""

    performed_on: dt.date | None = None
    practitioner_id: int | None = None
    device: str = ""
    device_model: str = ""
    cartridge_lot: str = ""
    cartridge_expiry: dt.date | None = None
    anaesthetic: str = ""
    anaesthetic_minutes: int | None = None
    zones: tuple[ZoneRow, ...] = ()
    endpoint_reached: str = ""
    products: tuple[Mapping[str, str], ...] = ()
    immediate_reaction: str = ""
    notes: str = ""
    interval_reason: str = ""
    #: The screening's precautions as recorded, by screening rule.
    precautions: Mapping[str, PrecautionRecord] = field(default_factory=dict)


#: The longest note on a recorded precaution.
PRECAUTION_NOTE_MAX = 1000


def check_chart_shape(chart: ChartData, *, today: dt.date,
                      practitioner_ids: Collection[int],
                      text_limits: Mapping[str, int],
                      precaution_keys: Collection[str] = ()) -> None:
    """Refuse values no draft may hold (the form checks them too; the API may not).

    ``practitioner_ids`` are the clinic's active clinicians and owners; ``text_limits`` the
    longest each free-text chart field may be; ``precaution_keys`` the precautions the plan's
    screening asked for (a record of any other is refused)."""
    for key, record in chart.precautions.items():
        if key not in precaution_keys:
            raise ServiceError("invalid_precaution", _("That precaution is not one of this "
                                                       "patient's screening."))
        if record.status not in ("", *STATUSES):
            raise ServiceError("invalid_precaution", _("Record a precaution as done or not "
                                                       "needed."))
        if len(record.note) > PRECAUTION_NOTE_MAX:
            raise ServiceError("too_long", _("A precaution's note: at most %(n)d characters.")
                               % {"n": PRECAUTION_NOTE_MAX})
    if chart.device and chart.device not in vocab.DEVICES:
        raise ServiceError("invalid_device", _("Choose a device from the list."), field="device")
    if chart.performed_on and chart.performed_on > today:
        raise ServiceError("performed_in_future", _("The date performed cannot be in the "
                                                    "future."), field="performed_on")
    if chart.practitioner_id is not None and chart.practitioner_id not in practitioner_ids:
        raise ServiceError("invalid_practitioner", _("Choose a practitioner of this clinic."),
                           field="practitioner")
    for name, limit in text_limits.items():
        if len(getattr(chart, name)) > limit:
            raise ServiceError("too_long", _("%(field)s: at most %(n)d characters.")
                               % {"field": name, "n": limit}, field=name)
    if chart.anaesthetic_minutes is not None and not 0 <= chart.anaesthetic_minutes <= 240:
        raise ServiceError("invalid_minutes", _("Anaesthetic time must be 0 to 240 minutes."),
                           field="anaesthetic_minutes")
    seen: set[str] = set()
    for row in chart.zones:
        if row.zone in seen:
            raise ServiceError("duplicate_zone", _("Each zone can be recorded once."))
        seen.add(row.zone)
        if row.zone not in vocab.ZONES:
            raise ServiceError("invalid_zone", _("Choose zones from the list."))
        if (not Decimal(0) < row.depth_mm <= MAX_DEPTH_MM
                or row.depth_mm != row.depth_mm.quantize(Decimal("0.01"))
                or not 1 <= row.passes <= 20):
            raise ServiceError("invalid_zone", _("Depth must be above 0 and at most %(max)s mm "
                                                 "(in hundredths), with 1 to 20 passes.")
                               % {"max": MAX_DEPTH_MM})
    for product in chart.products:
        if product.get("code") not in vocab.PRODUCTS:
            raise ServiceError("invalid_product", _("Choose products from the list."))


@dataclass(frozen=True)
class SigningFacts:
    """What signing depends on: the chart as saved, the plan and the patient's record."""

    performed_on: dt.date | None
    device: str
    cartridge_lot: str
    cartridge_expiry: dt.date | None
    endpoint_reached: str
    interval_reason: str
    zones: Sequence[ZoneRow]
    #: The plan's depth range per zone, in mm: ``{zone: [low, high]}``.
    depth_ranges: Mapping[str, Sequence[float]]
    interval_days: int
    #: The plan's last signed session before this one, if any.
    last_signed_on: dt.date | None
    has_valid_consent: bool
    today: dt.date
    #: The precautions the plan's screening asked for, and what the chart records of them.
    precautions: Sequence[Precaution] = ()
    precautions_recorded: Mapping[str, PrecautionRecord] = field(default_factory=dict)


def sign_problems(facts: SigningFacts) -> list[str]:
    """Every reason the session cannot be signed yet (empty when it can), in plain words."""
    problems: list[str] = []
    if facts.performed_on is None:
        problems.append(_("the date performed is missing"))
    if not facts.device:
        problems.append(_("the device type is missing"))
    if not facts.cartridge_lot.strip():
        problems.append(_("the cartridge lot is missing"))
    if facts.cartridge_expiry is None:
        problems.append(_("the cartridge expiry date is missing"))
    if not facts.zones:
        problems.append(_("no zone has been recorded with a depth and passes"))
    if not facts.endpoint_reached.strip():
        problems.append(_("the endpoint reached is missing"))
    if (facts.cartridge_expiry is not None and facts.performed_on is not None
            and facts.cartridge_expiry < facts.performed_on):
        problems.append(_("the cartridge expired on %(expiry)s, before the session on "
                          "%(date)s") % {"expiry": facts.cartridge_expiry.isoformat(),
                                         "date": facts.performed_on.isoformat()})
    for row in facts.zones:
        name = vocab.ZONES[row.zone].display if row.zone in vocab.ZONES else row.zone
        if row.zone not in facts.depth_ranges:
            problems.append(_("%(zone)s is not in the treatment plan") % {"zone": name})
        elif (row.depth_mm > Decimal(str(facts.depth_ranges[row.zone][1]))
              and not row.depth_reason.strip()):
            problems.append(_("%(zone)s: %(depth)s mm is deeper than the plan's maximum of "
                              "%(max)s mm; give the reason for the depth")
                            % {"zone": name, "depth": row.depth_mm,
                               "max": facts.depth_ranges[row.zone][1]})
    if facts.performed_on is not None and facts.performed_on > facts.today:
        problems.append(_("the date performed is in the future"))
    last = facts.last_signed_on
    if last is not None and facts.performed_on is not None:
        days = (facts.performed_on - last).days
        if days < facts.interval_days and not facts.interval_reason.strip():
            problems.append(_("only %(days)d days since the last signed session on %(last)s, "
                              "and the plan's interval is %(interval)d days: give the reason "
                              "for the shorter interval")
                            % {"days": days, "last": last.isoformat(),
                               "interval": facts.interval_days})
    if not facts.has_valid_consent:
        problems.append(_("the patient has no valid (signed, not withdrawn) treatment consent"))
    for precaution in facts.precautions:
        record = facts.precautions_recorded.get(precaution.key, PrecautionRecord())
        if record.status not in STATUSES:
            problems.append(_("the precaution about %(about)s is not recorded: mark it done or "
                              "not needed") % {"about": precaution.about})
        elif record.status == NOT_NEEDED and not record.note.strip():
            problems.append(_("the precaution about %(about)s is marked not needed: say why")
                            % {"about": precaution.about})
    return problems
