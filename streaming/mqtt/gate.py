"""The validation gate of telemetry that arrives on per-vehicle MQTT topics.

It is the project's :class:`~streaming.kafka.gate.EventGate` with one more rule and one
safeguard, and the message key is the vehicle named by the MQTT topic:

1. **oversize** first, and the dead letter keeps only the first ``MAX_PAYLOAD_BYTES`` of the
   payload, so its envelope always fits in a Kafka message (a 10 MB MQTT message would
   otherwise make an undeliverable dead letter that the broker redelivers forever);
2. the stateless decode (encoding, JSON, schema, NaN/inf);
3. **the topic rule**: the payload's ``vehicle_id`` must be the topic's vehicle, else a
   ``schema_violation`` dead letter — before the stateful checks, so a message on the wrong
   topic does not claim its event id and make the genuine reading a "duplicate";
4. the stateful checks (unknown entities, future timestamps, duplicate event ids).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES, Decoded, dead_letter, decode_event
from chainwatch.schemas.events import DeadLetter, DeadLetterReason, Event
from chainwatch.schemas.topics import TopicSpec
from streaming.kafka.gate import Clock, EventGate, KnownEntities


def topic_mismatch(event: Event, topic_vehicle: str | None) -> tuple[DeadLetterReason, str] | None:
    """Why ``event`` may not have come from the topic of ``topic_vehicle``, or ``None`` if it may.

    Args:
        event: A decoded telemetry event.
        topic_vehicle: The vehicle level of the MQTT topic it arrived on (``None``: none).

    Returns:
        ``("schema_violation", detail)`` when the topic names no vehicle or another vehicle.
    """
    if topic_vehicle is None:
        return "schema_violation", "message arrived on no per-vehicle topic ('<prefix>/<vehicle_id>' expected)"
    vehicle = getattr(event, "vehicle_id", None)
    if vehicle != topic_vehicle:
        return "schema_violation", f"vehicle_id {vehicle!r} does not match vehicle {topic_vehicle!r} of its MQTT topic"
    return None


class VehicleTopicGate(EventGate):
    """An :class:`EventGate` whose ``key`` is the vehicle of the MQTT topic a message came on.

    Args:
        spec: The topic the events are meant for (its model must have ``vehicle_id``).
        source: Recorded on dead letters, e.g. ``mqtt-bridge``.
        known: Entity ids that exist; unknown ones are dead letters (``unknown_entity``).
        max_future: How far past the clock an event time may lie.
        dedup_capacity: How many recent event ids are remembered for duplicate detection.
        clock: Wall clock (tests pass a fixed one).
    """

    def __init__(
        self,
        spec: TopicSpec,
        *,
        source: str,
        known: KnownEntities | None = None,
        max_future: timedelta = timedelta(minutes=15),
        dedup_capacity: int = 1_000_000,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            spec, source=source, known=known, max_future=max_future, dedup_capacity=dedup_capacity, clock=clock
        )
        self._now = clock

    def check_bytes(self, payload: bytes, *, key: str | None = None) -> Decoded | DeadLetter:
        """Run every check on ``payload`` that arrived on the topic of vehicle ``key``.

        Args:
            payload: The MQTT message payload.
            key: The vehicle level of the MQTT topic (``None`` when the topic has none).

        Returns:
            The decoded event, or the dead letter of the first failed check.
        """
        if len(payload) > MAX_PAYLOAD_BYTES:
            detail = f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}; only its first bytes are kept"
            head = payload[:MAX_PAYLOAD_BYTES]
            return dead_letter(self.spec, head, "oversize", detail, source=self.source, key=key, now=self._now())
        result = decode_event(self.spec, payload, source=self.source, key=key, now=self._now())
        if isinstance(result, DeadLetter):
            return result
        problem = topic_mismatch(result.event, key) or self.check_event(result.event)
        if problem is None:
            return result
        reason, detail = problem
        return dead_letter(self.spec, payload, reason, detail, source=self.source, key=key, now=self._now())
