"""The rolling step every feature group shares: closed hourly buckets in, one row per closed hour out.

A feature group (see :class:`FeatureGroup`) says how an event is routed to its entity keys, how
one item is folded into an hourly bucket, and how a row is computed from the buckets of the last
``lookback`` hours. This module turns that into the per-key state machine the dataflow runs after
its hourly tumbling windows close:

* buckets arrive per key in hour order (the window step guarantees it, see
  :mod:`streaming.flows.features_common`), each stamped with its hour's **end**;
* for every closed hour while the key had a bucket within ``lookback`` the step emits one row
  stamped with the hour's end, including quiet hours *between* two buckets, so staleness shows
  as a row whose short windows went to zero. Quiet hours *after* a key's newest bucket are
  emitted when its next bucket closes (event time only, so backfill and streaming agree); an
  idle key's online row therefore keeps its old ``event_timestamp`` until it is active again;
* a row only uses buckets whose hour ended at or before the row's timestamp, so every value is
  knowable at that moment.

Everything here is plain Python and picklable, so Bytewax snapshots it for recovery.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from chainwatch.schemas.events import Event
from streaming.features.schema import TIMESTAMP_COLUMN, ViewSpec

HOUR = timedelta(hours=1)
#: Windows are aligned to this instant, so every window is one UTC clock hour.
ALIGN = datetime(2000, 1, 1, tzinfo=UTC)

#: A feature row: entity key, ``event_timestamp`` and the view's columns.
Row = dict[str, Any]
I = TypeVar("I")  # noqa: E741 - the item folded into buckets
B = TypeVar("B")  # a bucket
C = TypeVar("C")  # state carried across buckets (running totals, pending shipments)

#: Buckets of the lookback, oldest first, each with its hour's end.
Window = Sequence[tuple[datetime, B]]


def hour_end(window_id: int) -> datetime:
    """The end (exclusive) of the hourly window ``window_id`` counted from :data:`ALIGN`."""
    return ALIGN + HOUR * (window_id + 1)


def hour_end_of(instant: datetime) -> datetime:
    """The end of the clock hour that contains ``instant`` (an instant on the hour starts an hour)."""
    return ALIGN + HOUR * ((instant - ALIGN) // HOUR + 1)


def _no_carry(carry: Any, end: datetime, bucket: Any) -> Any:  # noqa: ARG001 - the FeatureGroup signature
    return carry


@dataclass(frozen=True, slots=True)
class FeatureGroup(Generic[I, B, C]):
    """How one feature view is computed: routing, bucket folding and the roll-up.

    Attributes:
        view: The view's contract (name, key column, lookback, columns).
        topics: Kafka topics the group reads.
        route: An event's items by entity key; ``[]`` when the event does not concern the group.
        time_of: An item's event time (the windows' clock).
        event_of: The event an item came from (for dead letters).
        new_bucket: An empty bucket.
        bucket_add: Folds one item into a bucket (ignores an event id it has already seen).
        bucket_merge: Merges two buckets (tumbling windows never merge; Bytewax asks for it).
        new_carry: Empty carried state.
        roll: The row's columns at an hour's end from the carry and the lookback's buckets.
        on_enter: Updates the carry when a bucket enters the lookback.
        on_expire: Updates the carry when a bucket leaves the lookback.
        duplicates: How many duplicate items a bucket ignored.
    """

    view: ViewSpec
    topics: tuple[str, ...]
    route: Callable[[Event], Iterable[tuple[str, I]]]
    time_of: Callable[[I], datetime]
    event_of: Callable[[I], Event]
    new_bucket: Callable[[], B]
    bucket_add: Callable[[B, I], B]
    bucket_merge: Callable[[B, B], B]
    new_carry: Callable[[], C]
    roll: Callable[[C, Window[B], datetime], dict[str, Any]]
    duplicates: Callable[[B], int]
    on_enter: Callable[[C, datetime, B], C] = _no_carry
    on_expire: Callable[[C, datetime, B], C] = _no_carry

    @property
    def lookback_hours(self) -> int:
        """The lookback in whole hours."""
        return int(self.view.lookback / HOUR)


@dataclass(slots=True)
class RollState(Generic[B, C]):
    """Per-key state of the rolling step.

    Attributes:
        carry: The group's carried state.
        buckets: Buckets inside the lookback, oldest first, with their hour's end.
        last_end: End of the last hour a row was emitted for.
    """

    carry: C
    buckets: deque[tuple[datetime, B]] = field(default_factory=deque)
    last_end: datetime | None = None


def new_state(group: FeatureGroup[Any, B, C]) -> RollState[B, C]:
    """A key's empty rolling state."""
    return RollState(group.new_carry())


