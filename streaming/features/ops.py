"""``facility_ops`` and ``carrier_ops``: departures, delays, cancellations and backlog per hour.

Every value is known when the row's hour ends: a departure's delay at departure (the
``departed`` event), a cancellation at its ``cancelled`` event, an arrival's delay at arrival.
Definitions (row at hour end ``E``; "in 1h/3h" means event time in ``[E - 1h, E)`` /
``[E - 3h, E)``):

* departure delay = actual - scheduled departure; *delayed* when >= 15 min;
  ``mean_dep_delay_min_3h`` averages it capped above at :data:`DELAY_CAP_MIN` minutes (early
  departures stay negative); shares and means are ``None`` when there is nothing to divide by;
* ``facility_ops`` keys departures, cancellations and schedules by **origin** and arrivals by
  **destination** (``arrivals_delayed_share_3h``: arrival delay >= 15 min among arrivals);
* ``backlog``: shipments from the facility whose schedule is known and whose scheduled
  departure is before ``E``, not departed and not cancelled before ``E``. Schedules arrive
  ahead (24 h in the replay), so the state carries pending shipments across hours;
* ``carrier_ops`` keys departures and cancellations by carrier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chainwatch.schemas.events import Event, ShipmentEvent
from streaming.features.rolling import (
    HOUR,
    Bucket,
    FeatureGroup,
    Window,
    capped_seconds,
    duplicates_of,
    first_sighting,
    no_merge,
    share,
    within,
)
from streaming.features.schema import VIEWS

SHIPMENTS_TOPIC = "shipments.events.v1"
DELAY_CAP_MIN = 180
DELAYED_MIN = 15
#: A resolved shipment is remembered this long, so a schedule that arrives after its
#: departure or cancellation is not counted as backlog.
RESOLVED_MEMORY = timedelta(days=3)


@dataclass(slots=True)
class OpsBucket(Bucket):
    """One key's shipment events in one hour."""

    departures: int = 0
    delayed: int = 0
    delay_s: int = 0
    cancellations: int = 0
    arrivals: int = 0
    arrivals_delayed: int = 0
    scheduled: dict[str, datetime] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Backlog:
    """Shipments scheduled from a facility and not yet departed or cancelled.

    Attributes:
        pending: Shipment id -> scheduled departure.
        resolved: Shipment id -> hour end at which it departed or was cancelled.
    """

    pending: dict[str, datetime] = field(default_factory=dict)
    resolved: dict[str, datetime] = field(default_factory=dict)


def departure_delay_s(event: ShipmentEvent) -> int:
    """A departed shipment's departure delay in seconds, capped at :data:`DELAY_CAP_MIN`."""
    if event.actual_departure is None:
        msg = "a departure delay needs actual_departure"
        raise ValueError(msg)
    return capped_seconds(event.actual_departure - event.scheduled_departure, DELAY_CAP_MIN)


def arrival_delay_s(event: ShipmentEvent) -> int:
    """An arrived shipment's arrival delay in seconds, capped at :data:`DELAY_CAP_MIN`."""
    if event.actual_arrival is None:
        msg = "an arrival delay needs actual_arrival"
        raise ValueError(msg)
    return capped_seconds(event.actual_arrival - event.scheduled_arrival, DELAY_CAP_MIN)


def route_facility(event: Event) -> list[tuple[str, ShipmentEvent]]:
    """A shipment event keyed by the facility it concerns: the destination for arrivals, else the origin."""
    if not isinstance(event, ShipmentEvent):
        return []
    key = event.destination_id if event.event_type == "arrived" else event.origin_id
    return [(key, event)]


def route_carrier(event: Event) -> list[tuple[str, ShipmentEvent]]:
    """Departures and cancellations keyed by carrier."""
    if isinstance(event, ShipmentEvent) and event.event_type in ("departed", "cancelled"):
        return [(event.carrier_id, event)]
    return []


