"""Feature store benchmarks: online writes into local Redis, ours against Feast's own writer.

Rows are ``facility_ops``-shaped, 2,000 entities, one row per entity per hour (as the
dataflows emit them), written in batches of one hour. Each run applies the repository into a
fresh Feast project and deletes that project's keys afterwards. Needs the services profile
(``deploy/local/with-env.sh``).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.harness import Benchmark
from chainwatch.settings import load_settings
from streaming.features.offline import frame_of, normalise_rows
from streaming.features.online import RedisOnlineWriter
from streaming.features.schema import VIEWS
from streaming.features.store import apply, feature_store

ENTITIES = 2_000


def facility_ops_rows(count: int, entities: int = ENTITIES, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` facility_ops rows over ``entities`` keys, hour by hour."""
    spec, rng = VIEWS["facility_ops"], random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    start = datetime(2013, 1, 1, 1, tzinfo=UTC)
    rows = []
    for index in range(count):
        row: dict[str, Any] = {"facility_id": f"F{index % entities:04d}", "event_timestamp": start}
        row["event_timestamp"] = start + timedelta(hours=index // entities)
        for column, kind in spec.columns.items():
            row[column] = rng.randint(0, 60) if kind == "int" else rng.random()
        rows.append(row)
    return rows


def _timed(write: Callable[[Sequence[dict[str, Any]]], Any], rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for offset in range(0, len(rows), ENTITIES):
        write(rows[offset : offset + ENTITIES])
    return len(rows) / (time.perf_counter() - started)


def _with_store(measure: Callable[[Any, Any], float]) -> float:
    import redis

    settings = load_settings()
    project = f"cw_bench_{uuid.uuid4().hex[:8]}"
    store = apply(settings, feature_store(settings, project=project))
    try:
        return measure(settings, store)
    finally:
        client = redis.Redis(host=settings.redis.host, port=settings.redis.port, db=settings.redis.db)
        for key in client.scan_iter(match=b"*" + project.encode(), count=10_000):
            client.unlink(key)
        store.registry.delete_project(project, commit=True)


def online_push_rows_per_s(count: int = 200_000) -> float:
    """Rows/s of :class:`RedisOnlineWriter` (newest-timestamp-wins, Lua) into local Redis."""
    rows = facility_ops_rows(count)

    def measure(settings: Any, store: Any) -> float:
        writer = RedisOnlineWriter(settings, store)  # one per process, as a dataflow sink holds it
        return _timed(lambda batch: writer.write("facility_ops", batch), rows)

    return _with_store(measure)


def online_push_feast_rows_per_s(count: int = 50_000) -> float:
    """Rows/s of Feast's own ``write_to_online_store`` (frame building included) into local Redis."""
    spec, rows = VIEWS["facility_ops"], facility_ops_rows(count)

    def write(store: Any, batch: Sequence[dict[str, Any]]) -> None:
        store.write_to_online_store("facility_ops", df=frame_of(spec, normalise_rows(spec, batch)))

    return _with_store(lambda _settings, store: _timed(lambda b: write(store, b), rows))


BENCHMARKS = [
    Benchmark(
        "features.online_push_rows_per_s",
        ">= 50000",
        "rows/s",
        online_push_rows_per_s,
        "deploy/local/with-env.sh .venv/bin/python -m benchmarks.run features.online_push",
    ),
    Benchmark(
        "features.online_push_feast_rows_per_s",
        "-",
        "rows/s",
        online_push_feast_rows_per_s,
        "deploy/local/with-env.sh .venv/bin/python -m benchmarks.run features.online_push",
    ),
]
