"""The feature flows' sink: rows of one view into the history (offline) and online stores.

:class:`FeatureRowSink` is a Bytewax :class:`DynamicSink`; each worker's partition

1. holds rows until ``min_batch_rows`` are there (1 for live flows: every batch Bytewax hands
   over is written at once; a backfill holds 50k so the local parquet history is rewritten
   rarely), drops rows ``keep`` rejects (a backfill's warm-up hours), then writes them in chunks
   of at most ``max_batch_rows``;
2. writes each chunk **online** first (Redis fast writer or Feast/SQLite), retried with backoff;
   when it returns the rows are readable, and the freshness metrics are recorded
   (:mod:`streaming.features.freshness`). Redis still down after the retries stops the flow
   (the error propagates): restarted from its recovery snapshot it writes the rows again;
3. then writes the chunk to the **history** store (Postgres upsert or parquet) through
   :class:`~streaming.features.offline.RetryingHistoryWriter` (a few attempts with backoff).

Both writers are idempotent on ``(entity, event_timestamp)``, so a replay after a crash (Bytewax
recovery is at-least-once) neither loses nor doubles a row.

**Postgres down.** When the history write still fails after its retries, the chunk goes to a
:class:`HistoryBuffer` and the sink carries on: online writes go on, and while the buffer holds
rows, new history rows join it without waiting for retries (so a dead Postgres costs the live
path one retry cycle, not one per batch). The buffer is flushed oldest-first with a single attempt at most once
every ``retry_interval_s``, on the next batch, and once more (with retries) when the flow
ends. It keeps up to ``memory_rows`` in memory and spills the rest to parquet files under
``<spool_dir>/<view>/`` (default ``<data_dir>/feature_spool``); files left by an earlier run
are picked up and flushed first. Past ``max_rows`` buffered rows the sink spills everything to
disk and raises :class:`HistoryBufferFullError`: the flow stops instead of losing rows, and
resumes from its snapshot once restarted. Nothing is dropped at any point.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from prometheus_client import Counter, Gauge
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_attempt, wait_exponential

from chainwatch.errors import DependencyUnavailableError
from chainwatch.settings import Settings
from streaming.features.freshness import FreshnessRecorder
from streaming.features.offline import HistoryWriter, RetryingHistoryWriter, frame_of, normalise_rows, spec_of
from streaming.features.online import OnlineWriter
from streaming.features.rolling import Row

logger = logging.getLogger(__name__)

HISTORY_BUFFERED = Gauge(
    "chainwatch_feature_history_buffered_rows",
    "History rows waiting in a sink's retry buffer (memory and disk) because the history store is down, by view.",
    ["view"],
)
ROWS_WRITTEN = Counter(
    "chainwatch_feature_rows_written_total",
    "Feature rows a sink wrote, by view and store ('online' or 'history').",
    ["view", "store"],
)


class HistoryBufferFullError(DependencyUnavailableError):
    """The history store stayed down until the retry buffer filled up; the flow must stop."""


def spool_dir(settings: Settings) -> Path:
    """Default folder of the sinks' on-disk retry buffers."""
    return settings.data_dir / "feature_spool"


