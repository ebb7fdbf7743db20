"""What every adapter is: ``fetch(cursor) -> Batch``, and the values that cross that seam.

An adapter is stateless between polls: the :class:`~streaming.adapters.poller.Poller` keeps
the :class:`Cursor` and commits it only after the sink took the batch's events, so a failed
sink means the same events are fetched again (and the dedup set stops them from being
emitted twice once they were).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from chainwatch.errors import ChainwatchError
from chainwatch.schemas.events import Event

E = TypeVar("E", bound=Event)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock of adapters and pollers)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where an adapter's next poll starts.

    Attributes:
        since_id: Newest upstream id delivered (X's ``since_id``); ``None`` before the first.
        newest: Newest event time delivered (GDELT's ``startdatetime``), never in the future.
    """

    since_id: str | None = None
    newest: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[E]):
    """What a ``parse_*`` function read from one response body.

    Attributes:
        events: Validated events, in body order.
        failures: One :class:`~streaming.adapters.errors.MalformedResponseError` per item
            that could not be read; the rest of the body still counts.
        next_token: Token of the next page, if the API paginates and there is one.
        newest_id: Newest upstream id on the page, if the API has ordered ids (X).
    """

    events: Sequence[E]
    failures: Sequence[ChainwatchError] = ()
    next_token: str | None = None
    newest_id: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """What one poll of an adapter produced.

    Attributes:
        events: Validated events (possibly ones delivered before: the poller dedups).
        since_id: New upstream id high-water mark, if the API has one.
        failures: Problems that did not stop the poll (one facility's request, one bad item).
    """

    events: Sequence[Event] = ()
    since_id: str | None = None
    failures: Sequence[ChainwatchError] = field(default_factory=tuple)


class Adapter(Protocol):
    """A live source: one upstream API turned into validated events."""

    @property
    def name(self) -> str:
        """Short name used as the ``adapter`` metric label and in logs, e.g. ``x``."""
        ...

    @property
    def topic(self) -> str:
        """The Kafka topic its events belong on (and whose ``.dlq`` takes its bad input)."""
        ...

    def fetch(self, cursor: Cursor) -> Batch:
        """Poll the API once from ``cursor``.

        Args:
            cursor: Where the previous successful poll ended.

        Returns:
            The events found, the new ``since_id`` (if any) and non-fatal failures.

        Raises:
            ChainwatchError: The poll failed as a whole (unreachable, rejected, malformed).
        """
        ...
