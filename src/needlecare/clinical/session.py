"""The facts of one treatment session that aftercare, recovery and triage depend on."""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

from pydantic import Field

from needlecare.clinical.common import (
    DepthMm,
    DeviceCode,
    Document,
    Fitzpatrick,
    ProductCode,
    ZoneCode,
)

SESSION_SCHEMA: Final = "needlecare.session/1"


class SessionFacts(Document):
    schema_: Literal["needlecare.session/1"] = Field(SESSION_SCHEMA, alias="schema")
    date: dt.date = Field(description="day of the session (day 0)")
    deepest_depth_mm: DepthMm = Field(description="deepest needle depth used in any zone")
    zones: list[ZoneCode] = Field(min_length=1)
    fitzpatrick: Fitzpatrick
    device: DeviceCode = "pen"
    products: list[ProductCode] = Field(
        default=[], description="products applied before, during or right after needling")
