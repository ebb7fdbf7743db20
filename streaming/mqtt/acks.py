"""Which MQTT messages may be acknowledged: those Kafka confirmed, in the order they arrived.

The bridge acknowledges an MQTT QoS 1 message (sends its PUBACK) only after Kafka confirmed
the delivery of what the message became (the event, or its dead letter). MQTT asks a receiver
to send PUBACKs in the order the PUBLISH packets arrived (MQTT 3.1.1 and 5.0, section 4.6), so
a confirmed message waits for every earlier one: :meth:`AckLedger.ackable` releases the
longest confirmed run at the head of the queue and stops at the first message still in
flight or failed. A failed delivery is never acknowledged; the bridge then drops the
connection so the broker redelivers everything unacknowledged to the resumed session.

Packet ids are only meaningful on the connection they arrived on: after a reconnect the
broker resends unacknowledged messages and reuses ids, so entries of an earlier connection
are forgotten and their late delivery reports acknowledge nothing (at worst the resent copy
is a duplicate, which the gate catches).

The ledger is deliberately not thread-safe: the bridge's loop thread is its only user, and
delivery reports reach it inside that thread's ``producer.poll()``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(slots=True, eq=False)
class Inflight:
    """One MQTT message between its arrival and Kafka's delivery report.

    Attributes:
        mid: Its MQTT packet id.
        connection: The connection (generation) it arrived on.
        delivered: ``None`` while in flight, then whether Kafka confirmed it.
    """

    mid: int
    connection: int
    delivered: bool | None = None


class AckLedger:
    """Arrival-ordered MQTT packet ids waiting for Kafka, released for PUBACK in order."""

    def __init__(self) -> None:
        self._queue: deque[Inflight] = deque()
        self._connection = 0
        self._failed = False

    @property
    def connection(self) -> int:
        """The current connection's generation (0 before the first)."""
        return self._connection

    @property
    def failed(self) -> bool:
        """Whether a delivery of a message of the current connection failed."""
        return self._failed

    def __len__(self) -> int:
        """Messages of the current connection not yet released for acknowledgement."""
        return len(self._queue)

    def new_connection(self) -> int:
        """Start a new connection's bookkeeping and forget the previous one's.

        Returns:
            How many messages of the previous connection were never acknowledged (the broker
            redelivers them to the resumed session).
        """
        abandoned = len(self._queue)
        self._queue.clear()
        self._connection += 1
        self._failed = False
        return abandoned

    def received(self, mid: int) -> Inflight:
        """Record a message that just arrived; settle the returned entry with its delivery report."""
        entry = Inflight(mid, self._connection)
        self._queue.append(entry)
        return entry

    def settle(self, entry: Inflight, *, delivered: bool) -> None:
        """Record Kafka's delivery report of ``entry``'s message."""
        entry.delivered = delivered
        if not delivered and entry.connection == self._connection:
            self._failed = True

    def ackable(self) -> list[int]:
        """Remove and return, in arrival order, the packet ids that may be acknowledged now.

        Stops at the first message still in flight or whose delivery failed.
        """
        ready: list[int] = []
        queue = self._queue
        while queue and queue[0].delivered:
            ready.append(queue.popleft().mid)
        return ready
