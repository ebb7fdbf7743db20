"""Backfill: the feature flows run in-process over the replayed history.

There is no separate batch code path: :func:`backfill_rows` replays the dataset's events for
``[start - warmup, end)`` (in event-time order, through the same decode, windows and rolling
step the live flows use) and keeps the rows stamped in ``(start, end]``. The warm-up fills the
lookback (and, for ``facility_ops``, the schedules published 24 h ahead) so the first rows are
complete. The watermark's clock is fixed at ``end``, so rows depend on event time only.

The replay has no IoT stream; for ``vehicle_status`` the seeded telemetry simulator's readings
for the legs that depart in range are merged into the replay in event-time order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from chainwatch.datasets import FlightsDataset
from chainwatch.schemas.events import DeadLetter
from chainwatch.settings import Settings
from streaming.features.groups import GROUPS
from streaming.features.rolling import Row
from streaming.features.schema import TIMESTAMP_COLUMN
from streaming.features.vehicle import TELEMETRY_TOPIC
from streaming.flows.common import CallbackSink
from streaming.flows.features_common import build_feature_flow, fixed_clock
from streaming.replay import Record, ReplayConfig, build_replay, iter_records
from streaming.sources import RecordSource

#: Extra replay before ``start`` beyond the lookback: the schedules published a day ahead.
SCHEDULE_WARMUP = timedelta(hours=25)


def telemetry_records(dataset: FlightsDataset, start: datetime, end: datetime) -> Iterator[Record]:
    """Synthetic telemetry of the legs departing in ``[start, end)``, readings before ``end``, in time order."""
    from streaming.synthetic import generate_telemetry, legs_from_dataset

    for reading in generate_telemetry(legs_from_dataset(dataset, start=start, end=end)):
        if reading.event_time >= end:
            continue
        yield Record(reading.event_time, TELEMETRY_TOPIC, reading.vehicle_id, reading.model_dump_json().encode())


def replay_for(dataset: FlightsDataset, view: str, start: datetime, end: datetime) -> list[Record]:
    """The event-time ordered records ``view``'s flow reads for ``[start, end)``."""
    topics = GROUPS[view].topics
    replay_topics = tuple(topic for topic in topics if topic != TELEMETRY_TOPIC)
    table = build_replay(dataset, ReplayConfig(start=start, end=end, topics=replay_topics))
    records: Iterable[Record] = iter_records(table)
    if TELEMETRY_TOPIC in topics:
        records = heapq.merge(records, telemetry_records(dataset, start, end), key=lambda record: record.event_time)
    return list(records)


def run_rows(
    view: str,
    records: Sequence[Record],
    *,
    now: datetime,
    settings: Settings | None = None,
    batch: int = 1_000,
) -> tuple[list[Row], list[DeadLetter]]:
    """Run ``view``'s flow in-process over ``records`` with its clock fixed at ``now``.

    Args:
        view: The feature view.
        records: Input records, in the order they are delivered.
        now: The clock of the watermark and the far-future check.
        settings: Settings (default: the local profile).
        batch: Records per source batch (how the input is chunked).

    Returns:
        The rows, in emission order, and the dead letters.
    """
    from bytewax.testing import run_main

    rows: list[Row] = []
    letters: list[DeadLetter] = []
    source = RecordSource(lambda position: records[position:], batch=batch)
    flow = build_feature_flow(
        GROUPS[view],
        settings or Settings(),
        source=source,
        sink=CallbackSink(rows.extend),
        dead_letter_sink=CallbackSink(letters.extend),
        now=fixed_clock(now),
    )
    run_main(flow)  # type: ignore[no-untyped-call]
    return rows, letters


def rows_frame(view: str, rows: Iterable[Row]) -> pd.DataFrame:
    """Rows as a table with the key, ``event_timestamp`` and the view's columns, sorted by key and time."""
    spec = GROUPS[view].view
    columns = [spec.key, TIMESTAMP_COLUMN, *spec.columns]
    frame = pd.DataFrame(list(rows), columns=columns)
    frame[TIMESTAMP_COLUMN] = pd.to_datetime(frame[TIMESTAMP_COLUMN], utc=True)
    for column, kind in spec.columns.items():
        frame[column] = frame[column].astype("int64" if kind == "int" else "float64")
    return frame.sort_values([spec.key, TIMESTAMP_COLUMN], ignore_index=True)


def backfill_rows(
    dataset: FlightsDataset,
    view: str,
    start: datetime,
    end: datetime,
    *,
    warmup: timedelta | None = None,
    records: Callable[[FlightsDataset, str, datetime, datetime], list[Record]] = replay_for,
) -> pd.DataFrame:
    """The rows of ``view`` stamped in ``(start, end]``, computed by its flow over the replay.

    Args:
        dataset: The flights dataset.
        view: The feature view (a key of :data:`~streaming.features.groups.GROUPS`).
        start: Rows stamped after this instant are kept (UTC, on the hour).
        end: Rows stamped at or before this instant are kept; events from ``end`` on are not read.
        warmup: Replay before ``start``; default: the view's lookback + :data:`SCHEDULE_WARMUP`.
        records: Builds the input records (tests pass their own).

    Returns:
        One row per key and hour, sorted by key and ``event_timestamp``.
    """
    lead = warmup if warmup is not None else GROUPS[view].view.lookback + SCHEDULE_WARMUP
    rows, _letters = run_rows(view, records(dataset, view, start - lead, end), now=end)
    frame = rows_frame(view, rows)
    stamps = frame[TIMESTAMP_COLUMN]
    return frame[(stamps > pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))].reset_index(drop=True)


def backfill_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Row count and time span of a backfill result (for logs and benchmarks)."""
    stamps = frame[TIMESTAMP_COLUMN]
    return {"rows": len(frame), "first": stamps.min(), "last": stamps.max()}
