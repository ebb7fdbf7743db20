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

Telemetry refers to one kind of entity, its vehicle, so :class:`VehicleEntities` checks only
that. It answers like :class:`~streaming.kafka.gate.KnownEntities` for telemetry without
probing the facility and carrier fields telemetry does not have: each probe of a missing field
is a pydantic ``__getattr__`` miss that raises ``AttributeError``, and the five of them cost
15-25 us per message, up to a fifth of the bridge's CPU (measured with ``benchmarks/bench_bridge.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chainwatch.schemas.decode import MAX_PAYLOAD_BYTES, Decoded, dead_letter, decode_event
from chainwatch.schemas.events import DeadLetter, DeadLetterReason, Event
from chainwatch.schemas.topics import TopicSpec
from streaming.kafka.gate import Clock, EventGate, KnownEntities


class VehicleEntities(KnownEntities):
    """:class:`KnownEntities` for telemetry: only the vehicle is an entity reference."""

    __slots__ = ()

    @classmethod
    def of(cls, known: KnownEntities | None) -> VehicleEntities:
        """The vehicle check of ``known`` (``None``: nothing is checked)."""
        return cls(vehicles=known.vehicles if known is not None else None)

    def unknown(self, event: Event) -> str | None:
        """``"unknown vehicle 'X'"`` when ``event``'s vehicle is not a known one, else ``None``."""
        if self.vehicles is None:
            return None
        vehicle = getattr(event, "vehicle_id", None)
        if vehicle is not None and vehicle not in self.vehicles:
            return f"unknown vehicle {vehicle!r}"
        return None


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
        known: Entity ids that exist; a reading of an unknown vehicle is a dead letter
            (``unknown_entity``). Telemetry refers to no facility or carrier.
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
            spec,
            source=source,
            known=VehicleEntities.of(known),
            max_future=max_future,
            dedup_capacity=dedup_capacity,
            clock=clock,
        )

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
            return dead_letter(self.spec, head, "oversize", detail, source=self.source, key=key, now=self._clock())
        result = decode_event(self.spec, payload, source=self.source, key=key, now=self._clock())
        if isinstance(result, DeadLetter):
            return result
        problem = topic_mismatch(result.event, key) or self.check_event(result.event)
        if problem is None:
            return result
        reason, detail = problem
        return dead_letter(self.spec, payload, reason, detail, source=self.source, key=key, now=self._clock())