def _chunks(rows: Sequence[Row], size: int) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class HistoryBuffer:
    """History rows that could not be written yet: in memory, then on disk, bounded.

    Args:
        view: The feature view.
        spool: Folder for spilled rows (``None``: memory only, and nothing survives a crash).
        worker: The worker index (spill files are per worker, so workers never share one).
        memory_rows: Rows kept in memory before spilling to disk.
        max_rows: Rows buffered in all before :meth:`add` raises :class:`HistoryBufferFullError`.
    """

    def __init__(
        self, view: str, spool: Path | None, *, worker: int = 0, memory_rows: int = 50_000, max_rows: int = 2_000_000
    ) -> None:
        self.view = view
        self.folder = spool / view if spool is not None else None
        self.memory_rows = memory_rows
        self.max_rows = max_rows
        self._prefix = f"w{worker}-"
        self._memory: list[Row] = []
        self._files: list[tuple[Path, int]] = []
        if self.folder is not None and self.folder.exists():
            for path in sorted(self.folder.glob(f"{self._prefix}*.parquet")):
                self._files.append((path, pq.read_metadata(path).num_rows))
        self._gauge = HISTORY_BUFFERED.labels(view)
        self._gauge.set(len(self))

    def __len__(self) -> int:
        """Rows buffered in memory and on disk."""
        return len(self._memory) + sum(rows for _, rows in self._files)

    def add(self, rows: Sequence[Row]) -> None:
        """Buffer ``rows``; spill to disk past ``memory_rows``.

        Raises:
            HistoryBufferFullError: More than ``max_rows`` are buffered (all of them were spilled
                to disk first, when there is a spool folder).
        """
        self._memory.extend(rows)
        if len(self._memory) > self.memory_rows:
            self.spill()
        self._gauge.set(len(self))
        if len(self) > self.max_rows:
            self.spill()
            msg = f"{self.view}: history store down and {len(self):,} rows buffered (limit {self.max_rows:,})"
            raise HistoryBufferFullError(msg)

    def spill(self) -> None:
        """Move the in-memory rows to a new parquet file (no-op without a spool folder)."""
        if self.folder is None or not self._memory:
            return
        spec = spec_of(self.view)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self._prefix}{time.time_ns():020d}.parquet"
        partial = path.with_suffix(".tmp")
        frame_of(spec, normalise_rows(spec, self._memory)).to_parquet(partial, index=False)
        partial.replace(path)  # a crash leaves the old set of files or the new one, never half a file
        self._files.append((path, len(self._memory)))
        logger.warning("%s: spilled %d history rows to %s", self.view, len(self._memory), path)
        self._memory = []

    def drain(self, write: Callable[[Sequence[Row]], Any]) -> int:
        """Write every buffered row with ``write``, oldest first; stop at the first failure.

        Returns:
            Rows written. What ``write`` did not accept stays buffered (the error propagates).
        """
        written = 0
        try:
            while self._files:
                path, count = self._files[0]
                write(_read_rows(path))
                path.unlink()
                self._files.pop(0)
                written += count
            if self._memory:
                write(self._memory)
                written += len(self._memory)
                self._memory = []
        finally:
            self._gauge.set(len(self))
        return written


def _read_rows(path: Path) -> list[Row]:
    frame = pd.read_parquet(path)
    # Nullable ints come back as pd.NA; the writers take None for a missing value.
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")  # type: ignore[return-value]


