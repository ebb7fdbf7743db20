"""The telemetry gate: the MQTT topic's vehicle must be the payload's, checked before dedup."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from chainwatch.schemas import DeadLetter, VehicleTelemetry, topic_spec
from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES, Decoded
from streaming.kafka.gate import KnownEntities
from streaming.mqtt.gate import VehicleEntities, VehicleTopicGate, topic_mismatch

NOW = datetime(2013, 6, 1, 12, tzinfo=UTC)
SPEC = topic_spec("iot.telemetry.v1")


def reading(event_id: str = "iot:1", vehicle_id: str = "N14228") -> VehicleTelemetry:
    return VehicleTelemetry(
        event_id=event_id,
        source="synthetic:iot",
        event_time=NOW - timedelta(minutes=1),
        vehicle_id=vehicle_id,
        shipment_id="UA1545-20130601-EWR",
        latitude=40.69,
        longitude=-74.17,
        speed_kmh=812.5,
        heading_deg=271.0,
    )


def payload(event: VehicleTelemetry) -> bytes:
    return event.model_dump_json().encode()


@pytest.fixture
def gate() -> VehicleTopicGate:
    return VehicleTopicGate(SPEC, source="mqtt-bridge", clock=lambda: NOW)


def dead(result: Decoded | DeadLetter) -> DeadLetter:
    assert isinstance(result, DeadLetter), result
    return result


def test_a_reading_on_its_own_vehicle_topic_passes(gate: VehicleTopicGate) -> None:
    # given a reading of N14228 / when it arrives on N14228's topic / then it decodes
    result = gate.check_bytes(payload(reading()), key="N14228")
    assert isinstance(result, Decoded)
    assert result.event == reading()


def test_a_reading_on_another_vehicles_topic_is_a_schema_violation(gate: VehicleTopicGate) -> None:
    # given a reading of N14228 / when it arrives on N99999's topic
    original = payload(reading())
    letter = dead(gate.check_bytes(original, key="N99999"))
    # then it is dead-lettered with both vehicles named, keyed by the topic's vehicle, bytes intact
    assert letter.reason == "schema_violation"
    assert "'N14228'" in letter.detail
    assert "'N99999'" in letter.detail
    assert letter.key == "N99999"
    assert base64.b64decode(letter.payload_b64) == original
    assert letter.topic == SPEC.name


def test_a_reading_from_no_vehicle_topic_is_a_schema_violation(gate: VehicleTopicGate) -> None:
    letter = dead(gate.check_bytes(payload(reading()), key=None))
    assert letter.reason == "schema_violation"
    assert "per-vehicle topic" in letter.detail


def test_a_reading_on_the_wrong_topic_does_not_claim_its_event_id(gate: VehicleTopicGate) -> None:
    # given a spoofed copy of a reading arrived first on another vehicle's topic
    dead(gate.check_bytes(payload(reading()), key="N99999"))
    # when the genuine reading arrives on its own topic / then it is not taken for a duplicate
    assert isinstance(gate.check_bytes(payload(reading()), key="N14228"), Decoded)


def test_a_second_copy_of_an_accepted_reading_is_a_duplicate(gate: VehicleTopicGate) -> None:
    assert isinstance(gate.check_bytes(payload(reading()), key="N14228"), Decoded)
    assert dead(gate.check_bytes(payload(reading()), key="N14228")).reason == "duplicate"


def test_an_oversize_payload_is_dead_lettered_with_only_its_head_kept(gate: VehicleTopicGate) -> None:
    # given a payload far beyond the limit
    huge = b"x" * (10 * MAX_PAYLOAD_BYTES)
    # when it is checked
    letter = dead(gate.check_bytes(huge, key="N14228"))
    # then the dead letter says how big it was and keeps the first MAX_PAYLOAD_BYTES (so it fits Kafka)
    assert letter.reason == "oversize"
    assert str(len(huge)) in letter.detail
    assert base64.b64decode(letter.payload_b64) == huge[:MAX_PAYLOAD_BYTES]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"event_id": "iot:1", ', "invalid_json"),
        (payload(reading()).replace(b'"latitude":40.69', b'"latitude":NaN'), "non_finite_number"),
        (b"\xff\xfe not utf-8", "bad_encoding"),
        (payload(reading()).replace(b'"speed_kmh":812.5', b'"speed_kmh":-3'), "schema_violation"),
    ],
)
def test_the_stateless_checks_still_name_their_reason(gate: VehicleTopicGate, raw: bytes, reason: str) -> None:
    assert dead(gate.check_bytes(raw, key="N14228")).reason == reason


def test_a_reading_of_an_unknown_vehicle_is_an_unknown_entity() -> None:
    gate = VehicleTopicGate(
        SPEC, source="mqtt-bridge", known=KnownEntities(vehicles=frozenset({"N1"})), clock=lambda: NOW
    )
    letter = dead(gate.check_bytes(payload(reading()), key="N14228"))
    assert letter.reason == "unknown_entity"
    assert "N14228" in letter.detail


def test_a_reading_far_in_the_future_is_refused() -> None:
    gate = VehicleTopicGate(SPEC, source="mqtt-bridge", clock=lambda: NOW - timedelta(days=1))
    assert dead(gate.check_bytes(payload(reading()), key="N14228")).reason == "future_timestamp"


@pytest.mark.parametrize(
    "known",
    [
        KnownEntities(),
        KnownEntities(vehicles=frozenset({"N14228"})),
        KnownEntities(vehicles=frozenset({"N1"})),
        KnownEntities(facilities=frozenset({"EWR"}), carriers=frozenset({"UA"}), vehicles=frozenset({"N1"})),
    ],
)
def test_the_vehicle_only_entity_check_answers_like_the_general_one_for_telemetry(known: KnownEntities) -> None:
    for event in (reading(), reading(vehicle_id="N1")):
        assert VehicleEntities.of(known).unknown(event) == known.unknown(event)


def test_topic_mismatch_is_none_for_the_matching_vehicle() -> None:
    assert topic_mismatch(reading(), "N14228") is None
