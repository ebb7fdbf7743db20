"""``chainwatch ingest weather`` end to end: recorded OpenWeatherMap responses served over real
HTTP, events through the gate into the real Kafka topic, a truncated body into the DLQ."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from chainwatch.adapter_settings import AdaptersSettings
from chainwatch.cli import main
from chainwatch.settings import Settings
from tests.fixtures.adapters import recorded_json, serving
from tests.integration.kafka_helpers import consume

KEY = "test-owm-key"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from serving()


def body_at(name: str, moment: datetime) -> bytes:
    document = recorded_json(name)
    document["dt"] = int(moment.timestamp())  # a fresh, unique observation time for this run
    return json.dumps(document).encode()


def test_weather_is_polled_into_kafka_and_a_truncated_body_into_the_dlq(
    services_settings: Settings, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=random.randint(60, 86_000))
    stamp = f"{moment:%Y%m%dT%H%M%SZ}"
    bodies = {
        "EWR": body_at("openweathermap/current_ewr_snow.json", moment),
        "JFK": body_at("openweathermap/current_jfk_rain.json", moment),
        "LGA": body_at("openweathermap/current_lga_clouds.json", moment)[:57],  # cut off mid-document
    }
    for facility in AdaptersSettings().facilities:
        server.expect_request(
            "/data/2.5/weather",
            query_string={"lat": f"{facility.lat:.4f}", "lon": f"{facility.lon:.4f}", "units": "metric", "appid": KEY},
        ).respond_with_data(bodies[facility.facility_id], content_type="application/json")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__OPENWEATHERMAP__ENABLED", "true")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY", KEY)
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__OPENWEATHERMAP__BASE_URL", server.url_for("/"))
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__HTTP__MAX_ATTEMPTS", "1")

    assert main(["ingest", "weather", "--polls", "1"]) == 0

    # Shared topics: find this run's events by their unique observation time.
    received = consume(services_settings, "weather.observations.v1", expected=10**9, timeout_s=8)
    mine = [json.loads(value) for _, value in received if stamp in json.loads(value)["event_id"]]
    assert sorted(event["facility_id"] for event in mine) == ["EWR", "JFK"]
    assert {event["source"] for event in mine} == {"openweathermap"}
    letters = consume(services_settings, "weather.observations.v1.dlq", expected=10**9, timeout_s=8)
    cut = [
        json.loads(value) for _, value in letters if base64.b64decode(json.loads(value)["payload_b64"]) == bodies["LGA"]
    ]
    assert len(cut) == 1
    assert cut[0]["reason"] in {"invalid_json", "schema_violation"}
