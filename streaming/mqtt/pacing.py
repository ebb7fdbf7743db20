"""How fast a publisher sends: as fast as it can, a fixed rate, or a multiple of event time.

A pacer answers one question per event: how many seconds to wait before sending it. It is
pure (the caller passes the monotonic clock's reading), so pacing is tested without sleeping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chainwatch.errors import ConfigError
from chainwatch.schemas.events import Event


class Pacer(Protocol):
    """Decides when each event is due."""

    def delay_s(self, event: Event, now: float) -> float:
        """Seconds to wait before sending ``event`` (0 when due), given the monotonic ``now``."""
        ...


class RatePacer:
    """A fixed number of events per second, on a schedule anchored at the first event.

    Falling behind is not made up with a burst beyond the schedule: event ``i`` is due at
    ``start + i / rate``, and a late event is sent at once.

    Args:
        events_per_s: Target rate (> 0).
    """

    def __init__(self, events_per_s: float) -> None:
        if events_per_s <= 0:
            msg = f"events per second must be positive, got {events_per_s}"
            raise ConfigError(msg)
        self._interval = 1.0 / events_per_s
        self._start: float | None = None
        self._count = 0

    def delay_s(self, event: Event, now: float) -> float:
        """Seconds until the next slot of the schedule."""
        if self._start is None:
            self._start = now
        due = self._start + self._count * self._interval
        self._count += 1
        return max(0.0, due - now)


class EventTimePacer:
    """Event time replayed at ``speed`` times real time (3600: an hour of readings per second).

    The first event anchors event time to the clock; event ``e`` is due at
    ``start + (e.event_time - first.event_time) / speed``. Events are expected in event-time
    order; an earlier one is sent at once.

    Args:
        speed: Event-time seconds per wall second (> 0).
    """

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            msg = f"speed must be positive, got {speed}"
            raise ConfigError(msg)
        self._speed = speed
        self._anchor: tuple[float, datetime] | None = None

    def delay_s(self, event: Event, now: float) -> float:
        """Seconds until ``event``'s event time comes round at this speed."""
        if self._anchor is None:
            self._anchor = (now, event.event_time)
        start, origin = self._anchor
        due = start + (event.event_time - origin).total_seconds() / self._speed
        return max(0.0, due - now)
