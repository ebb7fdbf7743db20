"""The one dataflow shape every feature group runs: decode, key, hourly windows, roll, rows.

::

    input -> decode ─┬─ events -> future guard ─┬─ route to entity keys -> hourly windows ─┬─ closed -> roll -> rows
                     └─ dead letters            └─ future_timestamp       (EventClock)     └─ late
                                     └──────────────── all three ──────────────────────────────────> dead-letter sink

**Watermark.** Windows are one UTC clock hour, closed by Bytewax's :class:`EventClock` on each
item's event time with :data:`ALLOWED_LATENESS` (10 min) of wait: a key's watermark is the
newest event time it has seen minus 10 min (plus system time elapsed since then, when the clock
is the system clock). Bytewax keeps one clock per key, so lateness is judged per entity. An item
older than its key's watermark is **late**: counted in ``chainwatch_late_events_total{flow}``
and written to the dead-letter sink (reason ``late``); it never changes a row already emitted.

**Far future.** An event stamped more than :data:`MAX_CLOCK_SKEW` ahead of ``now`` would drag
its key's watermark forward and make everything after it late, so it goes to the dead letters
with reason ``future_timestamp`` instead (counted in ``chainwatch_dead_letters_total``).

**Duplicates.** A bucket folds each event id once; repeats inside the hour are counted in
``chainwatch_duplicate_events_total{flow}`` when the hour closes. A repeat after its hour closed
is late (above).

**Clocks.** ``now`` defaults to the system clock (live). A backfill passes a fixed instant so the
watermark moves with event time only and the rows do not depend on how fast the replay runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaSink, KafkaSinkMessage
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators.windowing import EventClock, TumblingWindower, fold_window
from bytewax.outputs import Sink
from prometheus_client import Counter

from chainwatch.schemas.decode import dead_letter
from chainwatch.schemas.events import DeadLetter, Event
from chainwatch.schemas.topics import TOPICS, TopicSpec
from chainwatch.settings import Profile, Settings
from streaming.features.groups import GROUPS
from streaming.features.rolling import ALIGN, HOUR, FeatureGroup, RollState, Row, advance, hour_end, new_state
from streaming.flows.common import CallbackSink, decode, kafka_source
from streaming.metrics import DEAD_LETTERS
from streaming.sources import Message

ALLOWED_LATENESS = timedelta(minutes=10)
MAX_CLOCK_SKEW = timedelta(minutes=5)
DEAD_LETTER_SOURCE = "dataflow"

LATE_EVENTS = Counter(
    "chainwatch_late_events_total",
    "Events that arrived after their hourly window closed (sent to the dead letters), by flow.",
    ["flow"],
)
DUPLICATE_EVENTS = Counter(
    "chainwatch_duplicate_events_total",
    "Events folded once and ignored again because their event id was already in the hour, by flow.",
    ["flow"],
)

Clock = Callable[[], datetime]
_log = logging.getLogger(__name__)


def system_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def fixed_clock(instant: datetime) -> Clock:
    """A clock stopped at ``instant`` (backfill: the watermark then follows event time only)."""

    def now() -> datetime:
        return instant

    return now


def spec_of(event: Event) -> TopicSpec:
    """The topic spec of an event's model."""
    return next(spec for spec in TOPICS.values() if type(event) is spec.model)


def letter_for(event: Event, detail: str, *, reason: Any, now: datetime) -> DeadLetter:
    """A dead letter carrying ``event`` re-serialised (the decoded form of the original bytes)."""
    spec = spec_of(event)
    payload = event.model_dump_json().encode()
    return dead_letter(spec, payload, reason, detail, source=DEAD_LETTER_SOURCE, key=spec.key_of(event), now=now)


def hourly_windower() -> TumblingWindower:
    """One-hour tumbling windows aligned to UTC clock hours.

    ``fold_window`` runs in its default ordered mode: an item is applied only once the
    watermark passes it, in timestamp order, so a key's windows open (and close) in time order
    and the rolling step receives its hours in order.
    """
    return TumblingWindower(length=HOUR, align_to=ALIGN)


def _log_dead_letters(letters: list[DeadLetter]) -> None:
    for letter in letters:
        _log.warning("dead letter on %s: %s (%s)", letter.topic, letter.reason, letter.detail)


def _log_rows(rows: list[Row]) -> None:
    _log.debug("%d feature rows", len(rows))


def _to_dlq_message(letter: DeadLetter) -> KafkaSinkMessage[bytes | None, bytes]:
    key = letter.key.encode() if letter.key is not None else None
    return KafkaSinkMessage(key, letter.model_dump_json().encode(), topic=f"{letter.topic}.dlq")


