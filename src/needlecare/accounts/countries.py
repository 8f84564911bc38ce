"""Countries a clinic can be in, with the number their emergency services answer.

The number is only the default for a new clinic's settings; the owner can change it. Sources:
the EU's single emergency number 112 (Directive (EU) 2018/1972, art. 109) for member states,
and the ITU's list of national emergency numbers (ITU-T E.161.1 and the national plans it
collects) for the others. Where a country has one number for every service, that is the one.
"""

from __future__ import annotations

from typing import NamedTuple


class Country(NamedTuple):
    name: str
    emergency_number: str


_EU_112 = ("Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Denmark",
           "Estonia", "Finland", "France", "Germany", "Greece", "Hungary", "Italy", "Latvia",
           "Lithuania", "Luxembourg", "Malta", "Netherlands", "Poland", "Portugal",
           "Romania", "Slovakia", "Slovenia", "Spain", "Sweden")
_EU_CODES = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU",
             "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")

COUNTRIES: dict[str, Country] = {
    "GB": Country("United Kingdom", "999"),
    "IE": Country("Ireland", "112"),
    **{code: Country(name, "112") for code, name in zip(_EU_CODES, _EU_112, strict=True)},
    "NO": Country("Norway", "113"),
    "CH": Country("Switzerland", "144"),
    "IS": Country("Iceland", "112"),
    "US": Country("United States", "911"),
    "CA": Country("Canada", "911"),
    "MX": Country("Mexico", "911"),
    "AU": Country("Australia", "000"),
    "NZ": Country("New Zealand", "111"),
    "IN": Country("India", "112"),
    "ZA": Country("South Africa", "10177"),
    "AE": Country("United Arab Emirates", "998"),
    "SG": Country("Singapore", "995"),
    "HK": Country("Hong Kong", "999"),
    "JP": Country("Japan", "119"),
    "KR": Country("South Korea", "119"),
    "BR": Country("Brazil", "192"),
    "TR": Country("Türkiye", "112"),
    "IL": Country("Israel", "101"),
}

DEFAULT_COUNTRY = "GB"


def emergency_number_for(country: str) -> str:
    """The emergency number of ``country`` (an ISO 3166 code), or 112, which GSM phones
    route to the local emergency service in most countries."""
    found = COUNTRIES.get(country.upper())
    return found.emergency_number if found else "112"


def choices() -> list[tuple[str, str]]:
    return sorted(((code, country.name) for code, country in COUNTRIES.items()),
                  key=lambda pair: pair[1])
