"""Produce a replay table into Kafka at a chosen speed, every event acknowledged, resumable.

Pacing maps event time to wall time: at ``speed`` S, one second of wall time carries S seconds
of event time (3600 = an hour of 2013 per second); ``speed=None`` goes as fast as the broker
takes it. Progress is checkpointed after each acknowledged chunk as the position of the next
record of the deterministic replay order, so ``resume`` continues exactly where the last
acknowledged chunk ended: no event is skipped and none is sent twice by the replay itself.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

logger = logging.getLogger(__name__)

#: Records handed to the producer between flushes (and checkpoints).
DEFAULT_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """Where a replay is: records acknowledged so far and the event time reached."""

    position: int
    total: int
    event_time: str | None


class BatchSink(Protocol):
    """What the replay needs of a producer (:class:`~streaming.kafka.producer.EventProducer`)."""

    def send_many(self, topic: str, records: list[tuple[bytes | str | None, bytes]]) -> None:
        """Produce ``(key, payload)`` records to ``topic``."""

    def flush(self, timeout_s: float = 60.0) -> Any:
        """Return once all are acknowledged; raise if any failed."""


class Checkpoint:
    """The position of the next record to produce, kept in a small JSON file."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint

    def load(self) -> int:
        """The saved position, or 0 when there is none or it belongs to another replay."""
        if not self.path.exists():
            return 0
        state = json.loads(self.path.read_text(encoding="utf-8"))
        if state.get("fingerprint") != self.fingerprint:
            logger.warning("checkpoint %s is for another replay; starting from the beginning", self.path)
            return 0
        return int(state["position"])

    def save(self, position: int, event_time: str | None) -> None:
        """Atomically record ``position`` (the next record to send)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        state = {"fingerprint": self.fingerprint, "position": position, "event_time": event_time}
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(self.path)


def fingerprint(table: pd.DataFrame) -> str:
    """Identifies a replay table: its length and first and last event times."""
    if table.empty:
        return "empty"
    return f"{len(table)}:{table['event_time'].iloc[0].isoformat()}:{table['event_time'].iloc[-1].isoformat()}"


def produce_replay(
    table: pd.DataFrame,
    producer: BatchSink,
    *,
    speed: float | None = None,
    checkpoint: Checkpoint | None = None,
    chunk: int = DEFAULT_CHUNK,
    on_progress: Callable[[ReplayProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReplayProgress:
    """Produce ``table``'s records from the checkpoint on, flushing and checkpointing per chunk.

    Args:
        table: A replay table (see :func:`streaming.replay.build_replay`).
        producer: The Kafka producer; every record must be acknowledged.
        speed: Event-time seconds per wall second; ``None`` for as fast as possible.
        checkpoint: Where progress is saved and resumed from.
        chunk: Records per flush; with ``speed`` set, chunks are also cut at one wall second.
        on_progress: Called after every acknowledged chunk.
        sleep: Sleep function (tests pass a fake one).
        clock: Monotonic clock paired with ``sleep``.

    Returns:
        The final progress.

    Raises:
        DeliveryError: Some record was not acknowledged; the checkpoint still points before it.
    """
    position = checkpoint.load() if checkpoint else 0
    total = len(table)
    times_ns = table["event_time"].array.asi8 if total else None
    topics = table["topic"].to_numpy()
    keys = table["key"].to_numpy()
    payloads = table["payload"].to_numpy()
    started_wall = clock()
    origin_ns = int(times_ns[position]) if times_ns is not None and position < total else 0
    progress = ReplayProgress(position, total, None)
    while position < total:
        end = min(position + chunk, total)
        if speed is not None and times_ns is not None:
            # Cut the chunk at one wall second of event time, then wait for its moment.
            horizon = int(times_ns[position]) + int(speed * 1e9)
            end = min(end, max(position + 1, int(times_ns[position:end].searchsorted(horizon)) + position))
            due = started_wall + (int(times_ns[position]) - origin_ns) / 1e9 / speed
            wait = due - clock()
            if wait > 0:
                sleep(wait)
        _send_chunk(producer, topics[position:end], keys[position:end], payloads[position:end])
        producer.flush()
        position = end
        last_time = table["event_time"].iloc[end - 1].isoformat()
        progress = ReplayProgress(position, total, last_time)
        if checkpoint:
            checkpoint.save(position, last_time)
        if on_progress:
            on_progress(progress)
    return progress


def _send_chunk(producer: BatchSink, topics: object, keys: object, payloads: object) -> None:
    by_topic: dict[str, list[tuple[bytes | str | None, bytes]]] = {}
    for topic, key, payload in zip(topics, keys, payloads, strict=True):  # type: ignore[call-overload]
        by_topic.setdefault(topic, []).append((key, payload.encode() if isinstance(payload, str) else payload))
    for topic, records in by_topic.items():
        producer.send_many(topic, records)
