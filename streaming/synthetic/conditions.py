"""What the text generators perceive: weather hazards, operational stress and episodes.

Pure functions from what is known at a facility (the latest weather observation, the flights
seen departing, arriving or cancelled in a recent window) to a few numbers a newsroom or a
traveller would react to. The thresholds are judgement, written down here once:

* **Weather** (from one observation): *snow* when precipitation falls at or below 1 °C, *rain*
  above it, *fog* under 1,600 m (1 statute mile) visibility, *wind* from 9 m/s sustained or
  13 m/s gusts; snow or heavy rain together with strong wind is a *storm*. Severity is in
  ``[0, 1]``; any snow counts at least 0.4 (de-icing slows every departure).
* **Operations** (departures in the last hour): stress from the mean departure delay
  (0 at 15 min, 1 at 90 min), the share leaving an hour or more late, and the cancellations.
  A *ground stop* is six or more cancellations in the hour and no more departures than
  cancellations; *mass delays* a mean delay of 45 min or 40% an hour late.
* **Episodes** keep a start time with hysteresis, so a condition that flickers around its
  threshold is one episode, not many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chainwatch.schemas.events import WeatherObservation

WeatherKind = Literal["clear", "rain", "snow", "fog", "wind", "storm"]
EpisodeKind = Literal["weather", "ground_stop", "mass_delays", "arrival_delays"]

#: Departures needed in the window before delay statistics mean anything.
MIN_DEPARTURES = 3
#: Arrivals needed in the window before arrival-delay statistics mean anything.
MIN_ARRIVALS = 3

_SNOW_MAX_C = 1.0
_FOG_M = 1_600.0
_WIND_MS, _GUST_MS = 9.0, 13.0
_HEAVY_RAIN_MM = 4.0
# Condition groups a live adapter (OpenWeatherMap) may report: the kind and severity floor they
# imply, and the measures that make them redundant. A group only counts when those measures are
# missing (or, for thunderstorms and squalls, always: no measure shows them), so the replay
# (which derives a group from the measures) and the plain measures read the same.
_CONDITION_KINDS: dict[str, tuple[WeatherKind, float, tuple[str, ...]]] = {
    "snow": ("snow", 0.5, ("temperature_c", "precipitation_mm")),
    "rain": ("rain", 0.2, ("precipitation_mm",)),
    "fog": ("fog", 0.4, ("visibility_m",)),
    "mist": ("fog", 0.2, ("visibility_m",)),
    "thunderstorm": ("storm", 0.6, ()),
    "squall": ("wind", 0.6, ()),
}


@dataclass(frozen=True, slots=True)
class WeatherHazard:
    """The dominant hazard of one observation.

    Attributes:
        kind: Dominant hazard, ``clear`` when nothing matters.
        severity: 0 (benign) to 1 (airport-stopping).
        temperature_c: Air temperature, when reported.
        wind_kmh: Sustained wind in km/h (0 when not reported).
        visibility_m: Visibility, when reported.
        precipitation_mm: Precipitation over the past hour (0 when not reported).
    """

    kind: WeatherKind
    severity: float
    temperature_c: float | None
    wind_kmh: float
    visibility_m: float | None
    precipitation_mm: float


@dataclass(frozen=True, slots=True)
class OpsStats:
    """Operational statistics of a facility over the recent window.

    Attributes:
        departures: Departures seen in the window.
        mean_delay_min: Mean departure delay of those (0 when none).
        late_share: Share of them an hour or more late.
        cancellations: Cancellations that became known in the window.
        arrivals: Arrivals seen in the (arrival) window.
        mean_arrival_delay_min: Mean arrival delay of those (0 when none).
    """

    departures: int
    mean_delay_min: float
    late_share: float
    cancellations: int
    arrivals: int
    mean_arrival_delay_min: float


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def assess_weather(observation: WeatherObservation) -> WeatherHazard:
    """The dominant hazard of one weather observation.

    Args:
        observation: A weather observation (replayed or live).

    Returns:
        Its hazard kind and severity.
    """
    temp = observation.temperature_c
    precip = observation.precipitation_mm or 0.0
    wind = observation.wind_speed_ms or 0.0
    gust = observation.wind_gust_ms or 0.0
    vis = observation.visibility_m
    scores: dict[WeatherKind, float] = {}
    if precip > 0:
        if temp is not None and temp <= _SNOW_MAX_C:
            scores["snow"] = _clip(0.4 + precip / 2.5)
        else:
            scores["rain"] = _clip(precip / (2 * _HEAVY_RAIN_MM))
    if vis is not None and vis < _FOG_M:
        scores["fog"] = _clip(0.3 + 0.7 * (1 - vis / _FOG_M))
    windy = max(wind - _WIND_MS, (gust - _GUST_MS) * 0.7)
    if windy > 0:
        scores["wind"] = _clip(0.2 + windy / 8)
    wet = scores.get("snow", 0.0) >= 0.6 or precip >= _HEAVY_RAIN_MM  # heavy precipitation
    if wet and scores.get("wind", 0.0) > 0:
        scores["storm"] = _clip(max(scores.values()) + 0.2)
    hint = _CONDITION_KINDS.get((observation.condition or "").strip().lower())
    if hint is not None and (not hint[2] or any(getattr(observation, name) is None for name in hint[2])):
        scores[hint[0]] = max(scores.get(hint[0], 0.0), hint[1])
    # A storm combines other hazards, so it names the weather whenever it applies.
    kind: WeatherKind = "storm" if "storm" in scores else max(scores, key=lambda k: scores[k], default="clear")
    severity = scores.get(kind, 0.0)
    if severity < 0.15:  # below notice
        kind = "clear"
    return WeatherHazard(kind, severity, temp, wind * 3.6, vis, precip)


def ops_severity(stats: OpsStats) -> float:
    """Operational stress at the facility as an origin, 0 (normal) to 1 (nothing moves).

    Args:
        stats: The window's statistics.

    Returns:
        The larger of the delay, lateness and cancellation stresses.
    """
    delay = late = 0.0
    if stats.departures >= MIN_DEPARTURES:
        delay = _clip((stats.mean_delay_min - 15) / 75)
        late = _clip(stats.late_share * 1.5)
    return max(delay, late, _clip(stats.cancellations / 12))


def arrival_severity(stats: OpsStats) -> float:
    """Arrival stress at the facility as a destination, 0 (on time) to 1 (hours late).

    Args:
        stats: The window's statistics.

    Returns:
        0 with too few arrivals, else the scaled mean arrival delay.
    """
    if stats.arrivals < MIN_ARRIVALS:
        return 0.0
    return _clip((stats.mean_arrival_delay_min - 15) / 90)


def episode_signals(hazard: WeatherHazard | None, stats: OpsStats) -> dict[EpisodeKind, tuple[bool, bool]]:
    """For each episode kind, whether it starts now and whether it may continue.

    Args:
        hazard: The current weather hazard, ``None`` when no recent observation.
        stats: The window's statistics.

    Returns:
        ``kind -> (on, keep)``: ``on`` starts an episode; an open one stays open while
        ``keep`` holds (hysteresis).
    """
    severity = hazard.severity if hazard is not None else 0.0
    late = stats.departures >= MIN_DEPARTURES
    landed = stats.arrivals >= MIN_ARRIVALS
    return {
        "weather": (severity >= 0.5, severity >= 0.3),  # hysteresis band
        "ground_stop": (
            stats.cancellations >= 6 and stats.cancellations >= stats.departures,
            stats.cancellations >= 3,
        ),
        "mass_delays": (
            late and (stats.mean_delay_min >= 45 or stats.late_share >= 0.4),
            late and (stats.mean_delay_min >= 30 or stats.late_share >= 0.25),
        ),
        "arrival_delays": (
            landed and stats.mean_arrival_delay_min >= 60,
            landed and stats.mean_arrival_delay_min >= 40,
        ),
    }


@dataclass(frozen=True, slots=True)
class Episode:
    """A condition that has held at a facility since ``since``.

    Attributes:
        kind: What holds.
        since: The tick at which it started.
        last_seen: The last tick at which its ``keep`` signal held.
    """

    kind: EpisodeKind
    since: datetime
    last_seen: datetime


def advance_episode(
    episode: Episode | None,
    kind: EpisodeKind,
    signal: tuple[bool, bool],
    at: datetime,
    *,
    grace_ticks: int,
    tick_seconds: float,
) -> tuple[Episode | None, Episode | None]:
    """One tick of an episode's life.

    Args:
        episode: The open episode of this kind, if any.
        kind: The episode kind.
        signal: ``(on, keep)`` from :func:`episode_signals`.
        at: The tick.
        grace_ticks: Ticks without ``keep`` after which an open episode ends.
        tick_seconds: Tick length in seconds.

    Returns:
        ``(open, ended)``: the episode open after this tick, and the one that ended at it.
    """
    on, keep = signal
    if episode is None:
        return (Episode(kind, at, at) if on else None), None
    if keep or on:
        return Episode(kind, episode.since, at), None
    if (at - episode.last_seen).total_seconds() >= grace_ticks * tick_seconds:
        return None, episode
    return episode, None
