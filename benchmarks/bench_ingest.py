"""Ingestion benchmarks against the real local Kafka (run ``make up`` first).

``ingest.replay_events_per_s``: the whole 2013 replay (shipment events and weather, ~1.03M
events) produced from one Python process into fresh topics with the project's idempotent,
``acks=all`` producer; the clock runs from the first produce to the last acknowledgement, and
the run fails unless every event was acknowledged. Building the replay table is timed
separately as ``ingest.replay_build_s``.
"""

from __future__ import annotations

import time
import uuid
from functools import cache

import pandas as pd

from benchmarks.harness import Benchmark
from chainwatch.datasets import load_nycflights
from chainwatch.settings import load_settings
from streaming.kafka.producer import EventProducer
from streaming.replay import ReplayConfig, build_replay
from streaming.replay_producer import produce_replay


@cache
def _table() -> tuple[pd.DataFrame, float]:
    dataset = load_nycflights()
    started = time.perf_counter()
    table = build_replay(dataset, ReplayConfig())
    return table, time.perf_counter() - started


def replay_build_s() -> float:
    """Seconds to build the full-year replay table from the loaded dataset."""
    return _table()[1]


def replay_events_per_s() -> float:
    """Events per second produced and acknowledged, whole 2013 replay, one process."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    settings = load_settings()
    table, _ = _table()
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"bench-{suffix}-{name}" for name in table["topic"].unique()}
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for future in admin.create_topics(
        [NewTopic(t, num_partitions=6, replication_factor=1) for t in topics.values()]
    ).values():
        future.result(timeout=30)
    table = table.assign(topic=table["topic"].map(topics))
    producer = EventProducer(settings.kafka, client_id="bench-replay")
    try:
        started = time.perf_counter()
        progress = produce_replay(table, producer)
        elapsed = time.perf_counter() - started
    finally:
        for future in admin.delete_topics(list(topics.values())).values():
            future.result(timeout=60)
    if progress.position != len(table) or producer.report.delivered != len(table):
        msg = f"only {producer.report.delivered} of {len(table)} events acknowledged"
        raise RuntimeError(msg)
    return len(table) / elapsed


COMMAND = "make up && deploy/local/with-env.sh .venv/bin/python -m benchmarks.run ingest.replay"
BENCHMARKS = [
    Benchmark("ingest.replay_build_s", "-", "s", replay_build_s, COMMAND),
    Benchmark("ingest.replay_events_per_s", ">= 100000", "events/s", replay_events_per_s, COMMAND),
]
