"""Replayed weather: each 2013 hourly observation as an OpenWeatherMap document, normalised live-style.

The dataset has measures but no condition group; :func:`condition_of` derives one from them
(precipitation at or below 1 °C is snow, other precipitation rain, visibility under 1 km fog,
under 5 km mist, otherwise none) so hazard features and text generators can use it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from streaming.adapters.openweathermap import normalize_current_weather, to_owm_document
from streaming.replay import REPLAY_SOURCE, WEATHER_TOPIC

MEASURES = (
    "temperature_c",
    "dew_point_c",
    "humidity_pct",
    "wind_direction_deg",
    "wind_speed_ms",
    "wind_gust_ms",
    "precipitation_mm",
    "pressure_hpa",
    "visibility_m",
)


def condition_of(temperature_c: float | None, precipitation_mm: float | None, visibility_m: float | None) -> str | None:
    """OpenWeatherMap's condition group derived from measures (``None`` when nothing notable)."""
    if precipitation_mm is not None and precipitation_mm > 0:
        return "Snow" if temperature_c is not None and temperature_c <= 1.0 else "Rain"
    if visibility_m is not None and visibility_m < 1_000:
        return "Fog"
    if visibility_m is not None and visibility_m < 5_000:
        return "Mist"
    return None


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else value


def weather_records(weather: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    """Every observation as a record (event_time, rank, topic, key, payload), in input order."""
    coords = {
        str(row_id): (float(lat), float(lon))
        for row_id, lat, lon in zip(facilities["facility_id"], facilities["lat"], facilities["lon"], strict=True)
    }
    columns = {name: weather[name].to_numpy(dtype=float, na_value=np.nan) for name in MEASURES}
    observed = [stamp.to_pydatetime() for stamp in weather["observed_at"]]
    keys = [str(value) for value in weather["facility_id"]]
    payloads = []
    for index, facility in enumerate(keys):
        measures = {name: _optional(float(column[index])) for name, column in columns.items()}
        lat, lon = coords.get(facility, (None, None))
        doc = to_owm_document(
            event_time=observed[index],
            condition=condition_of(measures["temperature_c"], measures["precipitation_mm"], measures["visibility_m"]),
            lat=lat,
            lon=lon,
            **measures,
        )
        payloads.append(normalize_current_weather(doc, facility, REPLAY_SOURCE).model_dump_json())
    return pd.DataFrame(
        {
            "event_time": weather["observed_at"].array,
            "rank": np.int8(0),
            "topic": WEATHER_TOPIC,
            "key": np.array(keys, dtype=object),
            "payload": np.array(payloads, dtype=object),
        }
    )
