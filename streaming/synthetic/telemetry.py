"""Synthetic IoT telemetry: one tracker per plane, readings in event-time order across planes.

Each flight leg is simulated from its actual departure and arrival (the simulated physical
world, :mod:`~streaming.synthetic.flightpath`): a reading every ``interval_seconds`` from
departure to arrival with position, altitude, speed, heading and the cargo hold's temperature
and humidity, plus sensor noise. Seeded anomalies per flight (keyed by the shipment id):

* **unexpected stop** (``stop_rate``): mid-route, the vehicle reports speed ~0 and a frozen
  position for 2-5 readings, then makes up the time;
* **temperature excursion** (``temperature_excursion_rate``): cargo leaves the
  ``[cargo_low_c, cargo_high_c]`` band (warm, or in 20% of cases cold) for 1-12 readings;
* **lost signal** (``signal_loss_rate``): 3-9 consecutive readings are never sent.

:func:`generate_telemetry` is lazy: it holds only the legs in the air (a heap merge keyed by
each leg's next reading), so a year of readings streams in constant memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from chainwatch.errors import InvalidInputError
from chainwatch.schemas.events import VehicleTelemetry
from streaming.synthetic.config import TelemetryConfig
from streaming.synthetic.flightpath import Endpoint, phases, track
from streaming.synthetic.geo import FloatArray, wrap_degrees
from streaming.synthetic.seeding import rng_for

#: ``source`` of every synthetic reading.
IOT_SOURCE = "synthetic:iot"


@dataclass(frozen=True, slots=True)
class FlightLeg:
    """One flight as the simulator needs it.

    Attributes:
        shipment_id: The shipment (flight) id.
        vehicle_id: The plane's tail number.
        origin: Origin position.
        destination: Destination position.
        departure: Actual departure (UTC).
        arrival: Actual arrival (UTC), after ``departure``.
    """

    shipment_id: str
    vehicle_id: str
    origin: Endpoint
    destination: Endpoint
    departure: datetime
    arrival: datetime


@dataclass(frozen=True, slots=True)
class Anomalies:
    """The anomalies drawn for one leg, as reading indices (``start``, ``stop`` exclusive).

    Attributes:
        stop: Readings during an unexpected stop.
        excursion: Readings of a temperature excursion, and its peak temperature.
        gap: Readings never sent.
    """

    stop: tuple[int, int] | None
    excursion: tuple[int, int, float] | None
    gap: tuple[int, int] | None


def plan_anomalies(leg: FlightLeg, config: TelemetryConfig) -> Anomalies:
    """The seeded anomalies of one leg (the same for the same seed and shipment).

    A stop needs at least six airborne readings and falls in the middle third of them; a leg
    too short for one gets none.

    Args:
        leg: The flight.
        config: Simulator settings.

    Returns:
        The leg's anomalies.
    """
    rng = rng_for(config.seed, "iot", leg.shipment_id)
    draws = rng.random(3)
    step = config.interval_seconds
    block = (leg.arrival - leg.departure).total_seconds()
    count = int(block // step) + 1
    stop = excursion = gap = None
    taxi_out, airborne, _ = phases(block)
    first, last = int(np.ceil(taxi_out / step)), int((taxi_out + airborne) // step)
    if draws[0] < config.stop_rate and last - first >= 6:
        third = (last - first) // 3
        begin = first + third + int(rng.integers(max(1, third - 2)))
        stop = (begin, min(begin + int(rng.integers(2, 6)), last - 1))
    if draws[1] < config.temperature_excursion_rate and count > 2:
        begin = int(rng.integers(1, count - 1))
        warm = rng.random() < 0.8
        peak = config.cargo_high_c + rng.uniform(1.5, 6.0) if warm else config.cargo_low_c - rng.uniform(1.5, 4.0)
        excursion = (begin, min(begin + int(rng.integers(1, 13)), count), float(peak))
    if draws[2] < config.signal_loss_rate and count > 2:
        begin = int(rng.integers(1, count - 1))
        gap = (begin, min(begin + int(rng.integers(3, 10)), count - 1))
    return Anomalies(stop, excursion, gap)


def _cargo(
    rng: np.random.Generator, count: int, excursion: tuple[int, int, float] | None, config: TelemetryConfig
) -> tuple[FloatArray, FloatArray]:
    """Cargo temperature and humidity: AR(1) around the set point, plus any excursion."""
    mid = (config.cargo_low_c + config.cargo_high_c) / 2
    room = (config.cargo_high_c - config.cargo_low_c) / 2 - 1.0  # normal wander stays 1 °C inside
    noise = rng.normal(0.0, 0.25, (2, count))
    # AR(1) with coefficient 0.85 (a hold's temperature moves slowly), as a convolution.
    kernel = 0.85 ** np.arange(count)
    drift = np.stack([np.convolve(row, kernel)[:count] for row in noise])
    offset = rng.normal(0.0, room / 4)
    temperature = mid + np.clip(offset + drift[0] * room / 2, -room, room)
    humidity = config.cargo_humidity_pct + rng.normal(0.0, 3.0) + drift[1] * 4
    if excursion is not None:
        begin, end, peak = excursion
        length = end - begin
        ramp = max(1, length // 3)
        j = np.arange(length)
        envelope = np.minimum(1.0, np.minimum((j + 1) / ramp, (length - j) / ramp))
        temperature[begin:end] += (peak - temperature[begin:end]) * envelope
        humidity[begin:end] += 15.0 * envelope
    return temperature, np.clip(humidity, 0.0, 100.0)


def leg_readings(leg: FlightLeg, config: TelemetryConfig) -> Iterator[VehicleTelemetry]:
    """Every reading of one leg, in time order (models are built as they are consumed).

    Args:
        leg: The flight; a leg whose arrival is not after its departure yields nothing.
        config: Simulator settings.

    Yields:
        Validated readings stamped ``departure + k * interval``.
    """
    block = (leg.arrival - leg.departure).total_seconds()
    if block <= 0:
        return
    step = config.interval_seconds
    count = int(block // step) + 1
    at = np.arange(count, dtype=np.float64) * step
    plan = plan_anomalies(leg, config)
    rng = rng_for(config.seed, "iot-noise", leg.shipment_id)
    stop = None if plan.stop is None else (at[plan.stop[0]] - step / 2, at[plan.stop[1] - 1] + step / 2)
    path = track(leg.origin, leg.destination, block, at, stop)
    speed = np.where(
        path.speed_kmh > 0, path.speed_kmh * rng.normal(1.0, 0.015, count), np.abs(rng.normal(0, 0.5, count))
    )
    speed = np.clip(speed + np.where(path.airborne, 0.0, rng.normal(0, 4.0, count)), 0.0, 1400.0)
    heading = wrap_degrees(path.heading_deg + rng.normal(0.0, np.where(path.airborne, 0.8, 15.0)))
    altitude = np.clip(path.altitude_m + rng.normal(0.0, np.where(path.airborne, 15.0, 1.0)), -400.0, 19_000.0)
    lat = np.clip(path.lat + rng.normal(0.0, 1e-4, count), -90.0, 90.0)
    lon = path.lon + rng.normal(0.0, 1e-4, count)
    lon = np.where(lon > 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))
    temperature, humidity = _cargo(rng, count, plan.excursion, config)
    sent = np.ones(count, dtype=bool)
    if plan.gap is not None:
        sent[plan.gap[0] : plan.gap[1]] = False
    columns = zip(
        lat.round(6).tolist(), lon.round(6).tolist(), altitude.round(1).tolist(), speed.round(1).tolist(),
        heading.round(2).tolist(), temperature.round(2).tolist(), humidity.round(1).tolist(), sent.tolist(),
        strict=True,
    )  # fmt: skip
    for k, (la, lo, alt, spd, hdg, temp, hum, is_sent) in enumerate(columns):
        if not is_sent:
            continue
        yield VehicleTelemetry(
            event_id=f"syn-iot:{leg.shipment_id}:{k:04d}",
            source=IOT_SOURCE,
            event_time=leg.departure + timedelta(seconds=k * step),
            vehicle_id=leg.vehicle_id,
            shipment_id=leg.shipment_id,
            latitude=la,
            longitude=lo,
            altitude_m=alt,
            speed_kmh=spd,
            heading_deg=hdg if hdg < 360.0 else 0.0,  # rounding can reach 360.0
            cargo_temperature_c=temp,
            cargo_humidity_pct=hum,
        )


def generate_telemetry(legs: Iterable[FlightLeg], config: TelemetryConfig | None = None) -> Iterator[VehicleTelemetry]:
    """Readings of every leg, merged across planes in ``event_time`` order.

    Legs are read lazily; a leg is started only when the merge reaches its departure, so
    memory holds just the legs in the air.

    Args:
        legs: Flight legs in non-decreasing ``departure`` order (e.g.
            :func:`~streaming.synthetic.legs.legs_from_dataset`).
        config: Simulator settings; defaults when ``None``.

    Yields:
        Validated readings in ``(event_time, shipment_id)`` order.

    Raises:
        InvalidInputError: A leg departs before the leg read before it.
    """
    settings = config or TelemetryConfig()
    upcoming = iter(legs)
    heap: list[tuple[datetime, str, VehicleTelemetry, Iterator[VehicleTelemetry]]] = []
    pending = next(upcoming, None)
    while pending is not None or heap:
        while pending is not None and (not heap or pending.departure <= heap[0][0]):
            readings = leg_readings(pending, settings)
            first = next(readings, None)
            if first is not None:
                heapq.heappush(heap, (first.event_time, pending.shipment_id, first, readings))
            following = next(upcoming, None)
            if following is not None and following.departure < pending.departure:
                msg = f"legs must be in departure order: {following.shipment_id} departs before {pending.shipment_id}"
                raise InvalidInputError(msg)
            pending = following
        if not heap:
            continue
        _, shipment, reading, readings = heap[0]
        following_reading = next(readings, None)
        if following_reading is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (following_reading.event_time, shipment, following_reading, readings))
        yield reading