def build_feature_flow(
    group: FeatureGroup[Any, Any, Any],
    settings: Settings,
    *,
    source: Source[Message] | None = None,
    sink: Sink[Row] | None = None,
    dead_letter_sink: Sink[DeadLetter] | None = None,
    now: Clock | None = None,
) -> Dataflow:
    """The dataflow computing ``group``'s feature rows.

    Args:
        group: The feature group.
        settings: Profile and Kafka settings.
        source: Messages; default: the group's Kafka topics (services profile only).
        sink: Where feature rows (dicts: entity key, ``event_timestamp``, columns) go; default: logged.
        dead_letter_sink: Where dead letters go; default: ``<topic>.dlq`` on Kafka in the services
            profile, logged in the local profile.
        now: The clock of the watermark and of the far-future check; default: the system clock.

    Returns:
        The dataflow.
    """
    clock = now or system_now
    name = group.view.name
    flow = Dataflow(f"features_{name}")
    messages = op.input("inp", flow, source if source is not None else kafka_source(settings, topics=[*group.topics]))
    # messages: Stream[KafkaSourceMessage]
    events, invalid = decode("decode", messages)
    # events: Stream[Event]; invalid: Stream[DeadLetter]
    guard = op.branch("future", events, lambda event: event.event_time <= clock() + MAX_CLOCK_SKEW)
    # guard.trues: Stream[Event] (plausible times); guard.falses: Stream[Event] (far future)
    future = op.map(
        "future_dlq",
        guard.falses,
        lambda event: letter_for(event, f"event_time {event.event_time} is ahead of now", reason="future_timestamp",
                                 now=clock()),
    )  # fmt: skip
    # future: Stream[DeadLetter]
    keyed = op.flat_map("route", guard.trues, group.route)
    # keyed: KeyedStream[item], (entity key, group item)
    windows = fold_window(
        "hourly",
        keyed,
        EventClock(group.time_of, wait_for_system_duration=ALLOWED_LATENESS, now_getter=clock),
        hourly_windower(),
        group.new_bucket,
        group.bucket_add,
        group.bucket_merge,
    )
    # windows.down: KeyedStream[(window_id, bucket)]; windows.late: KeyedStream[(window_id, item)]
    op.inspect(
        "dup_count", windows.down, lambda _step, kv: DUPLICATE_EVENTS.labels(name).inc(group.duplicates(kv[1][1]))
    )
    closed = op.map("closed", windows.down, lambda kv: (kv[0], (kv[0], hour_end(kv[1][0]), kv[1][1])))
    # closed: KeyedStream[(key, hour_end, bucket)]

    def roll(
        state: RollState[Any, Any] | None, item: tuple[str, datetime, Any]
    ) -> tuple[RollState[Any, Any], list[Row]]:
        key, end, bucket = item
        state = state if state is not None else new_state(group)
        bucket.ids.clear()  # only needed while the hour was open; keeps snapshots small
        return state, advance(group, state, key, end, bucket)

    rolled = op.stateful_flat_map("roll", closed, roll)
    # rolled: KeyedStream[Row]
    rows = op.map("rows", rolled, lambda kv: kv[1])
    # rows: Stream[Row]
    op.output("out", rows, sink if sink is not None else CallbackSink(_log_rows))

    def late_letter(kv: tuple[str, tuple[int, Any]]) -> DeadLetter:
        key, (window_id, item) = kv
        LATE_EVENTS.labels(name).inc()
        detail = f"late: {name} window ending {hour_end(window_id).isoformat()} for {key} had closed"
        return letter_for(group.event_of(item), detail, reason="late", now=clock())

    late = op.map("late_dlq", windows.late, late_letter)
    # late: Stream[DeadLetter]
    dead = op.merge("dead", invalid, future, late)
    # dead: Stream[DeadLetter]
    op.inspect("dead_count", dead, lambda _step, letter: DEAD_LETTERS.labels(letter.topic, letter.reason).inc())
    if dead_letter_sink is None and settings.profile is Profile.SERVICES:
        dlq = op.map("dlq_msg", dead, _to_dlq_message)
        # dlq: Stream[KafkaSinkMessage] to <topic>.dlq
        op.output("dlq", dlq, KafkaSink([settings.kafka.bootstrap_servers], topic=None))
    else:
        op.output("dlq", dead, dead_letter_sink if dead_letter_sink is not None else CallbackSink(_log_dead_letters))
    return flow


class FlowFactory(Protocol):
    """The signature of every feature flow module's ``build_flow``."""

    def __call__(
        self,
        settings: Settings,
        *,
        source: Source[Message] | None = None,
        sink: Sink[Row] | None = None,
        dead_letter_sink: Sink[DeadLetter] | None = None,
        now: Clock | None = None,
    ) -> Dataflow:
        """Build the view's dataflow (see :func:`build_feature_flow` for the arguments)."""
        ...


def flow_factory(view: str) -> FlowFactory:
    """The ``build_flow(settings, *, source=None, sink=None, ...)`` of one feature view."""

    def build_flow(
        settings: Settings,
        *,
        source: Source[Message] | None = None,
        sink: Sink[Row] | None = None,
        dead_letter_sink: Sink[DeadLetter] | None = None,
        now: Clock | None = None,
    ) -> Dataflow:
        return build_feature_flow(
            GROUPS[view], settings, source=source, sink=sink, dead_letter_sink=dead_letter_sink, now=now
        )

    build_flow.__doc__ = f"The ``{view}`` dataflow: events in, one row per key and closed hour out."
    return build_flow
