"""``vehicle_status``: a vehicle's previous leg (shipment arrivals) joined with its IoT telemetry.

Both streams are keyed by vehicle (tail number) and folded into the same hourly buckets.
Definitions (row at hour end ``E``; lookback 24 h, event times in ``[E - 24h, E)``):

* ``prev_arrival_delay_min``: arrival delay of the vehicle's latest arrival in the lookback,
  capped above at :data:`~streaming.features.ops.DELAY_CAP_MIN`; ``hours_since_last_arrival``:
  hours from that arrival to ``E`` (both ``None`` without an arrival);
* ``iot_last_seen_age_min``: minutes from the latest telemetry reading to ``E``;
* ``speed_anomaly_6h``: readings in the last 6 h with speed under :data:`STOP_SPEED_KMH` while
  airborne (altitude >= :data:`AIRBORNE_ALTITUDE_M`, above every facility in the dataset, so a
  taxiing plane is not an anomaly but a plane that stops mid-route is);
* ``cargo_temp_excursions_24h``: readings in the lookback with cargo temperature outside
  ``[CARGO_LOW_C, CARGO_HIGH_C]`` (2-8 °C, the cold chain band).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chainwatch.schemas.events import Event, ShipmentEvent, VehicleTelemetry
from streaming.features.ops import DELAY_CAP_MIN, SHIPMENTS_TOPIC
from streaming.features.rolling import (
    Bucket,
    FeatureGroup,
    Window,
    capped_seconds,
    duplicates_of,
    first_sighting,
    no_merge,
    within,
)
from streaming.features.schema import VIEWS

TELEMETRY_TOPIC = "iot.telemetry.v1"
STOP_SPEED_KMH = 50.0
AIRBORNE_ALTITUDE_M = 3_000.0
CARGO_LOW_C = 2.0
CARGO_HIGH_C = 8.0

VehicleItem = ShipmentEvent | VehicleTelemetry
#: ``(event_time, event_id)`` orders "latest" independently of arrival order.
Stamp = tuple[datetime, str]


@dataclass(slots=True)
class VehicleBucket(Bucket):
    """One vehicle's arrivals and readings in one hour."""

    last_arrival: tuple[Stamp, int] | None = None
    last_seen: datetime | None = None
    speed_anomalies: int = 0
    temp_excursions: int = 0


def route(event: Event) -> list[tuple[str, VehicleItem]]:
    """Arrivals with a known vehicle, and every telemetry reading, keyed by vehicle."""
    if isinstance(event, VehicleTelemetry):
        return [(event.vehicle_id, event)]
    if isinstance(event, ShipmentEvent) and event.event_type == "arrived" and event.vehicle_id is not None:
        return [(event.vehicle_id, event)]
    return []


def is_speed_anomaly(reading: VehicleTelemetry) -> bool:
    """An airborne reading slower than :data:`STOP_SPEED_KMH`."""
    airborne = reading.altitude_m is not None and reading.altitude_m >= AIRBORNE_ALTITUDE_M
    return airborne and reading.speed_kmh < STOP_SPEED_KMH


def is_temp_excursion(reading: VehicleTelemetry) -> bool:
    """A cargo temperature outside the cold chain band."""
    temperature = reading.cargo_temperature_c
    return temperature is not None and not CARGO_LOW_C <= temperature <= CARGO_HIGH_C


def bucket_add(bucket: VehicleBucket, item: VehicleItem) -> VehicleBucket:
    """Fold one arrival or reading into its vehicle's hourly bucket (a repeated event id is ignored)."""
    if not first_sighting(bucket, item.event_id):
        return bucket
    if isinstance(item, VehicleTelemetry):
        if bucket.last_seen is None or item.event_time > bucket.last_seen:
            bucket.last_seen = item.event_time
        bucket.speed_anomalies += is_speed_anomaly(item)
        bucket.temp_excursions += is_temp_excursion(item)
        return bucket
    if item.actual_arrival is None:
        msg = "an arrival needs actual_arrival"
        raise ValueError(msg)
    stamp = (item.event_time, item.event_id)
    if bucket.last_arrival is None or stamp > bucket.last_arrival[0]:
        delay = capped_seconds(item.actual_arrival - item.scheduled_arrival, DELAY_CAP_MIN)
        bucket.last_arrival = (stamp, delay)
    return bucket


def roll(carry: None, window: Window[VehicleBucket], end: datetime) -> dict[str, Any]:  # noqa: ARG001 - the FeatureGroup signature
    """The ``vehicle_status`` columns at hour end ``end``."""
    recent = within(window, end, timedelta(hours=24))
    arrivals = [b.last_arrival for b in recent if b.last_arrival is not None]
    seen = [b.last_seen for b in recent if b.last_seen is not None]
    last_arrival = max(arrivals, default=None)
    last_seen = max(seen, default=None)
    return {
        "prev_arrival_delay_min": last_arrival[1] / 60 if last_arrival else None,
        "hours_since_last_arrival": (end - last_arrival[0][0]) / timedelta(hours=1) if last_arrival else None,
        "iot_last_seen_age_min": (end - last_seen) / timedelta(minutes=1) if last_seen else None,
        "speed_anomaly_6h": sum(b.speed_anomalies for b in within(window, end, timedelta(hours=6))),
        "cargo_temp_excursions_24h": sum(b.temp_excursions for b in recent),
    }


def _time(item: VehicleItem) -> datetime:
    return item.event_time


def _event(item: VehicleItem) -> Event:
    return item


def _none() -> None:
    return None


GROUP: FeatureGroup[VehicleItem, VehicleBucket, None] = FeatureGroup(
    view=VIEWS["vehicle_status"],
    topics=(SHIPMENTS_TOPIC, TELEMETRY_TOPIC),
    route=route,
    time_of=_time,
    event_of=_event,
    new_bucket=VehicleBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=_none,
    roll=roll,
    duplicates=duplicates_of,
)