class _FeatureRowPartition(StatelessSinkPartition[Row]):
    def __init__(self, sink: FeatureRowSink, worker: int) -> None:
        self.view = sink.view
        self._sink = sink
        self._online = sink.online() if sink.online is not None else None
        self._history = sink.history()
        self._retrying = RetryingHistoryWriter(self._history, attempts=sink.history_attempts)
        self._buffer = HistoryBuffer(
            sink.view, sink.spool, worker=worker, memory_rows=sink.memory_rows, max_rows=sink.max_buffered_rows
        )
        self._freshness = FreshnessRecorder(sink.view, live=sink.live)
        self._online_retry = Retrying(
            retry=retry_if_exception_type(DependencyUnavailableError),
            stop=stop_after_attempt(sink.online_attempts),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            before_sleep=before_sleep_log(logger, logging.WARNING),
            reraise=True,
        )
        self._pending: list[Row] = []
        self._next_drain = 0.0 if len(self._buffer) else float("inf")

    def write_batch(self, items: list[Row]) -> None:
        keep = self._sink.keep
        self._pending.extend(items if keep is None else [row for row in items if keep(row)])
        if len(self._pending) >= self._sink.min_batch_rows:
            self._flush()

    def close(self) -> None:
        self._flush()
        if len(self._buffer):
            try:
                self._buffer.drain(self._write_history_retrying)
            except DependencyUnavailableError:
                self._buffer.spill()
                logger.exception(
                    "%s: history store still down at shutdown; %d rows kept in %s for the next run",
                    self.view,
                    len(self._buffer),
                    self._buffer.folder,
                )
        close = getattr(self._history, "close", None)
        if callable(close):
            close()

    def _flush(self) -> None:
        rows, self._pending = self._pending, []
        self._drain_if_due()
        for chunk in _chunks(rows, self._sink.max_batch_rows):
            if self._online is not None:
                self._online_retry(self._online.write, self.view, chunk)
                self._freshness.written(chunk)
                self._count("online", len(chunk))
            self._write_history(chunk)

    def _write_history_retrying(self, rows: Sequence[Row]) -> None:
        self._retrying.write(self.view, rows)
        self._count("history", len(rows))

    def _write_history_once(self, rows: Sequence[Row]) -> None:
        self._history.write(self.view, rows)
        self._count("history", len(rows))

    def _count(self, store: str, rows: int) -> None:
        ROWS_WRITTEN.labels(self.view, store).inc(rows)
        self._sink.written[store] += rows

    def _write_history(self, chunk: Sequence[Row]) -> None:
        if len(self._buffer):  # the store was down: queue behind the older rows, keep order
            self._buffer.add(chunk)
            return
        try:
            self._write_history_retrying(chunk)
        except DependencyUnavailableError as err:
            logger.warning("%s: history store down (%s); buffering %d rows", self.view, err, len(chunk))
            self._next_drain = time.monotonic() + self._sink.retry_interval_s
            self._buffer.add(chunk)

    def _drain_if_due(self) -> None:
        if not len(self._buffer) or time.monotonic() < self._next_drain:
            return
        try:
            written = self._buffer.drain(self._write_history_once)
        except DependencyUnavailableError:
            self._next_drain = time.monotonic() + self._sink.retry_interval_s
            return
        logger.info("%s: history store back; wrote %d buffered rows", self.view, written)
        self._next_drain = float("inf")


class FeatureRowSink(DynamicSink[Row]):
    """Writes the rows of one view online and into history; see the module docstring.

    Args:
        view: The feature view whose rows arrive.
        history: Builds the history writer (one per worker: a Postgres connection is not shared).
        online: Builds the online writer; ``None`` writes history only (a backfill, before
            ``materialize``).
        live: Events arrive as they happen: observe the freshness histogram.
        keep: Rows for which this returns ``False`` are dropped (a backfill's warm-up rows).
        min_batch_rows: Rows held before writing (1: write every batch at once); the rest are
            written when the flow ends.
        max_batch_rows: Rows per write.
        history_attempts: Attempts of a history write before its rows are buffered.
        online_attempts: Attempts of an online write before the error stops the flow.
        retry_interval_s: Seconds between attempts to flush the history buffer.
        spool: Folder of the on-disk buffer (``None``: memory only).
        memory_rows: Buffered rows kept in memory before spilling to disk.
        max_buffered_rows: Buffered rows in all before the flow stops.
    """

    def __init__(
        self,
        view: str,
        *,
        history: Callable[[], HistoryWriter],
        online: Callable[[], OnlineWriter] | None,
        live: bool = False,
        keep: Callable[[Row], bool] | None = None,
        min_batch_rows: int = 1,
        max_batch_rows: int = 5_000,
        history_attempts: int = 3,
        online_attempts: int = 5,
        retry_interval_s: float = 5.0,
        spool: Path | None = None,
        memory_rows: int = 50_000,
        max_buffered_rows: int = 2_000_000,
    ) -> None:
        spec_of(view)  # fail fast on an unknown view
        self.view = view
        self.history = history
        self.online = online
        self.live = live
        self.keep = keep
        self.min_batch_rows = max(1, min_batch_rows)
        self.max_batch_rows = max(1, max_batch_rows)
        self.history_attempts = history_attempts
        self.online_attempts = online_attempts
        self.retry_interval_s = retry_interval_s
        self.spool = spool
        self.memory_rows = memory_rows
        self.max_buffered_rows = max_buffered_rows
        #: Rows written so far by every partition, by store ("online", "history").
        self.written: dict[str, int] = {"online": 0, "history": 0}

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _FeatureRowPartition:
        """One partition per worker, each with its own writers and retry buffer."""
        return _FeatureRowPartition(self, worker_index)
