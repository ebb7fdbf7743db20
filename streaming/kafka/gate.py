"""The validation gate every untrusted input passes before it reaches a topic.

Stateless checks (encoding, JSON, schema, NaN/inf, size) come from
:func:`chainwatch.schemas.decode.decode_event`; the gate adds the checks that need state or a
clock: entities that do not exist, timestamps too far in the future, and duplicate event ids.
Every input comes out either as a valid event or as a dead letter with its reason.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chainwatch.schemas.decode import Decoded, dead_letter, decode_event
from chainwatch.schemas.events import DeadLetter, DeadLetterReason, Event
from chainwatch.schemas.topics import TopicSpec

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class KnownEntities:
    """The entity ids events may refer to; ``None`` means that kind is not checked."""

    facilities: frozenset[str] | None = None
    carriers: frozenset[str] | None = None
    vehicles: frozenset[str] | None = None

    def unknown(self, event: Event) -> str | None:
        """A description of the first unknown entity ``event`` refers to, or ``None``."""
        # Only read the fields of kinds that are checked: a missing attribute on a pydantic
        # model costs an exception, and most topics carry one or two of these kinds.
        if self.facilities is not None:
            for ref in _facility_refs(event):
                if ref is not None and ref not in self.facilities:
                    return f"unknown facility {ref!r}"
        for kind, known in (("carrier", self.carriers), ("vehicle", self.vehicles)):
            if known is not None:
                ref = getattr(event, f"{kind}_id", None)
                if ref is not None and ref not in known:
                    return f"unknown {kind} {ref!r}"
        return None


def _facility_refs(event: Event) -> list[str | None]:
    refs: list[str | None] = [getattr(event, name, None) for name in ("facility_id", "origin_id", "destination_id")]
    refs.extend(getattr(event, "facility_ids", ()))
    return refs


class _SeenIds:
    """A bounded set of recently seen event ids (least recently seen forgotten first)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """Remember ``event_id``; ``False`` when it was already there."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


class EventGate:
    """Decode and check inputs for one topic, keeping the state duplicate detection needs.

    Args:
        spec: The topic the inputs are meant for.
        source: Who delivers them (recorded on dead letters), e.g. ``mqtt-bridge``.
        known: Entity ids that exist; unknown ones are dead letters.
        max_future: How far past ``clock()`` an event time may lie before it is refused.
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
        self.spec = spec
        self.source = source
        self._known = known or KnownEntities()
        self._max_future = max_future
        self._seen = _SeenIds(dedup_capacity)
        self._clock = clock

    def check_bytes(self, payload: bytes, *, key: str | None = None) -> Decoded | DeadLetter:
        """Decode ``payload`` and run every check; the first failure names the reason."""
        result = decode_event(self.spec, payload, source=self.source, key=key, now=self._clock())
        if isinstance(result, DeadLetter):
            return result
        problem = self.check_event(result.event)
        if problem is None:
            return result
        reason, detail = problem
        return dead_letter(self.spec, payload, reason, detail, source=self.source, key=key, now=self._clock())

    def check_event(self, event: Event) -> tuple[DeadLetterReason, str] | None:
        """The stateful checks alone: ``(reason, detail)`` of the first failure, or ``None``.

        A passing event's id is remembered, so the same id later is a duplicate.
        """
        unknown = self._known.unknown(event)
        if unknown:
            return "unknown_entity", unknown
        limit = self._clock() + self._max_future
        if event.event_time > limit:
            return "future_timestamp", f"event_time {event.event_time.isoformat()} is after {limit.isoformat()}"
        if not self._seen.add(event.event_id):
            return "duplicate", f"event_id {event.event_id!r} was already accepted"
        return None
