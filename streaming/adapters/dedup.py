"""A bounded, expiring set of event ids: the memory that makes polling idempotent.

Polls overlap on purpose (a feed lists the same articles for hours; a cursor boundary is
inclusive), so the poller asks this set before emitting. It is bounded two ways: by count
(least recently used ids go first) and by time (an id not seen for ``ttl_s`` is forgotten).
Together with the poller's maximum event age (shorter than the TTL) no event is emitted twice
while the process lives. Built on ``cachetools.TTLCache`` (already in the lock) plus a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache


class SeenIds:
    """Ids seen recently, with LRU eviction past ``max_size`` and expiry after ``ttl_s``.

    Thread-safe, so pollers in different threads may share one.
    """

    def __init__(
        self, max_size: int = 100_000, ttl_s: float = 3 * 86_400.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1 or ttl_s <= 0:
            msg = f"max_size must be >= 1 and ttl_s > 0 (got {max_size}, {ttl_s})"
            raise ValueError(msg)
        self._ids: TTLCache[str, bool] = TTLCache(maxsize=max_size, ttl=ttl_s, timer=clock)
        self._lock = threading.Lock()

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` is remembered; a hit counts as seeing it again (restarts its TTL).

        Args:
            event_id: A stable event id.

        Returns:
            True if it was added before and has neither expired nor been evicted.
        """
        with self._lock:
            if event_id not in self._ids:
                return False
            # Still listed upstream, so keep remembering it.
            self._ids[event_id] = True
            return True

    def add(self, event_id: str) -> None:
        """Remember ``event_id`` as seen now, evicting the least recently used past the bound."""
        with self._lock:
            self._ids[event_id] = True

    def __len__(self) -> int:
        """The number of ids remembered."""
        with self._lock:
            self._ids.expire()
            return len(self._ids)
