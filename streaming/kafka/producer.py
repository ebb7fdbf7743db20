"""A keyed, idempotent, compressed Kafka producer whose deliveries are all accounted for.

Every message is keyed by its entity (so one entity stays in one partition and in order),
the producer is idempotent with ``acks=all`` (a broker restart neither loses nor duplicates
an acknowledged event; librdkafka retries until ``delivery.timeout.ms``), and every delivery
report is checked: :meth:`EventProducer.flush` raises :class:`DeliveryError` if any message
was not acknowledged, so a failure is reported, never ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from chainwatch.errors import DependencyUnavailableError
from chainwatch.schemas.events import Event
from chainwatch.schemas.topics import TopicSpec
from chainwatch.settings import KafkaSettings
from streaming.metrics import DELIVERY_FAILURES, EVENTS_DELIVERED, EVENTS_PRODUCED, LAST_EVENT_TIME

logger = logging.getLogger(__name__)

#: Called once per message with ``None`` on success or the error.
DeliveryCallback = Callable[[KafkaError | None, Message], None]

DEFAULT_CONFIG: Mapping[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 1_048_576,
    "delivery.timeout.ms": 300_000,
    "retry.backoff.ms": 200,
    "retry.backoff.max.ms": 2_000,
}


class DeliveryError(DependencyUnavailableError):
    """Some messages were not acknowledged by Kafka after the producer's retries."""


@dataclass
class DeliveryReport:
    """Counts of delivery reports received so far, and the first few errors."""

    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no delivery failed."""
        return self.failed == 0


class EventProducer:
    """Produce validated events (or raw bytes) to Kafka, keyed, with every delivery checked.

    Args:
        settings: Kafka settings (bootstrap servers).
        client_id: Client id shown in broker logs and metrics.
        config: librdkafka settings that override :data:`DEFAULT_CONFIG`.
    """

    def __init__(self, settings: KafkaSettings, *, client_id: str, config: Mapping[str, Any] | None = None) -> None:
        self._config = {
            **DEFAULT_CONFIG,
            "bootstrap.servers": settings.bootstrap_servers,
            "client.id": client_id,
            **(config or {}),
        }
        self._producer = Producer(self._config)
        self.report = DeliveryReport()
        self._callbacks: dict[str, DeliveryCallback] = {}

    def send(self, spec: TopicSpec, event: Event, *, on_delivery: DeliveryCallback | None = None) -> None:
        """Serialise ``event`` and produce it to ``spec``'s topic, keyed by its entity."""
        self.send_raw(spec.name, spec.key_of(event), event.model_dump_json().encode(), on_delivery=on_delivery)
        LAST_EVENT_TIME.labels(spec.name).set(event.event_time.timestamp())

    def send_raw(
        self, topic: str, key: str | bytes | None, payload: bytes, *, on_delivery: DeliveryCallback | None = None
    ) -> None:
        """Produce already-serialised bytes; waits for queue space instead of failing when full."""
        callback = self._tracked(topic, on_delivery)
        while True:
            try:
                self._producer.produce(topic, payload, key, on_delivery=callback)
                break
            except BufferError:
                self._producer.poll(0.05)  # queue full: serve delivery reports to make room
        self._produced(topic).inc()

    def send_many(self, topic: str, records: list[tuple[bytes | str | None, bytes]]) -> None:
        """Produce a batch of ``(key, payload)`` to one topic (the replay's fast path)."""
        callback = self._tracked(topic, None)
        produce = self._producer.produce
        poll = self._producer.poll
        for key, payload in records:
            while True:
                try:
                    produce(topic, payload, key, on_delivery=callback)
                    break
                except BufferError:
                    poll(0.05)
        self._produced(topic).inc(len(records))
        poll(0)

    def poll(self, timeout_s: float = 0.0) -> int:
        """Serve delivery callbacks; returns how many were served."""
        return int(self._producer.poll(timeout_s))

    def flush(self, timeout_s: float = 60.0) -> DeliveryReport:
        """Wait until every message is acknowledged or failed.

        Raises:
            DeliveryError: A message failed, or some were still in flight at the timeout.
        """
        remaining = self._producer.flush(timeout_s)
        if remaining:
            msg = f"{remaining} messages still unacknowledged after {timeout_s:.0f}s"
            raise DeliveryError(msg)
        if self.report.failed:
            msg = f"{self.report.failed} messages failed delivery; first errors: {self.report.errors}"
            raise DeliveryError(msg)
        return self.report

    def in_flight(self) -> int:
        """Messages queued or in flight, not yet acknowledged."""
        return len(self._producer)

    def _produced(self, topic: str) -> Any:
        return EVENTS_PRODUCED.labels(topic)

    def _tracked(self, topic: str, extra: DeliveryCallback | None) -> DeliveryCallback:
        """The delivery callback for ``topic``: cached per topic unless ``extra`` is chained."""
        if extra is None and topic in self._callbacks:
            return self._callbacks[topic]
        callback = self._new_callback(topic, extra)
        if extra is None:
            self._callbacks[topic] = callback
        return callback

    def _new_callback(self, topic: str, extra: DeliveryCallback | None) -> DeliveryCallback:
        report = self.report
        delivered = EVENTS_DELIVERED.labels(topic)
        failed = DELIVERY_FAILURES.labels(topic)

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                report.delivered += 1
                delivered.inc()
            else:
                report.failed += 1
                failed.inc()
                if len(report.errors) < 5:
                    report.errors.append(f"{topic}: {err}")
                logger.error("delivery to %s failed: %s", topic, err)
            if extra is not None:
                extra(err, msg)

        return on_delivery
