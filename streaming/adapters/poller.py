"""Runs one adapter at an interval and hands each new event to a sink, exactly once.

Per poll (:meth:`Poller.poll_once`):

1. ``adapter.fetch(cursor)``; an error (unreachable, rate-limited, rejected, malformed) is
   logged and counted and the poll ends; the loop goes on;
2. events older than ``max_event_age_s`` are skipped (counted as stale), so do events whose
   id the :class:`~streaming.adapters.dedup.SeenIds` remembers (counted as dedup hits);
3. the rest go to the sink in event-time order, each remembered once the sink took it;
4. unreadable items (:class:`MalformedResponseError`) go to the optional dead-letter sink;
5. the cursor advances only when the sink took every event: a failing sink means the next
   poll fetches the same events again, and the ones already taken are not re-emitted.

Rate limiting longer than the fetch layer's cap defers the next poll to when the API said.
Stop with :meth:`Poller.stop` (or by setting the shared ``threading.Event``): the wait
between polls ends at once.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chainwatch.errors import ChainwatchError
from chainwatch.schemas.events import DeadLetter, Event
from streaming.adapters.base import Adapter, Batch, Cursor, utc_now
from streaming.adapters.dedup import SeenIds
from streaming.adapters.errors import MalformedResponseError, RateLimitedError, metric_reason
from streaming.adapters.metrics import AdapterMetrics

logger = logging.getLogger(__name__)

Sink = Callable[[Event], None]
DeadLetterSink = Callable[[DeadLetter], None]
MAX_DETAIL = 4000
#: Longest a rate limit may push the next poll back (a bogus reset header cannot park a poller).
MAX_DEFERRAL_S = 86_400.0


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll did.

    Attributes:
        outcome: ``ok``, ``partial`` (some items or requests failed) or ``failed``.
        fetched: Events the adapter returned.
        emitted: Events handed to the sink.
        duplicates: Events skipped as already emitted.
        stale: Events skipped as older than the maximum age.
        failures: Reason of each failure (see :func:`~streaming.adapters.errors.metric_reason`).
    """

    outcome: str
    fetched: int = 0
    emitted: int = 0
    duplicates: int = 0
    stale: int = 0
    failures: tuple[str, ...] = ()


