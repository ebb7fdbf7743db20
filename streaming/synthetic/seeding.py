"""Seeded randomness keyed by what a choice is about, never by how far a stream has run.

Every random draw of the synthetic generators comes from a fresh :class:`numpy.random.Generator`
whose seed words are the configured seed plus a key naming the decision, e.g.
``("social", "JFK", 1_360_000)`` for the social posts of one facility at one tick. So an
item depends only on the seed and on its key, not on the order in which items were asked for,
on how much of a stream was consumed, or on what other facilities did.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=65_536)  # the same few facility and stream names are hashed at every tick
def stable_int(text: str) -> int:
    """A 64-bit integer of ``text`` that is the same in every process (unlike ``hash``).

    Args:
        text: Any string, e.g. a facility or shipment id.

    Returns:
        A non-negative integer below 2**64.
    """
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def rng_for(seed: int, *key: str | int) -> np.random.Generator:
    """A generator seeded by ``seed`` and a key naming the decision it serves.

    Args:
        seed: The configured, non-negative seed.
        *key: Parts of the key: strings are hashed with :func:`stable_int`; integers must be
            non-negative.

    Returns:
        A fresh PCG64 generator; the same arguments always give the same draws.
    """
    words = [seed, *(part if isinstance(part, int) else stable_int(part) for part in key)]
    return np.random.default_rng(np.random.SeedSequence(words))


def tick_index(at: datetime, tick: timedelta) -> int:
    """The number of whole ticks between the Unix epoch and ``at``.

    Ticks are aligned to the epoch, so a tick's index does not depend on where a stream starts.

    Args:
        at: A timezone-aware instant after 1970.
        tick: The tick length (a whole number of seconds).

    Returns:
        ``floor((at - epoch) / tick)``.
    """
    return (at - _EPOCH) // tick


def tick_start(index: int, tick: timedelta) -> datetime:
    """The UTC instant at which tick ``index`` begins (inverse of :func:`tick_index`).

    Args:
        index: A tick index.
        tick: The tick length.

    Returns:
        ``epoch + index * tick``.
    """
    return _EPOCH + index * tick


def day_index(at: datetime) -> int:
    """The number of whole UTC days between the Unix epoch and ``at``.

    Args:
        at: A timezone-aware instant after 1970.

    Returns:
        The UTC day number.
    """
    return (at - _EPOCH) // timedelta(days=1)
