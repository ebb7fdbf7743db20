"""Exponential backoff between reconnection attempts, reset by a successful connection.

Written by hand rather than with tenacity because one backoff has to span attempts that fail
at different stages — the socket is refused, the CONNACK refuses, the connection drops right
after — which happen in different places of the bridge's loop, not inside one retried call;
and every wait must end at once when the bridge is asked to stop.
"""

from __future__ import annotations

import random

from chainwatch.errors import ConfigError


class Backoff:
    """Delays of ``initial_s``, doubling, plus up to ``jitter`` random share, never above ``max_s``.

    The first delay after :meth:`reset` (and initially) is 0, so one lost connection is
    retried at once and only repeated failures slow down.

    Args:
        initial_s: The delay after the first failed attempt.
        max_s: The longest delay.
        jitter: Random fraction added to each delay, so many clients do not retry in step.
        rng: Random source (tests pass a seeded one).
    """

    def __init__(
        self, initial_s: float, max_s: float, *, jitter: float = 0.2, rng: random.Random | None = None
    ) -> None:
        if not 0 < initial_s <= max_s:
            msg = f"backoff needs 0 < initial_s <= max_s, got {initial_s} and {max_s}"
            raise ConfigError(msg)
        self._initial = initial_s
        self._max = max_s
        self._jitter = jitter
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        failures = self._failures
        self._failures += 1
        if failures == 0:
            return 0.0
        base = self._initial * 2.0 ** min(failures - 1, 32)
        return min(self._max, base * (1 + self._jitter * self._rng.random()))

    def reset(self) -> None:
        """A connection succeeded: the next attempt goes at once again."""
        self._failures = 0