class Poller:
    """Polls one adapter every ``interval_s`` until stopped.

    Args:
        adapter: The source.
        sink: Takes each new event (e.g. a Kafka producer's send). If it raises, the poll
            stops there and the cursor stays, so nothing is lost.
        interval_s: Seconds from the end of one poll to the start of the next.
        dead_letters: Takes unreadable items and bodies as dead letters for ``<topic>.dlq``;
            without it they are only logged and counted.
        seen: Remembered event ids; by default a new set of 100,000 ids for 3 days.
        max_event_age_s: Events older than this are never emitted; keep it below the ``seen``
            TTL (see :class:`~chainwatch.adapter_settings.DedupSettings`). None: no limit.
        metrics: Where polls, failures, emitted events and dedup hits are counted.
        stop_event: Set it to stop :meth:`run`; by default a new one (see :meth:`stop`).
        now: Current UTC time.
        cursor: Where to start (e.g. restored from a previous process).
    """

    def __init__(
        self,
        adapter: Adapter,
        sink: Sink,
        *,
        interval_s: float,
        dead_letters: DeadLetterSink | None = None,
        seen: SeenIds | None = None,
        max_event_age_s: float | None = 2 * 86_400.0,
        metrics: AdapterMetrics | None = None,
        stop_event: threading.Event | None = None,
        now: Callable[[], datetime] = utc_now,
        cursor: Cursor | None = None,
    ) -> None:
        if interval_s <= 0:
            msg = f"interval_s must be positive, got {interval_s}"
            raise ValueError(msg)
        self.adapter = adapter
        self._sink = sink
        self._dead_letters = dead_letters
        self._interval_s = interval_s
        self._seen = seen if seen is not None else SeenIds()
        self._max_age = timedelta(seconds=max_event_age_s) if max_event_age_s is not None else None
        self._metrics = metrics if metrics is not None else AdapterMetrics()
        self._stop_event = stop_event if stop_event is not None else threading.Event()
        self._now = now
        self._cursor = cursor if cursor is not None else Cursor()
        self._next_delay_s = interval_s

    @property
    def cursor(self) -> Cursor:
        """Where the next poll starts (persist it to resume after a restart)."""
        return self._cursor

    @property
    def stop_event(self) -> threading.Event:
        """The event that stops :meth:`run` when set."""
        return self._stop_event

    def stop(self) -> None:
        """Ask :meth:`run` to return; a wait between polls ends at once."""
        self._stop_event.set()

    def start(self) -> threading.Thread:
        """Run :meth:`run` in a new daemon thread named after the adapter, and return it."""
        thread = threading.Thread(target=self.run, name=f"poller-{self.adapter.name}", daemon=True)
        thread.start()
        return thread

    def run(self, *, max_polls: int | None = None) -> None:
        """Poll until stopped (or ``max_polls`` polls, e.g. 1 for a scheduled job).

        No error of a poll, nor of the sink, ends the loop; each is logged and counted.

        Args:
            max_polls: Stop after this many polls; None polls until :meth:`stop`.
        """
        polls = 0
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug in one poll must not stop the source; logged and counted
                logger.exception("%s: poll failed unexpectedly", self.adapter.name)
                self._record("failed", ("unexpected",))
            polls += 1
            if max_polls is not None and polls >= max_polls:
                return
            self._stop_event.wait(self._next_delay_s)

    def poll_once(self) -> PollReport:
        """Poll the adapter once and emit what is new.

        Returns:
            What the poll did; adapter and sink errors are reported here, not raised.
        """
        self._next_delay_s = self._interval_s
        try:
            batch = self.adapter.fetch(self._cursor)
        except ChainwatchError as err:
            self._failed([err])
            return self._record("failed", (metric_reason(err),))
        self._failed(batch.failures)
        failures = tuple(metric_reason(err) for err in batch.failures)
        report = self._emit(batch, failures)
        if report.outcome != "failed":
            self._commit(batch)
            self._metrics.last_success.labels(self.adapter.name).set(self._now().timestamp())
        return report

    def _emit(self, batch: Batch, failures: tuple[str, ...]) -> PollReport:
        name = self.adapter.name
        now = self._now()
        horizon = now - self._max_age if self._max_age is not None else None
        emitted = duplicates = stale = 0
        for event in sorted(batch.events, key=lambda event: (event.event_time, event.event_id)):
            if horizon is not None and event.event_time < horizon:
                stale += 1
                self._metrics.stale.labels(name).inc()
            elif self._seen.seen(event.event_id):
                duplicates += 1
                self._metrics.dedup_hits.labels(name).inc()
            else:
                try:
                    self._sink(event)
                except Exception:  # the sink is the caller's code: log, count, retry next poll
                    logger.exception("%s: sink failed on %s; the cursor stays for a retry", name, event.event_id)
                    return self._record(
                        "failed",
                        (*failures, "sink"),
                        fetched=len(batch.events),
                        emitted=emitted,
                        duplicates=duplicates,
                        stale=stale,
                    )
                self._seen.add(event.event_id)
                emitted += 1
                self._metrics.emitted.labels(name).inc()
        outcome = "partial" if batch.events else "failed"
        return self._record(
            outcome if failures else "ok",
            failures,
            fetched=len(batch.events),
            emitted=emitted,
            duplicates=duplicates,
            stale=stale,
        )

    def _commit(self, batch: Batch) -> None:
        newest = self._cursor.newest
        if batch.events:
            latest = min(max(event.event_time for event in batch.events), self._now())
            newest = latest if newest is None else max(newest, latest)
        self._cursor = Cursor(since_id=batch.since_id or self._cursor.since_id, newest=newest)

    def _failed(self, errors: Sequence[ChainwatchError]) -> None:
        for err in errors:
            logger.warning("%s: %s", self.adapter.name, err)
            if isinstance(err, RateLimitedError) and err.retry_after_s:
                self._next_delay_s = max(self._next_delay_s, min(err.retry_after_s, MAX_DEFERRAL_S))
            if isinstance(err, MalformedResponseError) and self._dead_letters is not None:
                self._dead_letter(err)

    def _dead_letter(self, err: MalformedResponseError) -> None:
        letter = DeadLetter(
            topic=self.adapter.topic,
            source=self.adapter.name,
            reason=err.reason,
            detail=str(err)[:MAX_DETAIL],
            payload_b64=base64.b64encode(err.payload).decode("ascii"),
            received_at=self._now(),
        )
        try:
            if self._dead_letters is not None:
                self._dead_letters(letter)
        except Exception:  # losing a dead letter must not stop the source; logged and counted
            logger.exception("%s: dead-letter sink failed", self.adapter.name)
            self._metrics.failures.labels(self.adapter.name, "sink").inc()

    def _record(
        self,
        outcome: str,
        failures: tuple[str, ...],
        *,
        fetched: int = 0,
        emitted: int = 0,
        duplicates: int = 0,
        stale: int = 0,
    ) -> PollReport:
        self._metrics.polls.labels(self.adapter.name, outcome).inc()
        for reason in failures:
            self._metrics.failures.labels(self.adapter.name, reason).inc()
        return PollReport(outcome, fetched, emitted, duplicates, stale, failures)
