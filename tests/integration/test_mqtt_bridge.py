"""IoT over MQTT against the real Mosquitto and Kafka: publisher → Mosquitto → bridge → Kafka.

Each test has its own MQTT topic prefix, bridge client id (persistent session) and Kafka topic
pair, so tests never see each other's messages. The fault test restarts the shared Mosquitto.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from paho.mqtt.client import Client

from chainwatch.schemas import DeadLetter, TopicSpec, VehicleTelemetry
from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES
from chainwatch.services import ServiceManager
from chainwatch.settings import MqttSettings, Settings
from streaming.mqtt import (
    BridgeOptions,
    BridgeStats,
    PublisherOptions,
    RatePacer,
    TelemetryBridge,
    TelemetryPublisher,
)
from streaming.mqtt.client import new_client
from streaming.mqtt.topics import telemetry_topic

pytestmark = pytest.mark.integration

#: Upper bound of any wait; tests go on as soon as the condition holds.
WAIT_S = 60.0
T0 = datetime(2013, 1, 15, 8, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------


def readings(count: int, *, vehicles: int = 7, first: int = 0) -> list[VehicleTelemetry]:
    """Distinct readings of a small fleet, in event-time order."""
    return [
        VehicleTelemetry(
            event_id=f"test:iot:{index}",
            source="synthetic:iot",
            event_time=T0 + timedelta(seconds=index),
            vehicle_id=f"N{100 + index % vehicles}",
            latitude=40.6 + index % 10 / 100,
            longitude=-73.7,
            altitude_m=9000.0,
            speed_kmh=780.0,
            heading_deg=float(index % 360),
            cargo_temperature_c=3.5,
        )
        for index in range(first, first + count)
    ]


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Wait for ``condition`` (checked every 20 ms) or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        pause.wait(0.02)


class TopicReader:
    """Reads a Kafka topic from the beginning, accumulating ``(key, value)`` pairs."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self.records: list[tuple[str | None, bytes]] = []
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": f"cw-test-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self._consumer.subscribe([topic])

    def read_until(self, condition: Callable[[list[tuple[str | None, bytes]]], bool], what: str) -> None:
        """Consume until ``condition(records)`` holds, or fail after :data:`WAIT_S`."""
        deadline = time.monotonic() + WAIT_S
        while not condition(self.records):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what} on {self.topic}; have {len(self.records)} records")
            for message in self._consumer.consume(1000, timeout=0.2):
                assert message.error() is None, message.error()
                key = message.key()
                self.records.append((key.decode() if key is not None else None, message.value() or b""))

    def event_ids(self) -> list[str]:
        return [json.loads(value)["event_id"] for _, value in self.records]

    def close(self) -> None:
        self._consumer.close()


def messages_in(settings: Settings, topic: str) -> int:
    """Messages ``topic`` holds now (sum of watermark spans), without consuming."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "cw-test-watermarks"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        spans = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions]
    finally:
        consumer.close()
    return sum(high - low for low, high in spans)


def publish_raw(mqtt: MqttSettings, messages: list[tuple[str, bytes]]) -> None:
    """Publish ``(topic, payload)`` pairs in order at QoS 1 and wait for every PUBACK."""
    client: Client = new_client(f"cw-test-raw-{uuid.uuid4().hex[:8]}")
    client.connect(mqtt.host, mqtt.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)
    finally:
        client.disconnect()
        client.loop_stop()


def purge_session(mqtt: MqttSettings, client_id: str) -> None:
    """End a persistent session so the broker does not keep it (clean start, no expiry)."""
    client: Client = new_client(client_id)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(mqtt.host, mqtt.port, clean_start=True)
    client.loop_start()
    try:
        connected.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def running(bridge: TelemetryBridge) -> Iterator[TelemetryBridge]:
    """Run ``bridge`` on a thread until the block ends; re-raise whatever stopped it."""
    stop = threading.Event()
    errors: list[Exception] = []

    def run() -> None:
        try:
            bridge.run(stop)
        except Exception as err:  # noqa: BLE001 - handed to the test thread
            errors.append(err)

    thread = threading.Thread(target=run, name="bridge", daemon=True)
    thread.start()
    try:
        wait_until(lambda: bridge.subscribed.is_set() or bool(errors), "the bridge's subscription")
        yield bridge
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive(), "the bridge did not stop"
    if errors:
        raise errors[0]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def kafka_admin(services_settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": services_settings.kafka.bootstrap_servers})


@pytest.fixture
def spec(kafka_admin: AdminClient, unique_name: str) -> Iterator[TopicSpec]:
    """A fresh telemetry topic and its dead-letter topic (auto-create is off), deleted afterwards."""
    names = {unique_name: 3, f"{unique_name}.dlq": 1}
    futures = kafka_admin.create_topics(
        [NewTopic(name, num_partitions=n, replication_factor=1) for name, n in names.items()]
    )
    for future in futures.values():
        future.result(WAIT_S)
    yield TopicSpec(unique_name, VehicleTelemetry, "vehicle_id")
    for future in kafka_admin.delete_topics(list(names)).values():
        future.result(WAIT_S)


@pytest.fixture
def mqtt(services_settings: Settings, unique_name: str) -> MqttSettings:
    """The broker's settings with a topic prefix of this test's own."""
    return services_settings.mqtt.model_copy(update={"topic_prefix": f"chainwatch-test/{unique_name}"})


@pytest.fixture
def options(mqtt: MqttSettings, unique_name: str) -> Iterator[BridgeOptions]:
    """Bridge options with this test's client id; its session is purged afterwards."""
    yield BridgeOptions(
        client_id=unique_name, session_expiry_s=600, reconnect_initial_s=0.2, reconnect_max_s=2.0, failure_pause_s=0.5
    )
    purge_session(mqtt, unique_name)