def _expire(group: FeatureGroup[Any, B, C], state: RollState[B, C], end: datetime) -> None:
    oldest_kept = end - group.view.lookback
    while state.buckets and state.buckets[0][0] <= oldest_kept:
        gone_end, gone = state.buckets.popleft()
        state.carry = group.on_expire(state.carry, gone_end, gone)


def _row(group: FeatureGroup[Any, B, C], state: RollState[B, C], key: str, end: datetime) -> Row:
    return {group.view.key: key, TIMESTAMP_COLUMN: end, **group.roll(state.carry, state.buckets, end)}


def advance(group: FeatureGroup[Any, B, C], state: RollState[B, C], key: str, end: datetime, bucket: B) -> list[Row]:
    """Take the closed bucket of the hour ending at ``end`` and emit the rows it completes.

    Emits a row for each quiet hour since the last row while a bucket is still inside the
    lookback, then the row of ``end`` itself.

    Args:
        group: The feature group.
        state: The key's state (updated in place).
        key: The entity key.
        end: The bucket's hour end.
        bucket: The closed bucket.

    Returns:
        Rows in hour order.

    Raises:
        ValueError: ``end`` is not after the last emitted hour (buckets out of order: a bug).
    """
    if state.last_end is not None and end <= state.last_end:
        msg = f"{group.view.name}/{key}: bucket for {end} arrived after the row for {state.last_end}"
        raise ValueError(msg)
    rows: list[Row] = []
    if state.last_end is not None:
        gap = state.last_end + HOUR
        while gap < end:
            _expire(group, state, gap)
            if not state.buckets:
                break
            rows.append(_row(group, state, key, gap))
            gap += HOUR
    state.buckets.append((end, bucket))
    state.carry = group.on_enter(state.carry, end, bucket)
    _expire(group, state, end)
    rows.append(_row(group, state, key, end))
    state.last_end = end
    return rows


def within(window: Window[B], end: datetime, span: timedelta) -> list[B]:
    """The buckets of ``window`` whose hour ended in ``(end - span, end]``."""
    start = end - span
    return [bucket for bucket_end, bucket in window if start < bucket_end <= end]


@dataclass(slots=True)
class Bucket:
    """What every bucket keeps: the event ids it has folded, and the duplicates it ignored.

    Attributes:
        ids: Event ids already folded (a replayed or re-sent event is folded once).
        duplicates: Items ignored because their event id was already folded.
    """

    ids: set[str] = field(default_factory=set)
    duplicates: int = 0


def first_sighting(bucket: Bucket, event_id: str) -> bool:
    """Record ``event_id`` in ``bucket``; ``False`` (and a duplicate counted) if it was already there."""
    if event_id in bucket.ids:
        bucket.duplicates += 1
        return False
    bucket.ids.add(event_id)
    return True


def duplicates_of(bucket: Bucket) -> int:
    """The number of duplicates a bucket ignored."""
    return bucket.duplicates


def no_merge(left: Any, right: Any) -> Any:
    """Merger for tumbling windows, which never merge (Bytewax's ``fold_window`` needs one).

    Raises:
        NotImplementedError: Always; a merge would mean the windower is not tumbling.
    """
    msg = "hourly tumbling windows never merge"
    raise NotImplementedError(msg)


def capped_seconds(delta: timedelta, cap_min: int) -> int:
    """A delay in whole seconds, capped above at ``cap_min`` minutes (early stays negative)."""
    return min(int(delta.total_seconds()), cap_min * 60)


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by."""
    return part / whole if whole else None
