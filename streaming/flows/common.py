"""Steps and sinks every dataflow shares: decoding into ok and dead-letter streams, callbacks.

Decoding is the first step of every flow: each message becomes a validated event or a dead
letter (with the original bytes and the reason), so bad input never stops a flow and is never
dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Stream
from bytewax.inputs import Source
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from chainwatch.schemas.decode import Decoded, dead_letter, decode_event
from chainwatch.schemas.events import DeadLetter, Event
from chainwatch.schemas.topics import TOPICS
from chainwatch.settings import Profile, Settings
from streaming.sources import Message


def kafka_source(settings: Settings, *, topics: list[str] | None = None, tail: bool = True) -> Source[Message]:
    """Bytewax's Kafka source over ``topics`` (default: every event topic), services profile only.

    Raises:
        ValueError: The local profile has no Kafka; pass an in-process source instead.
    """
    if settings.profile is not Profile.SERVICES:
        msg = "the local profile has no Kafka: pass an in-process source (streaming.sources.RecordSource)"
        raise ValueError(msg)
    source = KafkaSource(
        [settings.kafka.bootstrap_servers],
        topics or list(settings.kafka.topics),
        tail=tail,
    )
    return cast("Source[Message]", source)


def decode_message(message: Message) -> Event | DeadLetter:
    """One message as its topic's event, or a dead letter saying why not."""
    key = message.key.decode("utf-8", "replace") if message.key is not None else None
    spec = TOPICS.get(message.topic or "")
    if spec is None:
        any_spec = next(iter(TOPICS.values()))
        letter = dead_letter(
            any_spec, message.value, "schema_violation", f"unknown topic {message.topic!r}", source="dataflow", key=key
        )
        return letter.model_copy(update={"topic": message.topic or "<none>"})
    result = decode_event(spec, message.value, source="dataflow", key=key)
    return result.event if isinstance(result, Decoded) else result


def decode(step_id: str, messages: Stream[Message]) -> tuple[Stream[Event], Stream[DeadLetter]]:
    """Split ``messages`` into valid events and dead letters."""
    decoded = op.map(f"{step_id}_parse", messages, decode_message)
    # decoded: Stream[Event | DeadLetter]
    split = op.branch(f"{step_id}_split", decoded, lambda item: isinstance(item, Event))
    return split.trues, split.falses  # type: ignore[return-value]


class _CallbackPartition(StatelessSinkPartition[Any]):
    def __init__(self, callback: Callable[[list[Any]], None]) -> None:
        self._callback = callback

    def write_batch(self, items: list[Any]) -> None:
        self._callback(items)


class CallbackSink(DynamicSink[Any]):
    """A sink that hands every batch to ``callback`` (in-process consumers, the demo, tests)."""

    def __init__(self, callback: Callable[[list[Any]], None]) -> None:
        self._callback = callback

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CallbackPartition:
        """One partition per worker, all calling the same callback."""
        return _CallbackPartition(self._callback)
