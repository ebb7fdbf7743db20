"""OpenWeatherMap: normalisation of recorded responses, the replay's inverse, and the adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from chainwatch.adapter_settings import DEFAULT_FACILITIES, OpenWeatherMapSettings, env_var
from chainwatch.errors import ConfigError, InvalidInputError
from chainwatch.schemas.events import WeatherObservation
from streaming.adapters.base import Batch, Cursor
from streaming.adapters.errors import MalformedResponseError, UpstreamAuthError, UpstreamUnavailableError
from streaming.adapters.http import HttpFetcher
from streaming.adapters.metrics import AdapterMetrics
from streaming.adapters.openweathermap import (
    OpenWeatherMapAdapter,
    dew_point_c,
    normalize_current_weather,
    parse_current_weather,
    to_owm_document,
)
from tests.fixtures.adapters import FAST_HTTP, SleepRecorder, recorded, recorded_json, serving

KEY = "owm-test-key"


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def server(http_server: HTTPServer) -> HTTPServer:
    http_server.clear()
    return http_server


def adapter(server: HTTPServer, sleep: SleepRecorder | None = None) -> OpenWeatherMapAdapter:
    settings = OpenWeatherMapSettings(enabled=True, api_key=SecretStr(KEY), base_url=server.url_for("/"))
    fetcher = HttpFetcher(
        "openweathermap",
        FAST_HTTP,
        key_setting=env_var("openweathermap", "api_key"),
        metrics=AdapterMetrics(CollectorRegistry()),
        sleep=sleep or SleepRecorder(),
    )
    return OpenWeatherMapAdapter(settings, DEFAULT_FACILITIES, fetcher)


def observations(batch: Batch) -> list[WeatherObservation]:
    assert all(isinstance(event, WeatherObservation) for event in batch.events)
    return [event for event in batch.events if isinstance(event, WeatherObservation)]


def test_a_recorded_response_becomes_a_utc_observation_with_every_measure() -> None:
    # when
    [observation] = parse_current_weather(recorded("openweathermap/current_jfk_rain.json"), "JFK")

    # then
    assert observation.event_id == "wx:openweathermap:JFK:20240109T210000Z"
    assert observation.source == "openweathermap"
    assert observation.event_time == datetime(2024, 1, 9, 21, 0, tzinfo=UTC)
    assert observation.event_time.tzinfo is UTC
    assert observation.facility_id == "JFK"
    assert observation.temperature_c == pytest.approx(8.94)
    assert observation.humidity_pct == 93
    assert observation.dew_point_c == pytest.approx(7.9, abs=0.1)
    assert observation.wind_speed_ms == pytest.approx(13.38)
    assert observation.wind_gust_ms == pytest.approx(20.58)
    assert observation.wind_direction_deg == 130
    assert observation.precipitation_mm == pytest.approx(5.59)
    assert observation.pressure_hpa == 985
    assert observation.visibility_m == 3219
    assert observation.condition == "Rain"


def test_snow_counts_as_precipitation_and_the_first_condition_wins() -> None:
    [observation] = parse_current_weather(recorded("openweathermap/current_ewr_snow.json"), "EWR")

    assert observation.precipitation_mm == pytest.approx(0.89)
    assert observation.condition == "Snow"
    assert observation.event_time == datetime(2024, 1, 16, 15, 0, tzinfo=UTC)
    assert observation.dew_point_c is not None
    assert observation.temperature_c is not None
    assert observation.dew_point_c < observation.temperature_c


def test_no_rain_or_snow_block_means_no_precipitation() -> None:
    [observation] = parse_current_weather(recorded("openweathermap/current_lga_clouds.json"), "LGA")

    assert observation.precipitation_mm == 0.0
    assert observation.condition == "Clouds"


@pytest.mark.parametrize(
    ("temperature", "humidity", "expected"),
    [(20.0, 50.0, 9.3), (0.0, 100.0, 0.0), (-10.0, 70.0, -14.4), (30.0, 80.0, 26.2)],
)
def test_dew_point_follows_the_magnus_formula(temperature: float, humidity: float, expected: float) -> None:
    assert dew_point_c(temperature, humidity) == pytest.approx(expected, abs=0.1)


def test_dew_point_is_unknown_for_zero_humidity() -> None:
    assert dew_point_c(20.0, 0.0) is None


def test_the_minimum_document_is_dt_and_main() -> None:
    observation = normalize_current_weather({"dt": 1357034400, "main": {}}, "jfk", source="replay:nycflights13")

    assert observation.event_time == datetime(2013, 1, 1, 10, tzinfo=UTC)
    assert observation.facility_id == "JFK"
    assert observation.event_id == "wx:replay:nycflights13:JFK:20130101T100000Z"
    assert observation.temperature_c is None
    assert observation.condition is None


def test_the_replay_document_round_trips_through_the_normaliser() -> None:
    # given: metric measures as the replay's weather table has them
    measures: dict[str, Any] = {
        "temperature_c": -1.7,
        "dew_point_c": -5.0,
        "humidity_pct": 78.2,
        "wind_direction_deg": 40.0,
        "wind_speed_ms": 7.2,
        "wind_gust_ms": 10.3,
        "precipitation_mm": 1.27,
        "pressure_hpa": 1012.4,
        "visibility_m": 3218.7,
    }
    when = datetime(2013, 2, 8, 18, tzinfo=UTC)

    # when
    doc = to_owm_document(event_time=when, condition="Snow", **measures)
    observation = normalize_current_weather(json.loads(json.dumps(doc)), "JFK", source="replay:nycflights13")

    # then: every measure comes back, the measured dew point included
    assert observation.event_time == when
    assert observation.condition == "Snow"
    assert doc["snow"] == {"1h": 1.27}
    for field, value in measures.items():
        assert getattr(observation, field) == pytest.approx(value), field


def test_to_owm_document_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_owm_document(event_time=datetime(2013, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (recorded("openweathermap/current_jfk_rain.json")[:180], "not valid JSON"),
        (recorded("common/proxy_error.html"), "HTML page: 502 Bad Gateway"),
        (b"", "empty"),
        (b"[]", "expected a JSON object"),
        (b'{"main": {"temp": 3}}', "dt: Field required"),
        (b'{"dt": "yesterday", "main": {}}', "dt:"),
    ],
    ids=["truncated", "html-page", "empty", "array", "no-dt", "bad-dt"],
)
def test_malformed_bodies_raise_a_clear_error(body: bytes, expected: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        parse_current_weather(body, "JFK")

    assert "OpenWeatherMap" in str(caught.value)
    assert expected in str(caught.value)
    assert caught.value.payload == body


def test_kelvin_values_are_rejected_as_out_of_range() -> None:
    # given: a response fetched without units=metric
    doc = recorded_json("openweathermap/current_jfk_rain.json")
    doc["main"]["temp"] = 282.09

    # when / then
    with pytest.raises(MalformedResponseError, match="out of range: temperature_c"):
        normalize_current_weather(doc, "JFK")


def test_an_invalid_facility_is_the_callers_error() -> None:
    with pytest.raises(InvalidInputError, match="invalid facility id"):
        normalize_current_weather({"dt": 0, "main": {}}, "not an airport")


def test_the_adapter_asks_each_facility_by_coordinates_in_metric_units(server: HTTPServer) -> None:
    # given: a recorded answer per facility, matched on the query the API documents
    for facility, fixture in (("EWR", "current_ewr_snow"), ("JFK", "current_jfk_rain"), ("LGA", "current_lga_clouds")):
        config = next(f for f in DEFAULT_FACILITIES if f.facility_id == facility)
        server.expect_request(
            "/data/2.5/weather",
            query_string={"lat": f"{config.lat:.4f}", "lon": f"{config.lon:.4f}", "units": "metric", "appid": KEY},
        ).respond_with_data(recorded(f"openweathermap/{fixture}.json"), content_type="application/json")

    # when
    batch = adapter(server).fetch(Cursor())

    # then
    assert [event.facility_id for event in observations(batch)] == ["EWR", "JFK", "LGA"]
    assert batch.failures == []
    assert len(server.log) == 3


def test_one_failing_facility_does_not_stop_the_others(server: HTTPServer) -> None:
    # given: LGA's requests fail every time
    for facility in DEFAULT_FACILITIES:
        status = 503 if facility.facility_id == "LGA" else 200
        body = recorded("openweathermap/current_jfk_rain.json") if status == 200 else b"busy"
        server.expect_request(
            "/data/2.5/weather",
            query_string={"lat": f"{facility.lat:.4f}", "lon": f"{facility.lon:.4f}", "units": "metric", "appid": KEY},
        ).respond_with_data(body, status=status)

    # when
    batch = adapter(server).fetch(Cursor())

    # then
    assert sorted(event.facility_id for event in observations(batch)) == ["EWR", "JFK"]
    [failure] = batch.failures
    assert isinstance(failure, UpstreamUnavailableError)


def test_a_bad_key_names_the_setting(server: HTTPServer) -> None:
    # given
    server.expect_request("/data/2.5/weather").respond_with_data(recorded("openweathermap/error_401.json"), status=401)

    # when
    batch = adapter(server).fetch(Cursor())

    # then: every facility failed the same way, once each (not retried)
    assert batch.events == []
    assert len(batch.failures) == 3
    assert all(isinstance(failure, UpstreamAuthError) for failure in batch.failures)
    assert "CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY" in str(batch.failures[0])
    assert len(server.log) == 3


def test_the_adapter_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY"):
        OpenWeatherMapAdapter(OpenWeatherMapSettings(), DEFAULT_FACILITIES, HttpFetcher("owm", FAST_HTTP))
