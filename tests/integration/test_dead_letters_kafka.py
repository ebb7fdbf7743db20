"""Every class of bad input lands in the dead-letter topic with its reason and original bytes,
and the good events around it are all delivered — against the real Kafka broker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES, Decoded
from chainwatch.schemas.events import WeatherObservation
from chainwatch.schemas.topics import TopicSpec
from chainwatch.settings import Settings
from streaming.kafka.gate import EventGate, KnownEntities
from streaming.kafka.producer import EventProducer
from streaming.kafka.router import GatedProducer
from tests.integration.kafka_helpers import consume, create_topics, delete_topics

NOW = datetime.now(UTC).replace(microsecond=0)


def observation(index: int, **overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": f"wx:test:{index}",
        "source": "openweathermap",
        "event_time": (NOW - timedelta(minutes=index)).isoformat(),
        "facility_id": "JFK",
        "temperature_c": -2.5,
    }
    event.update(overrides)
    return event


def encoded(event: dict[str, object]) -> bytes:
    return json.dumps(event).encode()


BAD_INPUTS: dict[str, bytes] = {
    "invalid_json": b'{"event_id": "wx:test:broken", "source": ',
    "bad_encoding": b'{"event_id": "wx:test:\xff\xfe"}',
    "schema_violation": encoded(observation(101, humidity_pct=140.0)),
    "non_finite_number": encoded(observation(102)).replace(b"-2.5", b"NaN"),
    "unknown_entity": encoded(observation(103, facility_id="ZZZ")),
    "future_timestamp": encoded(observation(104, event_time=(NOW + timedelta(days=3)).isoformat())),
    "oversize": encoded(observation(105, condition="x" * 10)) + b" " * MAX_PAYLOAD_BYTES,
    "duplicate": encoded(observation(1)),  # the same id as the first good event
}


@pytest.fixture
def spec(services_settings: Settings, unique_name: str) -> Iterator[TopicSpec]:
    topic_spec = TopicSpec(unique_name, WeatherObservation, "facility_id")
    create_topics(services_settings, [topic_spec.name, topic_spec.dlq], partitions=1)
    yield topic_spec
    delete_topics(services_settings, [topic_spec.name, topic_spec.dlq])


def test_each_bad_input_class_is_dead_lettered_with_its_reason(services_settings: Settings, spec: TopicSpec) -> None:
    producer = EventProducer(services_settings.kafka, client_id="test-dlq")
    gate = EventGate(spec, source="test-feed", known=KnownEntities(facilities=frozenset({"JFK", "EWR", "LGA"})))
    router = GatedProducer(producer, gate)
    good = [encoded(observation(index)) for index in range(1, 21)]
    inputs = [*good[:10], *BAD_INPUTS.values(), *good[10:]]

    results = [router.submit_bytes(payload, key="JFK") for payload in inputs]
    producer.flush()

    assert sum(isinstance(result, Decoded) for result in results) == len(good)
    delivered = consume(services_settings, spec.name, len(good))
    assert sorted(json.loads(value)["event_id"] for _, value in delivered) == sorted(
        f"wx:test:{index}" for index in range(1, 21)
    )
    letters = [json.loads(value) for _, value in consume(services_settings, spec.dlq, len(BAD_INPUTS))]
    by_reason = {letter["reason"]: letter for letter in letters}
    assert len(letters) == len(BAD_INPUTS)
    assert set(by_reason) == set(BAD_INPUTS)
    for reason, payload in BAD_INPUTS.items():
        assert base64.b64decode(by_reason[reason]["payload_b64"]) == payload, reason
        assert by_reason[reason]["topic"] == spec.name
        assert by_reason[reason]["source"] == "test-feed"
        assert by_reason[reason]["detail"]
        assert REGISTRY.get_sample_value("chainwatch_dead_letters_total", {"topic": spec.name, "reason": reason}) == 1
