"""Route inputs through the gate: valid events to their topic, everything else to ``<topic>.dlq``.

Nothing is dropped: a dead letter carries the original bytes and the reason, is keyed like
the input, and is counted in ``chainwatch_dead_letters_total{topic,reason}``.
"""

from __future__ import annotations

import logging

from chainwatch.schemas.decode import Decoded, dead_letter
from chainwatch.schemas.events import DeadLetter, Event
from streaming.kafka.gate import EventGate
from streaming.kafka.producer import DeliveryCallback, EventProducer
from streaming.metrics import DEAD_LETTERS

logger = logging.getLogger(__name__)


class GatedProducer:
    """Produce what passes ``gate`` to its topic and what fails to the dead-letter topic.

    Args:
        producer: The Kafka producer both kinds of message go through.
        gate: The topic's validation gate.
    """

    def __init__(self, producer: EventProducer, gate: EventGate) -> None:
        self.producer = producer
        self.gate = gate

    def submit_bytes(
        self, payload: bytes, *, key: str | None = None, on_delivery: DeliveryCallback | None = None
    ) -> Decoded | DeadLetter:
        """Check raw bytes and produce them (re-serialised, normalised to UTC) or their dead letter."""
        result = self.gate.check_bytes(payload, key=key)
        if isinstance(result, DeadLetter):
            self._send_dead_letter(result, on_delivery)
        else:
            self.producer.send(self.gate.spec, result.event, on_delivery=on_delivery)
        return result

    def submit_event(self, event: Event, *, on_delivery: DeliveryCallback | None = None) -> DeadLetter | None:
        """Check an already-parsed event (live adapters) and produce it or its dead letter."""
        problem = self.gate.check_event(event)
        if problem is None:
            self.producer.send(self.gate.spec, event, on_delivery=on_delivery)
            return None
        reason, detail = problem
        letter = dead_letter(
            self.gate.spec,
            event.model_dump_json().encode(),
            reason,
            detail,
            source=self.gate.source,
            key=self.gate.spec.key_of(event),
        )
        self._send_dead_letter(letter, on_delivery)
        return letter

    def _send_dead_letter(self, letter: DeadLetter, on_delivery: DeliveryCallback | None) -> None:
        DEAD_LETTERS.labels(letter.topic, letter.reason).inc()
        logger.info("dead letter for %s (%s): %s", letter.topic, letter.reason, letter.detail[:200])
        self.producer.send_raw(
            self.gate.spec.dlq, letter.key, letter.model_dump_json().encode(), on_delivery=on_delivery
        )
