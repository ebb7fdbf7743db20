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

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from streaming.replay import Record

#: What every source of a dataflow yields, in-process or from Kafka.
Message = KafkaSourceMessage[bytes | None, bytes]


class _RecordPartition(StatefulSourcePartition[Message, int]):
    def __init__(self, records: Iterator[Record], position: int, topics: frozenset[str] | None, batch: int) -> None:
        self._records = records
        self._position = position
        self._topics = topics
        self._batch = batch

    def next_batch(self) -> list[Message]:
        batch: list[Message] = []
        for record in islice(self._records, self._batch):
            self._position += 1
            if self._topics is None or record.topic in self._topics:
                batch.append(KafkaSourceMessage(record.key.encode(), record.payload, topic=record.topic))
        if not batch and self._exhausted():
            raise StopIteration
        return batch

    def _exhausted(self) -> bool:
        peeked = next(self._records, None)
        if peeked is None:
            return True
        self._records = _prepend(peeked, self._records)
        return False

    def snapshot(self) -> int:
        return self._position


def _prepend(first: Record, rest: Iterator[Record]) -> Iterator[Record]:
    yield first
    yield from rest


class RecordSource(FixedPartitionedSource[Message, int]):
    """A resumable Bytewax source over a deterministic sequence of records.

    Args:
        records: Builds the record sequence from a position (called on every (re)start).
        topics: Only records of these topics are emitted (the others still advance the position).
        batch: Records read per batch.
    """

    def __init__(
        self,
        records: Callable[[int], Iterable[Record]],
        *,
        topics: Iterable[str] | None = None,
        batch: int = 1_000,
    ) -> None:
        self._records = records
        self._topics = frozenset(topics) if topics is not None else None
        self._batch = batch

    def list_parts(self) -> list[str]:
        """One partition: the sequence is ordered and read once."""
        return ["records"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _RecordPartition:
        """Start at ``resume_state`` (records already emitted), or at 0."""
        position = resume_state or 0
        return _RecordPartition(iter(self._records(position)), position, self._topics, self._batch)
