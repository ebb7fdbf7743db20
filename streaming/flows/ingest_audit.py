"""The ingest audit flow: validate every message and count them per topic and kind.

It is the smallest complete dataflow: a source (Kafka in the services profile, read from
the beginning to the current end; the replay in-process in the local profile), the shared
decode step with its dead-letter branch, and a keyed count emitted when the input ends.
``make demo`` runs it over a short replay; operators run it against the topics to see what
is arriving and what is being refused.

Output items are ``(counter, count)``, e.g. ``("shipments.events.v1/departed", 1200)`` or
``("dlq/weather.observations.v1/non_finite_number", 3)``.
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from chainwatch.schemas.events import DeadLetter, Event
from chainwatch.settings import Settings
from streaming.flows.common import CallbackSink, decode, kafka_source
from streaming.sources import Message

Count = tuple[str, int]


def counter_of(event: Event) -> str:
    """The counter an event adds to: ``<topic>/<event_type or source>``."""
    from chainwatch.schemas.topics import TOPICS

    topic = next(name for name, spec in TOPICS.items() if isinstance(event, spec.model))
    kind = getattr(event, "event_type", None) or event.source
    return f"{topic}/{kind}"


def dead_counter_of(letter: DeadLetter) -> str:
    """The counter a dead letter adds to: ``dlq/<topic>/<reason>``."""
    return f"dlq/{letter.topic}/{letter.reason}"


def build_flow(
    settings: Settings, *, source: Source[Message] | None = None, sink: Sink[Count] | None = None
) -> Dataflow:
    """The audit dataflow.

    Args:
        settings: Kafka address and topics (services profile).
        source: Messages to audit; default: every event topic on Kafka (services profile).
        sink: Where final counts go; default: printed.
    """
    flow = Dataflow("ingest_audit")
    messages = op.input("inp", flow, source if source is not None else kafka_source(settings, tail=False))
    # messages: Stream[KafkaSourceMessage]
    events, dead = decode("decode", messages)
    # events: Stream[Event]; dead: Stream[DeadLetter]
    keyed = op.merge(
        "counters",
        op.key_on("event_counter", events, counter_of),
        op.key_on("dead_counter", dead, dead_counter_of),
    )
    # keyed: KeyedStream[Event | DeadLetter]
    counts = op.fold_final("count", keyed, lambda: 0, lambda total, _item: total + 1)
    # counts: KeyedStream[int], i.e. (counter, total), emitted when the input ends
    op.output("out", counts, sink or CallbackSink(print))
    return flow