@pytest.fixture
def make_bridge(services_settings: Settings, mqtt: MqttSettings) -> Callable[..., TelemetryBridge]:
    def make(spec: TopicSpec, options: BridgeOptions) -> TelemetryBridge:
        return TelemetryBridge(mqtt, services_settings.kafka, spec=spec, options=options)

    return make


# --- tests ---------------------------------------------------------------------------------


def test_every_published_reading_reaches_kafka_once_keyed_by_vehicle(
    services_settings: Settings,
    spec: TopicSpec,
    mqtt: MqttSettings,
    options: BridgeOptions,
    make_bridge: Callable[..., TelemetryBridge],
) -> None:
    sent = readings(500)
    acked: list[str] = []
    reader = TopicReader(services_settings, spec.name)
    try:
        with running(make_bridge(spec, options)) as bridge:
            # given a running bridge / when the publisher sends 500 readings at QoS 1
            with TelemetryPublisher(
                mqtt, options=PublisherOptions(max_inflight=50), on_acked=acked.append
            ) as publisher:
                report = publisher.publish_all(sent)
            # then the broker acknowledged each one
            assert report.acked == len(sent)
            assert sorted(acked) == sorted(event.event_id for event in sent)
            # and the bridge acknowledged each MQTT message after Kafka confirmed it
            wait_until(lambda: bridge.stats.acked == len(sent), "the bridge's PUBACKs")
        stats: BridgeStats = bridge.stats
        # and Kafka holds every reading exactly once, unchanged, keyed by its vehicle
        reader.read_until(lambda records: len(records) >= len(sent), "all readings")
    finally:
        reader.close()
    assert sorted(reader.event_ids()) == sorted(event.event_id for event in sent)
    by_id = {event.event_id: event for event in sent}
    for key, value in reader.records:
        event = VehicleTelemetry.model_validate_json(value)
        assert event == by_id[event.event_id]
        assert key == event.vehicle_id
    assert messages_in(services_settings, spec.name) == len(sent)
    assert messages_in(services_settings, spec.dlq) == 0
    assert (stats.received, stats.forwarded, stats.dead_lettered, stats.kafka_failures) == (len(sent), len(sent), 0, 0)


