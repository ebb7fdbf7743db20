"""In-process sources: feed a Bytewax dataflow straight from a source, no Kafka in between.

The local profile runs the same dataflows as the services profile; only the input differs.
Both deliver :class:`~bytewax.connectors.kafka.KafkaSourceMessage` items (key, value bytes and
topic), exactly what Bytewax's Kafka source yields, so the dataflow's decode step (and its
dead-letter branch) is exercised identically.

:class:`RecordSource` is a one-partition, resumable Bytewax source over a deterministic record
sequence; its resume state is the number of records already emitted, so a recovered dataflow
continues from its last snapshot exactly as it would from a committed Kafka offset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from streaming.replay import Record

#: What every source of a dataflow yields, in-process or from Kafka.
Message = KafkaSourceMessage[bytes | None, bytes]


class _RecordPartition(StatefulSourcePartition[Message, int]):
    def __init__(
        self, records: Iterator[Record], position: int, topics: frozenset[str] | None, batch: int, speed: float | None
    ) -> None:
        self._records = records
        self._position = position
        self._topics = topics
        self._batch = batch
        self._speed = speed
        self._peeked: Record | None = None
        #: Pacing: (monotonic seconds, event time) of the first record of this run.
        self._anchor: tuple[float, datetime] | None = None
        self._awake: datetime | None = None

    def next_batch(self) -> list[Message]:
        batch: list[Message] = []
        self._awake = None
        for _ in range(self._batch):
            record = self._next()
            if record is None:
                break
            if not self._due(record):
                self._peeked = record
                break
            self._position += 1
            if self._topics is None or record.topic in self._topics:
                batch.append(KafkaSourceMessage(record.key.encode(), record.payload, topic=record.topic))
        if not batch and self._peeked is None and self._exhausted():
            raise StopIteration
        return batch

    def next_awake(self) -> datetime | None:
        """When a paced replay has its next record due (``None``: at once)."""
        return self._awake

    def _next(self) -> Record | None:
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            return record
        return next(self._records, None)

    def _due(self, record: Record) -> bool:
        if self._speed is None:
            return True
        now = time.monotonic()
        if self._anchor is None:
            self._anchor = (now, record.event_time)
        started, origin = self._anchor
        wait_s = (record.event_time - origin).total_seconds() / self._speed - (now - started)
        if wait_s <= 0:
            return True
        self._awake = datetime.now(UTC) + timedelta(seconds=min(wait_s, 0.1))
        return False

    def _exhausted(self) -> bool:
        peeked = next(self._records, None)
        if peeked is None:
            return True
        self._peeked = peeked
        return False

    def snapshot(self) -> int:
        return self._position


class RecordSource(FixedPartitionedSource[Message, int]):
    """A resumable Bytewax source over a deterministic sequence of records.

    Args:
        records: Builds the record sequence from a position (called on every (re)start).
        topics: Only records of these topics are emitted (the others still advance the position).
        batch: Records read per batch.
        speed: Pace the records by event time: event-time seconds per wall second, counted from
            the first record of each (re)start (``None``: as fast as possible).
    """

    def __init__(
        self,
        records: Callable[[int], Iterable[Record]],
        *,
        topics: Iterable[str] | None = None,
        batch: int = 1_000,
        speed: float | None = None,
    ) -> None:
        if speed is not None and speed <= 0:
            msg = f"speed must be positive, got {speed}"
            raise ValueError(msg)
        self._records = records
        self._topics = frozenset(topics) if topics is not None else None
        self._batch = batch
        self._speed = speed

    def list_parts(self) -> list[str]:
        """One partition: the sequence is ordered and read once."""
        return ["records"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _RecordPartition:
        """Start at ``resume_state`` (records already emitted), or at 0."""
        position = resume_state or 0
        return _RecordPartition(iter(self._records(position)), position, self._topics, self._batch, self._speed)