def bucket_add(bucket: OpsBucket, event: ShipmentEvent) -> OpsBucket:
    """Fold one shipment event into its key's hourly bucket (a repeated event id is ignored)."""
    if not first_sighting(bucket, event.event_id):
        return bucket
    if event.event_type == "scheduled":
        bucket.scheduled[event.shipment_id] = event.scheduled_departure
    elif event.event_type == "departed":
        delay = departure_delay_s(event)
        bucket.departures += 1
        bucket.delayed += delay >= DELAYED_MIN * 60
        bucket.delay_s += delay
        bucket.resolved.add(event.shipment_id)
    elif event.event_type == "cancelled":
        bucket.cancellations += 1
        bucket.resolved.add(event.shipment_id)
    else:
        bucket.arrivals += 1
        bucket.arrivals_delayed += arrival_delay_s(event) >= DELAYED_MIN * 60
    return bucket


def backlog_enter(carry: Backlog, end: datetime, bucket: OpsBucket) -> Backlog:
    """Apply an hour's schedules, departures and cancellations to the pending shipments."""
    for shipment in bucket.resolved:
        carry.pending.pop(shipment, None)
        carry.resolved[shipment] = end
    for shipment, departure in bucket.scheduled.items():
        if shipment not in carry.resolved:
            carry.pending[shipment] = departure
    forget = end - RESOLVED_MEMORY
    carry.resolved = {shipment: at for shipment, at in carry.resolved.items() if at > forget}
    return carry


def _mean_min(total_s: int, count: int) -> float | None:
    return total_s / count / 60 if count else None


def roll_facility(carry: Backlog, window: Window[OpsBucket], end: datetime) -> dict[str, Any]:
    """The ``facility_ops`` columns at hour end ``end``."""
    hour, recent = within(window, end, HOUR), within(window, end, timedelta(hours=3))
    deps_1h, deps_3h = sum(b.departures for b in hour), sum(b.departures for b in recent)
    arrivals = sum(b.arrivals for b in recent)
    return {
        "departures_1h": deps_1h,
        "departures_3h": deps_3h,
        "delayed_share_1h": share(sum(b.delayed for b in hour), deps_1h),
        "delayed_share_3h": share(sum(b.delayed for b in recent), deps_3h),
        "mean_dep_delay_min_3h": _mean_min(sum(b.delay_s for b in recent), deps_3h),
        "cancellations_1h": sum(b.cancellations for b in hour),
        "cancellations_3h": sum(b.cancellations for b in recent),
        "backlog": sum(1 for departure in carry.pending.values() if departure < end),
        "arrivals_delayed_share_3h": share(sum(b.arrivals_delayed for b in recent), arrivals),
    }


def roll_carrier(carry: None, window: Window[OpsBucket], end: datetime) -> dict[str, Any]:  # noqa: ARG001 - the FeatureGroup signature
    """The ``carrier_ops`` columns at hour end ``end``."""
    recent = within(window, end, timedelta(hours=3))
    deps = sum(b.departures for b in recent)
    return {
        "departures_3h": deps,
        "delayed_share_3h": share(sum(b.delayed for b in recent), deps),
        "cancellations_3h": sum(b.cancellations for b in recent),
        "mean_dep_delay_min_3h": _mean_min(sum(b.delay_s for b in recent), deps),
    }


def _time(event: ShipmentEvent) -> datetime:
    return event.event_time


def _event(event: ShipmentEvent) -> Event:
    return event


def _none() -> None:
    return None


FACILITY_GROUP: FeatureGroup[ShipmentEvent, OpsBucket, Backlog] = FeatureGroup(
    view=VIEWS["facility_ops"],
    topics=(SHIPMENTS_TOPIC,),
    route=route_facility,
    time_of=_time,
    event_of=_event,
    new_bucket=OpsBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=Backlog,
    roll=roll_facility,
    duplicates=duplicates_of,
    on_enter=backlog_enter,
)

CARRIER_GROUP: FeatureGroup[ShipmentEvent, OpsBucket, None] = FeatureGroup(
    view=VIEWS["carrier_ops"],
    topics=(SHIPMENTS_TOPIC,),
    route=route_carrier,
    time_of=_time,
    event_of=_event,
    new_bucket=OpsBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=_none,
    roll=roll_carrier,
    duplicates=duplicates_of,
)