def test_bad_input_lands_in_the_dead_letter_topic_and_the_good_readings_around_it_arrive(
    services_settings: Settings,
    spec: TopicSpec,
    mqtt: MqttSettings,
    options: BridgeOptions,
    make_bridge: Callable[..., TelemetryBridge],
) -> None:
    good = readings(6)
    on_own_topic = [(telemetry_topic(mqtt.topic_prefix, e.vehicle_id), e.model_dump_json().encode()) for e in good]
    nan = good[0].model_copy(update={"event_id": "test:iot:nan"}).model_dump_json().encode()
    nan = nan.replace(b'"latitude":40.6', b'"latitude":NaN')
    spoofed = readings(1, first=1000)[0]  # a reading of N106 published on N100's topic
    assert spoofed.vehicle_id != "N100"
    bad: dict[str, tuple[str, bytes]] = {
        "invalid_json": (telemetry_topic(mqtt.topic_prefix, "N100"), b'{"event_id": "test:iot:broken", '),
        "non_finite_number": (telemetry_topic(mqtt.topic_prefix, "N100"), nan),
        "schema_violation": (telemetry_topic(mqtt.topic_prefix, "N100"), spoofed.model_dump_json().encode()),
        "oversize": (telemetry_topic(mqtt.topic_prefix, "N100"), b"{" + b" " * (2 * MAX_PAYLOAD_BYTES) + b"}"),
        "bad_encoding": (telemetry_topic(mqtt.topic_prefix, "N100"), b"\xff\xfe\x00telemetry"),
    }
    # good, bad, good, bad, ... good
    interleaved: list[tuple[str, bytes]] = []
    for good_message, bad_message in zip(on_own_topic, [*bad.values(), None], strict=True):
        interleaved.append(good_message)
        if bad_message is not None:
            interleaved.append(bad_message)
    # and then the spoofed reading on its own vehicle's topic: it must not count as a duplicate
    genuine = (telemetry_topic(mqtt.topic_prefix, spoofed.vehicle_id), spoofed.model_dump_json().encode())
    reader = TopicReader(services_settings, spec.name)
    dlq = TopicReader(services_settings, spec.dlq)
    try:
        with running(make_bridge(spec, options)) as bridge:
            # when good and bad messages are published in one stream
            publish_raw(mqtt, [*interleaved, genuine])
            wait_until(lambda: bridge.stats.acked == len(interleaved) + 1, "every message acknowledged")
        # then each bad one is a dead letter with its reason, keyed by the topic's vehicle
        dlq.read_until(lambda records: len(records) >= len(bad), "the dead letters")
        reader.read_until(lambda records: len(records) >= len(good) + 1, "the good readings")
    finally:
        reader.close()
        dlq.close()
    letters: dict[str, DeadLetter] = {}
    for _, value in dlq.records:
        letter = DeadLetter.model_validate_json(value)
        letters[letter.reason] = letter
    assert sorted(letters) == sorted(bad)
    for reason, (_, payload) in bad.items():
        letter = letters[reason]
        assert letter.key == "N100"
        assert letter.topic == spec.name
        assert letter.source == "mqtt-bridge"
        kept = payload[:MAX_PAYLOAD_BYTES] if reason == "oversize" else payload
        assert base64.b64decode(letter.payload_b64) == kept
    assert "'N106'" in letters["schema_violation"].detail
    assert "'N100'" in letters["schema_violation"].detail
    # and every good reading arrived, the genuine one too (the spoofed copy did not claim its id)
    assert sorted(reader.event_ids()) == sorted([*(e.event_id for e in good), spoofed.event_id])
    assert messages_in(services_settings, spec.dlq) == len(bad)


def test_a_mosquitto_restart_loses_no_acknowledged_reading(
    services_settings: Settings,
    spec: TopicSpec,
    mqtt: MqttSettings,
    options: BridgeOptions,
    make_bridge: Callable[..., TelemetryBridge],
) -> None:
    sent = readings(3000, vehicles=25)
    acked: list[str] = []
    outcome: dict[str, Any] = {}
    manager = ServiceManager(services_settings)
    publisher = TelemetryPublisher(mqtt, options=PublisherOptions(max_inflight=100), on_acked=acked.append)

    def publish() -> None:
        try:
            outcome["report"] = publisher.publish_all(sent, pacer=RatePacer(1000), flush_timeout_s=WAIT_S)
        except Exception as err:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = err

    reader = TopicReader(services_settings, spec.name)
    try:
        with running(make_bridge(spec, options)) as bridge:
            publisher.connect()
            thread = threading.Thread(target=publish, name="publisher", daemon=True)
            thread.start()
            # given readings flowing at 1000/s
            wait_until(lambda: len(acked) >= 500, "the first 500 PUBACKs")
            # when Mosquitto is stopped and started again while the publisher publishes
            try:
                manager.down(["mosquitto"])
            finally:
                manager.up(["mosquitto"])
            thread.join(2 * WAIT_S)
            assert not thread.is_alive(), "the publisher did not finish"
            assert "error" not in outcome, outcome.get("error")
            # then both sides reconnected, the bridge to the session the broker kept
            assert outcome["report"].reconnects >= 1
            wait_until(lambda: bridge.stats.forwarded >= len(sent), "every reading forwarded")
            assert bridge.stats.reconnects >= 1
            assert bridge.stats.sessions_lost == 0
        reader.read_until(lambda records: len(records) >= len(sent), "every reading")
    finally:
        publisher.close()
        reader.close()
    # and every reading the broker PUBACKed is in Kafka (the publisher re-sent the rest, so all are)
    in_kafka = reader.event_ids()
    assert set(acked) <= set(in_kafka)
    assert set(in_kafka) == {event.event_id for event in sent}
    # and, deduplicated by the gate, each exactly once ...
    assert len(in_kafka) == len(set(in_kafka)) == messages_in(services_settings, spec.name)
    # ... while re-sent and redelivered copies (at least once, raw) became 'duplicate' dead letters
    stats = bridge.stats
    assert stats.received == stats.forwarded + stats.dead_lettered
    assert stats.dead_lettered == messages_in(services_settings, spec.dlq)
    if stats.dead_lettered:
        dlq = TopicReader(services_settings, spec.dlq)
        try:
            dlq.read_until(lambda records: len(records) >= stats.dead_lettered, "the duplicates")
        finally:
            dlq.close()
        assert {DeadLetter.model_validate_json(value).reason for _, value in dlq.records} == {"duplicate"}


