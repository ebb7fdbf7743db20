"""Expectations on the flights dataset: schema, keys, nulls, ranges, time, references, labels.

:func:`validate` checks every expectation and raises one :class:`DataQualityError` that lists
all that failed, each with its count and a few example keys, so one run shows everything
wrong with a dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import available_timezones

import pandas as pd

from chainwatch.datasets.schema import LABEL_COLUMN, SCHEMAS, FlightsDataset
from chainwatch.datasets.timezones import is_utc
from chainwatch.datasets.weather import WEATHER_RANGES
from chainwatch.entities import SHIPMENT_PATTERN
from chainwatch.errors import DataQualityError

#: UTC bounds of local 2013 in every US zone: from New Year in UTC (US zones are behind it)
#: to New Year in Hawaii (UTC-10), the zone furthest behind.
NYCFLIGHTS_PERIOD: tuple[pd.Timestamp, pd.Timestamp] = (
    pd.Timestamp("2013-01-01T00:00:00Z"),
    pd.Timestamp("2014-01-01T10:00:00Z"),
)
#: Actual times may fall later than the period by this much (a day-long delay on 31 December).
ACTUAL_TIME_SLACK = pd.Timedelta(days=2)
#: Longest plausible scheduled gate-to-gate time.
MAX_BLOCK_TIME = pd.Timedelta(hours=20)
#: Fastest plausible average ground speed over a scheduled block (subsonic airliner).
MAX_BLOCK_SPEED_KMH = 1_100.0

#: Columns that may hold missing values, per table; every other column must be complete.
NULLABLE: Mapping[str, frozenset[str]] = {
    "shipments": frozenset(
        {
            "vehicle_id",
            "actual_departure",
            "actual_arrival",
            "departure_delay_min",
            "arrival_delay_min",
            "air_time_min",
        }
    ),
    "weather": frozenset(rule.column for rule in WEATHER_RANGES),
    "vehicles": frozenset(SCHEMAS["vehicles"]) - {"vehicle_id", "registered"},
    "facilities": frozenset(),
    "carriers": frozenset(),
}
#: Key columns per table.
KEYS: Mapping[str, tuple[str, ...]] = {
    "shipments": ("shipment_id",),
    "weather": ("facility_id", "observed_at"),
    "facilities": ("facility_id",),
    "carriers": ("carrier_id",),
    "vehicles": ("vehicle_id",),
}

_EXAMPLES = 3


@dataclass
class _Report:
    """Failed expectations collected while validating."""

    failures: list[str] = field(default_factory=list)

    def expect(self, name: str, bad: pd.Series, examples: pd.Series | None = None) -> None:
        """Record ``name`` as failed when any row of the boolean ``bad`` is true."""
        mask = bad.fillna(value=True).astype(bool)
        count = int(mask.sum())
        if count:
            shown = (examples if examples is not None else pd.Series(mask.index))[mask.to_numpy()]
            sample = ", ".join(str(value) for value in shown.head(_EXAMPLES))
            self.failures.append(f"{name}: {count} rows (e.g. {sample})")

    def require(self, name: str, ok: bool, detail: str = "") -> None:
        """Record ``name`` as failed unless ``ok``."""
        if not ok:
            self.failures.append(f"{name}{': ' + detail if detail else ''}")


def validate(
    dataset: FlightsDataset,
    *,
    period: tuple[pd.Timestamp, pd.Timestamp] = NYCFLIGHTS_PERIOD,
) -> None:
    """Check every expectation on ``dataset``.

    Args:
        dataset: The dataset to check.
        period: UTC bounds scheduled departures and observations must fall within.

    Raises:
        DataQualityError: Listing every failed expectation, one per line.
    """
    report = _Report()
    tables = dataset.tables()
    schema_ok = _check_schema(report, tables)
    if not schema_ok:  # the value checks below rely on the columns being there
        raise DataQualityError(_message(report))
    for name, frame in tables.items():
        _check_keys_and_nulls(report, name, frame)
    _check_facilities(report, dataset.facilities)
    _check_weather(report, dataset.weather, period)
    _check_shipments(report, dataset.shipments, period)
    _check_references(report, dataset)
    if report.failures:
        raise DataQualityError(_message(report))


def _message(report: _Report) -> str:
    lines = "\n".join(f"- {failure}" for failure in report.failures)
    return f"{len(report.failures)} dataset expectations failed:\n{lines}"


def _check_schema(report: _Report, tables: Mapping[str, pd.DataFrame]) -> bool:
    before = len(report.failures)
    for name, schema in SCHEMAS.items():
        frame = tables[name]
        report.require(
            f"{name} has columns {list(schema)}",
            list(frame.columns) == list(schema),
            f"got {list(frame.columns)}",
        )
        for column, dtype in schema.items():
            if column in frame.columns:
                actual = str(frame[column].dtype)
                report.require(f"{name}.{column} is {dtype}", actual == dtype, f"got {actual}")
    return len(report.failures) == before


def _check_keys_and_nulls(report: _Report, name: str, frame: pd.DataFrame) -> None:
    key = list(KEYS[name])
    report.expect(f"{name} key {key} is unique", frame.duplicated(key, keep=False), _keys(frame, key))
    for column in frame.columns:
        if column not in NULLABLE[name]:
            report.expect(f"{name}.{column} is never missing", frame[column].isna(), _keys(frame, key))


def _check_facilities(report: _Report, facilities: pd.DataFrame) -> None:
    ids = facilities["facility_id"]
    report.expect("facilities.lat within [-90, 90]", ~facilities["lat"].between(-90, 90), ids)
    report.expect("facilities.lon within [-180, 180]", ~facilities["lon"].between(-180, 180), ids)
    known = available_timezones()
    report.expect("facilities.tzone is an IANA zone", ~facilities["tzone"].isin(known), ids)


def _check_weather(report: _Report, weather: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    keys = _keys(weather, ["facility_id", "observed_at"])
    for rule in WEATHER_RANGES:
        values = weather[rule.column]
        outside = values.notna() & ~values.between(rule.low, rule.high)
        report.expect(f"weather.{rule.column} within [{rule.low}, {rule.high}]", outside, keys)
    _check_instants(report, "weather.observed_at", weather["observed_at"], period, keys)


def _check_shipments(report: _Report, shipments: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    ids = shipments["shipment_id"]
    report.expect("shipments.shipment_id matches the entity pattern", ~ids.str.fullmatch(SHIPMENT_PATTERN), ids)
    route = shipments["origin_id"] + "-" + shipments["destination_id"]
    report.expect("shipments.route_id is origin-destination", shipments["route_id"] != route, ids)
    report.expect("shipments.distance_km is positive", shipments["distance_km"] <= 0, ids)
    report.expect("shipments.flight_number within 1-9999", ~shipments["flight_number"].between(1, 9999), ids)
    departure, arrival = shipments["scheduled_departure"], shipments["scheduled_arrival"]
    _check_instants(report, "shipments.scheduled_departure", departure, period, ids)
    widened = (period[0] - pd.Timedelta(days=1), period[1] + pd.Timedelta(days=1))
    _check_instants(report, "shipments.scheduled_arrival", arrival, widened, ids)
    late = (period[0], period[1] + ACTUAL_TIME_SLACK)
    for column in ("actual_departure", "actual_arrival"):
        values = shipments[column]
        _check_instants(report, f"shipments.{column}", values, late, ids, optional=True)
    block = arrival - departure
    report.expect("shipments.scheduled_arrival after scheduled_departure", block <= pd.Timedelta(0), ids)
    report.expect(f"shipments scheduled block time at most {MAX_BLOCK_TIME}", block > MAX_BLOCK_TIME, ids)
    hours = block.dt.total_seconds() / 3600
    speed = shipments["distance_km"] / hours.where(hours > 0)
    report.expect(
        f"shipments block speed at most {MAX_BLOCK_SPEED_KMH} km/h",
        (speed > MAX_BLOCK_SPEED_KMH).fillna(value=False),
        ids,
    )
    _check_outcomes(report, shipments, ids)


def _check_outcomes(report: _Report, shipments: pd.DataFrame, ids: pd.Series) -> None:
    cancelled, diverted = shipments["cancelled"], shipments["diverted"]
    arrival_delay = shipments["arrival_delay_min"]
    report.expect(
        "cancelled exactly when actual_departure is missing", cancelled != shipments["actual_departure"].isna(), ids
    )
    report.expect(
        "departure_delay_min missing exactly when cancelled", cancelled != shipments["departure_delay_min"].isna(), ids
    )
    report.expect("diverted only when departed", diverted & cancelled, ids)
    report.expect(
        "arrival_delay_min missing exactly when cancelled or diverted",
        (cancelled | diverted) != arrival_delay.isna(),
        ids,
    )
    report.expect(
        "actual_arrival missing exactly when arrival_delay_min is",
        shipments["actual_arrival"].isna() != arrival_delay.isna(),
        ids,
    )
    expected = cancelled | diverted | (arrival_delay >= 15).fillna(value=False)
    report.expect(
        f"{LABEL_COLUMN} = cancelled | diverted | arrival_delay_min >= 15", shipments[LABEL_COLUMN] != expected, ids
    )
    report.expect("air_time_min positive", (shipments["air_time_min"] <= 0).fillna(value=False), ids)


def _check_references(report: _Report, dataset: FlightsDataset) -> None:
    shipments, facilities = dataset.shipments, dataset.facilities
    ids = shipments["shipment_id"]
    known = facilities["facility_id"]
    for column in ("origin_id", "destination_id"):
        report.expect(f"shipments.{column} in facilities", ~shipments[column].isin(known), ids)
    report.expect(
        "shipments.carrier_id in carriers", ~shipments["carrier_id"].isin(dataset.carriers["carrier_id"]), ids
    )
    vehicle = shipments["vehicle_id"]
    report.expect(
        "shipments.vehicle_id in vehicles", vehicle.notna() & ~vehicle.isin(dataset.vehicles["vehicle_id"]), ids
    )
    report.expect(
        "weather.facility_id in facilities", ~dataset.weather["facility_id"].isin(known), dataset.weather["facility_id"]
    )


def _check_instants(
    report: _Report,
    name: str,
    values: pd.Series,
    bounds: tuple[pd.Timestamp, pd.Timestamp],
    keys: pd.Series,
    *,
    optional: bool = False,
) -> None:
    report.require(f"{name} is timezone-aware UTC", is_utc(values), f"dtype {values.dtype}")
    if not is_utc(values):
        return
    outside = ~values.between(bounds[0], bounds[1], inclusive="left")
    if optional:
        outside &= values.notna()
    report.expect(f"{name} within [{bounds[0]}, {bounds[1]})", outside, keys)


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    keys = frame[columns[0]].astype("string")
    for column in columns[1:]:
        keys = keys + "@" + frame[column].astype("string")
    return keys
