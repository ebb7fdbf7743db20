"""Freshness of the online features: how long after its hour closed a row became readable online.

A feature row is stamped with its hour's end (``event_timestamp``, docs/decisions/0006). Once the
online write of a batch returns, its rows are readable by Feast's read path, so

    freshness = wall clock when the online write returned - event_timestamp

This is only meaningful while the flow is **live** (events arrive as they happen): a replay or a
backfill of 2013 would report years. :class:`FreshnessRecorder` therefore observes the histogram
only when built with ``live=True``; the last-update gauge is set either way (it says when the
view last changed online, which a replay does too).

The histogram includes the windows' allowed lateness: an hour closes once the key's watermark
passes its end, i.e. after an event 10 min later or 10 min of wall time
(:data:`streaming.flows.features_common.ALLOWED_LATENESS`). Subtract it to get the processing
delay from the window closing to the row being online.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import Gauge, Histogram

from streaming.features.offline import Row
from streaming.features.schema import TIMESTAMP_COLUMN

#: Seconds: sub-second buckets for the processing delay, then minutes for the lateness wait.
FRESHNESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 660.0, 900.0, 1800.0, 3600.0)

FEATURE_FRESHNESS = Histogram(
    "chainwatch_feature_freshness_seconds",
    "Wall clock when a feature row became readable online minus its event_timestamp (the hour's end), "
    "by view; observed only by live flows.",
    ["view"],
    buckets=FRESHNESS_BUCKETS,
)
FEATURE_LAST_UPDATE = Gauge(
    "chainwatch_feature_last_update_timestamp_seconds",
    "Unix time of the last successful online write of a view.",
    ["view"],
)

WallClock = Callable[[], float]


class FreshnessRecorder:
    """Records the freshness metrics of one view after each online write.

    Args:
        view: The feature view.
        live: Observe the freshness histogram (only when events arrive as they happen).
        clock: Unix-time clock (tests pass their own).
    """

    def __init__(self, view: str, *, live: bool, clock: WallClock = time.time) -> None:
        self.view = view
        self.live = live
        self._clock = clock
        self._histogram = FEATURE_FRESHNESS.labels(view)
        self._gauge = FEATURE_LAST_UPDATE.labels(view)

    def written(self, rows: Iterable[Row]) -> None:
        """Record that ``rows`` just became readable online."""
        now = self._clock()
        self._gauge.set(now)
        if not self.live:
            return
        for row in rows:
            stamp = row[TIMESTAMP_COLUMN]
            self._histogram.observe(max(0.0, now - _epoch_seconds(stamp)))


def _epoch_seconds(stamp: datetime) -> float:
    aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    return aware.timestamp()
