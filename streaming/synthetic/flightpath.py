"""The simulated physical flight: where a plane is, how high and how fast, at any instant.

This is the *simulated physical world*, not a feature: a flight's path is built from its
actual departure and arrival times (the plane really is where it is), the way a real
tracker's readings follow the real flight. Phases:

* **taxi out** at the origin (the first ``min(12 min, 12%)`` of the block), ~20 km/h;
* **airborne** along the great circle, with a trapezoid speed profile: speed ramps from 30%
  to the cruise speed over ``min(20 min, 30%)`` of the airborne time (climb) and back down
  at the end (descent); cruise speed is whatever covers the distance in the time flown;
* **taxi in** at the destination (the last ``min(6 min, 6%)``).

The altitude climbs from the origin's elevation to a cruise level that grows with distance
(3,000 m for hops, 11,000 m from ~1,000 km) and descends to the destination's elevation.
An *unexpected stop* freezes progress for a while and the plane then flies faster to keep
its recorded arrival time (a time warp), so the anomaly never contradicts the record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streaming.synthetic.geo import FloatArray, distance_km, initial_bearing, interpolate

_TAXI_OUT_S, _TAXI_OUT_SHARE = 12 * 60.0, 0.12
_TAXI_IN_S, _TAXI_IN_SHARE = 6 * 60.0, 0.06
_RAMP_S, _RAMP_SHARE = 20 * 60.0, 0.3
_RAMP_SPEED = 0.3  # speed at lift-off and touch-down, as a share of cruise speed
_TAXI_KMH = 20.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A facility's position.

    Attributes:
        lat: Latitude in degrees.
        lon: Longitude in degrees.
        altitude_m: Elevation above sea level.
    """

    lat: float
    lon: float
    altitude_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Track:
    """A flight's physical state at a series of instants (seconds since departure).

    Attributes:
        lat: Latitudes.
        lon: Longitudes.
        altitude_m: Altitudes above sea level.
        speed_kmh: Ground speeds.
        heading_deg: Headings, ``[0, 360)``.
        airborne: Whether the plane is in the air.
    """

    lat: FloatArray
    lon: FloatArray
    altitude_m: FloatArray
    speed_kmh: FloatArray
    heading_deg: FloatArray
    airborne: npt.NDArray[np.bool_]


def cruise_altitude_m(distance: float) -> float:
    """Cruise level of a flight of ``distance`` km: higher for longer flights.

    Args:
        distance: Great-circle distance.

    Returns:
        Metres above sea level, 3,000 to 11,000.
    """
    return float(min(11_000.0, max(3_000.0, 2_500.0 + 8.5 * distance)))


def phases(block_s: float) -> tuple[float, float, float]:
    """``(taxi_out, airborne, ramp)`` durations in seconds of a block of ``block_s``.

    Args:
        block_s: Gate-to-gate time in seconds (positive).

    Returns:
        Taxi-out time, airborne time and climb/descent ramp time.
    """
    taxi_out = min(_TAXI_OUT_S, _TAXI_OUT_SHARE * block_s)
    taxi_in = min(_TAXI_IN_S, _TAXI_IN_SHARE * block_s)
    airborne = block_s - taxi_out - taxi_in
    return taxi_out, airborne, min(_RAMP_S, _RAMP_SHARE * airborne)


def _flown(tau: FloatArray, airborne: float, ramp: float, cruise: float) -> tuple[FloatArray, FloatArray]:
    """Distance flown (km) and speed (km/s) at airborne times ``tau`` (trapezoid profile)."""
    a = _RAMP_SPEED
    left = airborne - tau
    climb = cruise * (a * tau + (1 - a) * tau**2 / (2 * ramp))
    climbed = cruise * ramp * (1 + a) / 2
    level = climbed + cruise * (tau - ramp)
    total = climbed * 2 + cruise * (airborne - 2 * ramp)
    descent = total - cruise * (a * left + (1 - a) * left**2 / (2 * ramp))
    flown = np.where(tau < ramp, climb, np.where(tau > airborne - ramp, descent, level))
    speed = np.where(
        tau < ramp,
        cruise * (a + (1 - a) * tau / ramp),
        np.where(tau > airborne - ramp, cruise * (a + (1 - a) * left / ramp), cruise),
    )
    return flown, speed


def _smoothstep(x: FloatArray) -> FloatArray:
    """0 to 1 with zero slope at both ends: an aircraft levels off gently."""
    return x * x * (3 - 2 * x)


def track(
    origin: Endpoint,
    destination: Endpoint,
    block_s: float,
    at_s: FloatArray,
    stop: tuple[float, float] | None = None,
) -> Track:
    """The physical state at instants ``at_s`` (seconds after departure) of one flight.

    Args:
        origin: Where the flight leaves.
        destination: Where it arrives.
        block_s: Gate-to-gate seconds (actual departure to actual arrival), positive.
        at_s: Instants, each in ``[0, block_s]``.
        stop: ``(start, end)`` seconds after departure of an unexpected stop while airborne.

    Returns:
        The track; speeds are exact (no noise) and zero during the stop.
    """
    distance = max(distance_km(origin.lat, origin.lon, destination.lat, destination.lon), 1e-6)
    taxi_out, airborne, ramp = phases(block_s)
    tau = np.clip(at_s - taxi_out, 0.0, airborne)
    warp = np.ones_like(tau)
    if stop is not None:
        # Progress pauses during the stop, then runs faster so the arrival time holds.
        start, end = stop[0] - taxi_out, stop[1] - taxi_out
        rate = (airborne - start) / (airborne - end)
        stopped = (tau >= start) & (tau < end)
        tau = np.where(tau < start, tau, np.where(stopped, start, start + (tau - end) * rate))
        warp = np.where(at_s - taxi_out < start, 1.0, np.where(stopped, 0.0, rate))
    cruise = distance / (airborne - ramp * (1 - _RAMP_SPEED))
    flown, speed = _flown(tau, airborne, ramp, cruise)
    lat, lon = interpolate(origin.lat, origin.lon, destination.lat, destination.lon, flown / distance)
    final = float(initial_bearing(np.array([destination.lat]), np.array([destination.lon]), origin.lat, origin.lon)[0])
    towards = np.where(flown / distance < 1 - 1e-9, initial_bearing(lat, lon, destination.lat, destination.lon), 0.0)
    heading = np.where(flown / distance < 1 - 1e-9, towards, (final + 180.0) % 360.0)
    in_air = (at_s > taxi_out) & (at_s < taxi_out + airborne)
    height = cruise_altitude_m(distance)
    up = np.clip(tau / ramp, 0.0, 1.0)
    down = np.clip((airborne - tau) / ramp, 0.0, 1.0)
    climb = origin.altitude_m + (height - origin.altitude_m) * _smoothstep(up)
    descend = destination.altitude_m + (height - destination.altitude_m) * _smoothstep(down)
    altitude = np.where(tau < airborne / 2, climb, descend)
    ground_speed = np.where(in_air, speed * 3600.0 * warp, _TAXI_KMH)
    return Track(lat, lon, altitude, ground_speed, heading, in_air)