def test_messages_kafka_did_not_confirm_are_not_acked_and_come_back_to_the_next_session(
    services_settings: Settings,
    spec: TopicSpec,
    mqtt: MqttSettings,
    options: BridgeOptions,
    make_bridge: Callable[..., TelemetryBridge],
    unique_name: str,
) -> None:
    sent = readings(20)
    # given a bridge whose Kafka deliveries fail: its topic does not exist, and it gives up after 1.5 s
    missing = TopicSpec(f"{unique_name}-missing", VehicleTelemetry, "vehicle_id")
    failing = BridgeOptions(
        client_id=options.client_id,
        session_expiry_s=options.session_expiry_s,
        failure_pause_s=WAIT_S,  # stay disconnected after the failure, so nothing else happens
        producer_config={"delivery.timeout.ms": 1500},
    )
    with running(make_bridge(missing, failing)) as doomed:
        # when readings arrive and every delivery fails
        with TelemetryPublisher(mqtt) as publisher:
            publisher.publish_all(sent)
        wait_until(lambda: doomed.stats.kafka_failures == len(sent), "the failed deliveries")
        # then none of them was acknowledged to the broker
        assert doomed.stats.received == len(sent)
        assert doomed.stats.acked == 0
    assert doomed.stats.acked == 0
    # when a new bridge resumes the same session with a working topic
    reader = TopicReader(services_settings, spec.name)
    try:
        with running(make_bridge(spec, options)) as resumed:
            # then the broker redelivers every unacknowledged reading and they reach Kafka
            wait_until(lambda: resumed.stats.acked == len(sent), "the redelivered readings acknowledged")
        reader.read_until(lambda records: len(records) >= len(sent), "the redelivered readings")
    finally:
        reader.close()
    assert sorted(reader.event_ids()) == sorted(event.event_id for event in sent)
    assert resumed.stats.received == len(sent)
    assert resumed.stats.forwarded == len(sent)


def test_a_stop_flushes_kafka_and_acknowledges_what_it_confirmed(
    services_settings: Settings,
    spec: TopicSpec,
    mqtt: MqttSettings,
    options: BridgeOptions,
    make_bridge: Callable[..., TelemetryBridge],
) -> None:
    sent = readings(30)
    # given a bridge whose Kafka batches wait a second before they are sent
    slow = BridgeOptions(
        client_id=options.client_id, session_expiry_s=options.session_expiry_s, producer_config={"linger.ms": 1000}
    )
    with running(make_bridge(spec, slow)) as first:
        with TelemetryPublisher(mqtt) as publisher:
            publisher.publish_all(sent)
        wait_until(lambda: first.stats.received == len(sent), "the readings received")
        # when it is stopped while those deliveries are still pending
    # then the stop waited for Kafka and acknowledged every reading
    assert (first.stats.forwarded, first.stats.acked) == (len(sent), len(sent))
    # and the next session gets nothing back: a sentinel published now is the first thing it receives
    sentinel = readings(1, first=500)[0]
    with running(make_bridge(spec, options)) as second:
        with TelemetryPublisher(mqtt) as publisher:
            publisher.publish_all([sentinel])
        wait_until(lambda: second.stats.acked == 1, "the sentinel")
    assert second.stats.received == 1
    assert messages_in(services_settings, spec.name) == len(sent) + 1
