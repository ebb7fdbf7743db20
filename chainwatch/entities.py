"""Entity id conventions: facility, route, carrier, vehicle and shipment.

Ids are plain strings so they travel unchanged through Kafka keys, Feast entity columns and
Redis keys. Each has one constructor that normalises and validates, and one pattern:

========  =====================================  ==========================
entity    form                                   example
========  =====================================  ==========================
facility  FAA/IATA airport code, 3-4 chars       ``JFK``
route     ``<origin>-<destination>`` facilities  ``JFK-LAX``
carrier   IATA airline code, 2 chars             ``UA``
vehicle   aircraft tail number                   ``N14228``
shipment  ``<carrier><flight>-<yyyymmdd>-<origin>``  ``UA1545-20130101-EWR``
========  =====================================  ==========================

The shipment's date is the scheduled departure date in the origin's local time, as airlines
number flights, so one flight number flies at most once a day from one origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from chainwatch.errors import InvalidInputError

FACILITY_PATTERN = r"[A-Z0-9]{3,4}"
CARRIER_PATTERN = r"[A-Z0-9]{2}"
VEHICLE_PATTERN = r"[A-Z0-9]{2,8}"
ROUTE_PATTERN = rf"{FACILITY_PATTERN}-{FACILITY_PATTERN}"
SHIPMENT_PATTERN = rf"{CARRIER_PATTERN}[0-9]{{1,4}}-[0-9]{{8}}-{FACILITY_PATTERN}"

_FACILITY = re.compile(rf"^{FACILITY_PATTERN}$")
_CARRIER = re.compile(rf"^{CARRIER_PATTERN}$")
_VEHICLE = re.compile(rf"^{VEHICLE_PATTERN}$")
_SHIPMENT = re.compile(
    rf"^(?P<carrier>{CARRIER_PATTERN})(?P<flight>[0-9]{{1,4}})-(?P<day>[0-9]{{8}})-(?P<origin>{FACILITY_PATTERN})$"
)


def _checked(kind: str, value: str, pattern: re.Pattern[str]) -> str:
    normalised = value.strip().upper()
    if not pattern.match(normalised):
        msg = f"invalid {kind} id {value!r}: expected {pattern.pattern}"
        raise InvalidInputError(msg)
    return normalised


def facility_id(code: str) -> str:
    """The facility id of an airport code, e.g. ``facility_id("jfk") == "JFK"``."""
    return _checked("facility", code, _FACILITY)


def carrier_id(code: str) -> str:
    """The carrier id of a two-character airline code."""
    return _checked("carrier", code, _CARRIER)


def vehicle_id(tail_number: str) -> str:
    """The vehicle id of an aircraft tail number."""
    return _checked("vehicle", tail_number, _VEHICLE)


def route_id(origin: str, destination: str) -> str:
    """The route id of an origin→destination lane, e.g. ``JFK-LAX``."""
    return f"{facility_id(origin)}-{facility_id(destination)}"


def shipment_id(carrier: str, flight: int, scheduled_local_date: date, origin: str) -> str:
    """The shipment id of one flight on one local departure date from one origin."""
    if not 0 < flight < 10_000:
        msg = f"invalid flight number {flight!r}: expected 1-9999"
        raise InvalidInputError(msg)
    return f"{carrier_id(carrier)}{flight}-{scheduled_local_date:%Y%m%d}-{facility_id(origin)}"


@dataclass(frozen=True, slots=True)
class ShipmentKey:
    """The parts of a shipment id."""

    carrier: str
    flight: int
    scheduled_local_date: date
    origin: str


def parse_shipment_id(value: str) -> ShipmentKey:
    """Split a shipment id into its parts, or raise :class:`InvalidInputError`."""
    match = _SHIPMENT.match(value)
    if not match:
        msg = f"invalid shipment id {value!r}: expected <carrier><flight>-<yyyymmdd>-<origin>"
        raise InvalidInputError(msg)
    day = match["day"]
    try:
        local_date = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError as err:
        msg = f"invalid shipment id {value!r}: {day} is not a date"
        raise InvalidInputError(msg) from err
    return ShipmentKey(match["carrier"], int(match["flight"]), local_date, match["origin"])


def parse_route_id(value: str) -> tuple[str, str]:
    """Split a route id into (origin, destination) facility ids."""
    origin, sep, destination = value.partition("-")
    if not sep:
        msg = f"invalid route id {value!r}: expected <origin>-<destination>"
        raise InvalidInputError(msg)
    return facility_id(origin), facility_id(destination)
