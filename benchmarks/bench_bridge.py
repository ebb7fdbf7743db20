"""IoT ingestion benchmark: telemetry over real Mosquitto, through the bridge, into real Kafka.

``ingest.bridge_msgs_per_s``: M telemetry messages are published at QoS 1 to the local
Mosquitto by a publisher process while the bridge (in this process) forwards them to a fresh
Kafka topic. The rate is M divided by the time from the first publish to the moment Kafka had
confirmed the M-th delivery. The run counts only if the publisher got M PUBACKs and a consumer
then reads exactly M messages with M distinct event ids from the topic (zero loss, zero
duplicates) with the dead-letter topic empty; otherwise it raises. Needs the services profile
(``deploy/local/with-env.sh``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from queue import Empty
from typing import Any

from benchmarks.harness import Benchmark
from chainwatch.schemas import TopicSpec, VehicleTelemetry
from chainwatch.settings import MqttSettings, Settings, load_settings

#: Messages per run.
COUNT = 100_000
#: Publisher processes (one MQTT connection each). The machine has two cores: one publisher
#: and the bridge already use them.
PUBLISHERS = 1
#: Vehicles the readings are spread over (one MQTT topic each).
VEHICLES = 500
TIMEOUT_S = 300.0


def telemetry(count: int, *, offset: int = 0, stride: int = 1) -> list[VehicleTelemetry]:
    """Readings ``offset, offset + stride, ...`` below ``count`` of a deterministic fleet."""
    start = datetime(2013, 1, 1, tzinfo=UTC)
    return [
        VehicleTelemetry(
            event_id=f"bench:iot:{index}",
            source="synthetic:iot",
            event_time=start + timedelta(milliseconds=index),
            vehicle_id=f"N{index % VEHICLES:04d}",
            latitude=40.6 + (index % 100) / 1000,
            longitude=-73.8 - (index % 100) / 1000,
            altitude_m=10_000.0,
            speed_kmh=820.0,
            heading_deg=float(index % 360),
            cargo_temperature_c=4.0,
            cargo_humidity_pct=55.0,
        )
        for index in range(offset, count, stride)
    ]


@dataclass(frozen=True)
class PublisherJob:
    """What one publisher process sends: readings ``offset, offset + stride, ...`` below ``count``."""

    mqtt: dict[str, Any]
    count: int
    offset: int
    stride: int


@dataclass(frozen=True)
class PublisherResult:
    """When a publisher started and finished (monotonic, shared by processes on Linux), and its CPU."""

    started: float
    finished: float
    acked: int
    cpu_s: float


def _publish_process(job: PublisherJob, ready: ProcessEvent, go: ProcessEvent, out: Any) -> None:
    """One publisher: build its readings, report ready, publish on ``go``, report the result."""
    from streaming.mqtt import PublisherOptions, TelemetryPublisher

    events = telemetry(job.count, offset=job.offset, stride=job.stride)
    with TelemetryPublisher(MqttSettings(**job.mqtt), options=PublisherOptions(max_inflight=2000)) as publisher:
        ready.set()
        go.wait()
        started, cpu = time.monotonic(), os.times()
        report = publisher.publish_all(events, flush_timeout_s=TIMEOUT_S)
        used = os.times()
        out.put(
            PublisherResult(started, time.monotonic(), report.acked, used.user + used.system - cpu.user - cpu.system)
        )


def _create_topics(settings: Settings, names: dict[str, int]) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    topics = [NewTopic(name, num_partitions=partitions, replication_factor=1) for name, partitions in names.items()]
    for future in admin.create_topics(topics).values():
        future.result(30)


def _delete_topics(settings: Settings, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for future in admin.delete_topics(names).values():
        future.result(30)


def _messages_in(settings: Settings, topic: str) -> int:
    """How many messages ``topic`` holds (sum of its partitions' watermark spans)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": "bench-watermarks"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        spans = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30) for p in partitions]
    finally:
        consumer.close()
    return sum(high - low for low, high in spans)


def _distinct_event_ids(settings: Settings, topic: str, expected: int) -> tuple[int, int]:
    """``(messages, distinct event ids)`` read from ``topic`` by a fresh consumer group."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    raw, ids = 0, set()
    deadline = time.monotonic() + 120
    try:
        while raw < expected and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=0.5):
                if message.error() is None:
                    raw += 1
                    ids.add(json.loads(message.value() or b"{}")["event_id"])
    finally:
        consumer.close()
    return raw, len(ids)


def _purge_session(mqtt: MqttSettings, client_id: str) -> None:
    """End the bridge's persistent session (clean start, no expiry)."""
    from streaming.mqtt.client import new_client

    client = new_client(client_id)
    client.connect(mqtt.host, mqtt.port, clean_start=True)
    client.loop(1.0)
    client.disconnect()


def _start_publishers(
    mqtt: MqttSettings, count: int, publishers: int, go: ProcessEvent, out: Any
) -> list[SpawnProcess]:
    """Start the publisher processes and wait until each has built its readings."""
    context = multiprocessing.get_context("spawn")
    processes, readies = [], []
    for index in range(publishers):
        ready = context.Event()
        job = PublisherJob(mqtt.model_dump(), count, index, publishers)
        process = context.Process(target=_publish_process, args=(job, ready, go, out), daemon=True)
        process.start()
        processes.append(process)
        readies.append(ready)
    if not all(ready.wait(120) for ready in readies):
        msg = "a publisher process did not get ready"
        raise RuntimeError(msg)
    return processes


def bridge_msgs_per_s(count: int = COUNT, publishers: int = PUBLISHERS) -> float:
    """End-to-end MQTT → bridge → Kafka messages per second; raises on any loss or duplicate."""
    from streaming.mqtt import BridgeOptions, TelemetryBridge

    settings = load_settings()
    name = f"bench-bridge-{uuid.uuid4().hex[:10]}"
    _create_topics(settings, {name: 6, f"{name}.dlq": 1})
    mqtt = settings.mqtt.model_copy(update={"topic_prefix": f"chainwatch-bench/{name}"})
    bridge = TelemetryBridge(
        mqtt,
        settings.kafka,
        spec=TopicSpec(name, VehicleTelemetry, "vehicle_id"),
        options=BridgeOptions(client_id=name, session_expiry_s=600),
    )
    stop = threading.Event()
    runner = threading.Thread(target=bridge.run, args=(stop,), name="bridge")
    runner.start()
    context = multiprocessing.get_context("spawn")
    out, go = context.Queue(), context.Event()
    processes: list[SpawnProcess] = []
    try:
        if not bridge.subscribed.wait(30):
            msg = "the bridge did not subscribe"
            raise RuntimeError(msg)
        processes = _start_publishers(mqtt, count, publishers, go, out)
        cpu_before = time.process_time()
        go.set()
        deadline = time.monotonic() + TIMEOUT_S
        while bridge.stats.forwarded < count and time.monotonic() < deadline:
            time.sleep(0.002)  # measurement polling: 2 ms resolution on a run of seconds
        finished = time.monotonic()
        bridge_cpu = time.process_time() - cpu_before
        results: list[PublisherResult] = [out.get(timeout=TIMEOUT_S) for _ in processes]
    except Empty as err:
        msg = "a publisher process did not finish"
        raise RuntimeError(msg) from err
    finally:
        stop.set()
        runner.join()
        for process in processes:
            process.join(10)
    first_publish = min(result.started for result in results)
    acked = sum(result.acked for result in results)
    raw, distinct = _distinct_event_ids(settings, name, count)
    dead = _messages_in(settings, f"{name}.dlq")
    _delete_topics(settings, [name, f"{name}.dlq"])
    _purge_session(mqtt, name)
    elapsed = finished - first_publish
    print(
        f"{count} messages: published and PUBACKed in {max(r.finished for r in results) - first_publish:.2f}s "
        f"by {publishers} process(es) using {sum(r.cpu_s for r in results):.1f}s CPU; "
        f"last Kafka delivery after {elapsed:.2f}s, bridge process CPU {bridge_cpu:.1f}s; {bridge.stats}; "
        f"Kafka holds {raw} messages with {distinct} distinct event ids, {dead} dead letters"
    )
    if not acked == bridge.stats.forwarded == raw == distinct == count or dead:
        msg = f"loss or duplicates: {acked=} forwarded={bridge.stats.forwarded} {raw=} {distinct=} {dead=} of {count}"
        raise RuntimeError(msg)
    return count / elapsed


BENCHMARKS = [
    Benchmark(
        "ingest.bridge_msgs_per_s",
        ">= 10000",
        "msgs/s",
        bridge_msgs_per_s,
        "make up && deploy/local/with-env.sh .venv/bin/python -m benchmarks.run ingest.bridge_msgs_per_s",
    ),
]
