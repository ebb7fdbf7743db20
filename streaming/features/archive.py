"""The raw archive: every topic's messages as they arrived, in parquet on S3 (or the local lake).

Layout (Hive-style partitions, readable by pyarrow, DuckDB, Spark and Athena)::

    <root>/raw/topic=<topic>/date=<yyyy-mm-dd>/part-<worker>-<seq>.parquet

with columns ``key`` (binary, nullable), ``value`` (binary: the bytes exactly as received),
``event_time`` (timestamp UTC), ``topic``, ``partition`` and ``offset`` (nullable: in-process
sources have none). ``date`` is the event time's UTC day. ``event_time`` is read cheaply from
the payload's ``"event_time"`` field with a regular expression (no JSON decode, no validation:
the archive keeps bad input too); without one it is the Kafka message timestamp, then the time
of archiving.

``<root>`` is ``s3://<settings.s3.lake_bucket>`` in the services profile (s3fs with
``settings.s3.storage_options()``) and ``settings.lake_dir`` in the local profile.

Each worker buffers messages and writes one file per (topic, date) when ``max_rows`` are held
or the oldest is ``max_age_s`` old (checked as messages arrive), and at shutdown. ``seq`` is the
wall clock in milliseconds, bumped to stay increasing, so a restarted worker never overwrites an
earlier file. After a crash the archive is at-least-once (Bytewax replays from its snapshot):
de-duplicate on ``(topic, partition, offset)`` when reading.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import fsspec  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.parquet as pq
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from prometheus_client import Counter

from chainwatch.settings import Profile, Settings
from streaming.sources import Message

logger = logging.getLogger(__name__)

ARCHIVED = Counter("chainwatch_archive_messages_total", "Raw messages written to the archive, by topic.", ["topic"])

SCHEMA = pa.schema(
    [
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary(), nullable=False),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("topic", pa.string(), nullable=False),
        pa.field("partition", pa.int32()),
        pa.field("offset", pa.int64()),
    ]
)
_EVENT_TIME = re.compile(rb'"event_time"\s*:\s*"([^"]{10,40})"')
Clock = Callable[[], float]


def event_time_of(message: Message, *, now: Clock = time.time) -> datetime:
    """The message's event time: the payload's ``event_time``, else its Kafka timestamp, else now."""
    found = _EVENT_TIME.search(message.value[:4096]) if message.value else None
    if found is not None:
        try:
            stamp = datetime.fromisoformat(found.group(1).decode("ascii").replace("Z", "+00:00"))
        except (ValueError, UnicodeDecodeError):
            pass
        else:
            return stamp.astimezone(UTC) if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    if message.timestamp is not None and message.timestamp[1] > 0:
        return datetime.fromtimestamp(message.timestamp[1] / 1000, tz=UTC)
    return datetime.fromtimestamp(now(), tz=UTC)


def archive_location(settings: Settings) -> tuple[Any, str]:
    """``(fsspec filesystem, root path)`` of the profile's archive."""
    if settings.profile is Profile.SERVICES:
        filesystem = fsspec.filesystem("s3", **settings.s3.storage_options())
        return filesystem, settings.s3.lake_bucket
    return fsspec.filesystem("file"), str(settings.lake_dir.resolve())


def part_path(root: str, topic: str, day: str, worker: int, seq: int) -> str:
    """The path of one archive file."""
    return f"{root}/raw/topic={topic}/date={day}/part-{worker:03d}-{seq:016d}.parquet"


class _ArchivePartition(StatelessSinkPartition[Message]):
    def __init__(self, sink: RawArchiveSink, worker: int) -> None:
        self._sink = sink
        self._worker = worker
        self._filesystem, self._root = sink.location()
        self._held: dict[tuple[str, str], list[tuple[Message, datetime]]] = defaultdict(list)
        self._count = 0
        self._oldest = 0.0
        self._seq = 0

    def write_batch(self, items: list[Message]) -> None:
        if items and not self._count:
            self._oldest = self._sink.clock()
        for message in items:
            stamp = event_time_of(message, now=self._sink.clock)
            self._held[(message.topic or "unknown", stamp.strftime("%Y-%m-%d"))].append((message, stamp))
        self._count += len(items)
        if self._count >= self._sink.max_rows or (
            self._count and self._sink.clock() - self._oldest >= self._sink.max_age_s
        ):
            self.flush()

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Write one file per (topic, date) held."""
        for (topic, day), held in sorted(self._held.items()):
            self._seq = max(self._seq + 1, int(self._sink.clock() * 1000))
            path = part_path(self._root, topic, day, self._worker, self._seq)
            table = pa.table(
                {
                    "key": [message.key for message, _ in held],
                    "value": [message.value for message, _ in held],
                    "event_time": [stamp for _, stamp in held],
                    "topic": [topic] * len(held),
                    "partition": [message.partition for message, _ in held],
                    "offset": [message.offset for message, _ in held],
                },
                schema=SCHEMA,
            )
            self._filesystem.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            with self._filesystem.open(path, "wb") as handle:
                pq.write_table(table, handle, compression="zstd")
            ARCHIVED.labels(topic).inc(len(held))
            logger.debug("archived %d messages to %s", len(held), path)
        self._held.clear()
        self._count = 0


class RawArchiveSink(DynamicSink[Message]):
    """Writes raw messages to the archive; see the module docstring.

    Args:
        settings: Which archive (profile, bucket, lake folder).
        max_rows: Messages a worker holds before writing.
        max_age_s: Seconds the oldest held message may wait before writing.
        location: ``(filesystem, root)`` override (tests); default :func:`archive_location`.
        clock: Unix-time clock.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        max_rows: int = 50_000,
        max_age_s: float = 60.0,
        location: tuple[Any, str] | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.settings = settings
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._location = location
        self.clock = clock

    def location(self) -> tuple[Any, str]:
        """The filesystem and root path files go under."""
        return self._location or archive_location(self.settings)

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ArchivePartition:
        """One partition per worker (file names carry the worker index)."""
        return _ArchivePartition(self, worker_index)
