"""``route_history``: a route's trailing 28-day record of disruption.

A flight's outcome is known at its ``arrived`` or ``cancelled`` event, so only those count
(row at hour end ``E``; outcomes with event time in ``[E - 28d, E)``):

* ``flights_28d``: arrivals + cancellations;
* ``disrupted_rate_28d``: (arrivals >= 15 min late + cancellations) / flights;
* ``mean_arr_delay_min_28d``: mean arrival delay of the arrivals, capped above at
  :data:`~streaming.features.ops.DELAY_CAP_MIN` minutes;
* ``cancelled_rate_28d``: cancellations / flights.

Diverted flights never arrive, so they produce no outcome event and are not counted here (the
training label counts them as disrupted, see decision 0004). Totals are integers kept as running
sums (added when an hour enters the 28 days, subtracted when it leaves), so a row costs O(1)
and the result is exact whatever the order of events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chainwatch.schemas.events import Event, ShipmentEvent
from streaming.features.ops import DELAYED_MIN, SHIPMENTS_TOPIC, arrival_delay_s
from streaming.features.rolling import Bucket, FeatureGroup, Window, duplicates_of, first_sighting, no_merge, share
from streaming.features.schema import VIEWS


@dataclass(slots=True)
class RouteBucket(Bucket):
    """One route's outcomes in one hour (also used as the running 28-day totals)."""

    arrivals: int = 0
    arrivals_delayed: int = 0
    arrival_delay_s: int = 0
    cancellations: int = 0


def route(event: Event) -> list[tuple[str, ShipmentEvent]]:
    """Arrivals and cancellations keyed by route."""
    if isinstance(event, ShipmentEvent) and event.event_type in ("arrived", "cancelled"):
        return [(event.route_id, event)]
    return []


def bucket_add(bucket: RouteBucket, event: ShipmentEvent) -> RouteBucket:
    """Fold one outcome into its route's hourly bucket (a repeated event id is ignored)."""
    if not first_sighting(bucket, event.event_id):
        return bucket
    if event.event_type == "cancelled":
        bucket.cancellations += 1
    else:
        delay = arrival_delay_s(event)
        bucket.arrivals += 1
        bucket.arrivals_delayed += delay >= DELAYED_MIN * 60
        bucket.arrival_delay_s += delay
    return bucket


def _shift(totals: RouteBucket, bucket: RouteBucket, sign: int) -> RouteBucket:
    totals.arrivals += sign * bucket.arrivals
    totals.arrivals_delayed += sign * bucket.arrivals_delayed
    totals.arrival_delay_s += sign * bucket.arrival_delay_s
    totals.cancellations += sign * bucket.cancellations
    return totals


def on_enter(totals: RouteBucket, end: datetime, bucket: RouteBucket) -> RouteBucket:  # noqa: ARG001 - the FeatureGroup signature
    """Add an hour entering the 28 days to the running totals."""
    return _shift(totals, bucket, 1)


def on_expire(totals: RouteBucket, end: datetime, bucket: RouteBucket) -> RouteBucket:  # noqa: ARG001 - the FeatureGroup signature
    """Subtract an hour leaving the 28 days from the running totals."""
    return _shift(totals, bucket, -1)


def roll(totals: RouteBucket, window: Window[RouteBucket], end: datetime) -> dict[str, Any]:  # noqa: ARG001 - the FeatureGroup signature
    """The ``route_history`` columns at hour end ``end`` from the running totals."""
    flights = totals.arrivals + totals.cancellations
    return {
        "flights_28d": flights,
        "disrupted_rate_28d": share(totals.arrivals_delayed + totals.cancellations, flights),
        "mean_arr_delay_min_28d": totals.arrival_delay_s / totals.arrivals / 60 if totals.arrivals else None,
        "cancelled_rate_28d": share(totals.cancellations, flights),
    }


def _time(event: ShipmentEvent) -> datetime:
    return event.event_time


def _event(event: ShipmentEvent) -> Event:
    return event


GROUP: FeatureGroup[ShipmentEvent, RouteBucket, RouteBucket] = FeatureGroup(
    view=VIEWS["route_history"],
    topics=(SHIPMENTS_TOPIC,),
    route=route,
    time_of=_time,
    event_of=_event,
    new_bucket=RouteBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=RouteBucket,
    roll=roll,
    duplicates=duplicates_of,
    on_enter=on_enter,
    on_expire=on_expire,
)
