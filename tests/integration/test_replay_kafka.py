"""The replay against real Kafka: every event acknowledged and delivered exactly once, even
when the broker restarts in the middle."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from chainwatch.datasets import FlightsDataset, load_nycflights
from chainwatch.services.manager import ServiceManager
from chainwatch.settings import Settings
from streaming.kafka.producer import EventProducer
from streaming.replay import SHIPMENTS_TOPIC, WEATHER_TOPIC, ReplayConfig, build_replay
from streaming.replay_producer import ReplayProgress, produce_replay
from tests.integration.kafka_helpers import consume, create_topics, delete_topics


@pytest.fixture(scope="module")
def dataset() -> FlightsDataset:
    return load_nycflights()


@pytest.fixture
def topics(services_settings: Settings, unique_name: str) -> Iterator[dict[str, str]]:
    mapping = {SHIPMENTS_TOPIC: f"{unique_name}-shipments", WEATHER_TOPIC: f"{unique_name}-weather"}
    create_topics(services_settings, mapping.values(), partitions=6)
    yield mapping
    delete_topics(services_settings, mapping.values())


def window(dataset: FlightsDataset, topics: dict[str, str], start: str, end: str) -> pd.DataFrame:
    table = build_replay(
        dataset,
        ReplayConfig(
            start=datetime.fromisoformat(start).replace(tzinfo=UTC), end=datetime.fromisoformat(end).replace(tzinfo=UTC)
        ),
    )
    return table.assign(topic=table["topic"].map(topics))


def event_ids(messages: list[tuple[bytes | None, bytes]]) -> list[str]:
    return [json.loads(value)["event_id"] for _, value in messages]


def test_a_replay_delivers_every_event_once_keyed_by_entity(
    services_settings: Settings, dataset: FlightsDataset, topics: dict[str, str]
) -> None:
    table = window(dataset, topics, "2013-02-08", "2013-02-09")
    producer = EventProducer(services_settings.kafka, client_id="test-replay")

    progress = produce_replay(table, producer, chunk=1_000)

    assert progress.position == len(table)
    assert producer.report.delivered == len(table)
    for topic in topics.values():
        expected = table[table["topic"] == topic]
        received = consume(services_settings, topic, len(expected))
        assert sorted(event_ids(received)) == sorted(json.loads(p)["event_id"] for p in expected["payload"])
        assert all(
            key is not None
            and key.decode() == json.loads(value).get("shipment_id", json.loads(value).get("facility_id"))
            for key, value in received
        )


def test_a_broker_restart_mid_replay_loses_and_duplicates_nothing(
    services_settings: Settings, dataset: FlightsDataset, topics: dict[str, str]
) -> None:
    table = window(dataset, topics, "2013-02-07", "2013-02-11")
    producer = EventProducer(services_settings.kafka, client_id="test-replay-restart")
    manager = ServiceManager(services_settings)
    third = threading.Event()
    position = [0]
    errors: list[BaseException] = []
    # Four days of 2013 paced over ~24 s, so the broker restart lands mid-replay.
    speed = 4 * 86_400 / 24

    def on_progress(progress: ReplayProgress) -> None:
        position[0] = progress.position
        if progress.position >= len(table) // 3:
            third.set()

    def replay() -> None:
        try:
            produce_replay(table, producer, chunk=500, speed=speed, on_progress=on_progress)
        except BaseException as err:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(err)

    worker = threading.Thread(target=replay)
    worker.start()
    assert third.wait(timeout=60), "the replay never got a third of the way"
    manager.down(["kafka"])
    stopped_at = position[0]
    manager.up(["kafka"])
    worker.join(timeout=300)

    assert stopped_at < len(table), "the replay finished before the broker went down"
    assert not worker.is_alive()
    assert errors == []
    assert producer.report.delivered == len(table)
    assert producer.report.failed == 0
    received = consume(
        services_settings, topics[SHIPMENTS_TOPIC], int((table["topic"] == topics[SHIPMENTS_TOPIC]).sum())
    )
    ids = event_ids(received)
    assert len(ids) == len(set(ids)), "duplicates after the restart"
    assert set(ids) == {
        json.loads(p)["event_id"] for p in table.loc[table["topic"] == topics[SHIPMENTS_TOPIC], "payload"]
    }
