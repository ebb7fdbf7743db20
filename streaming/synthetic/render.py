"""Small pure helpers shared by the post and article writers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

import numpy as np

from streaming.synthetic.phrases import ALIASES
from streaming.synthetic.seeding import rng_for

T = TypeVar("T")


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of ``options``, uniformly.

    Args:
        rng: The generator to draw from.
        options: A non-empty sequence.

    Returns:
        The chosen element.
    """
    return options[int(rng.integers(len(options)))]


def stamp(at: datetime, tick: timedelta, rng: np.random.Generator) -> datetime:
    """A publication instant within the tick that starts at ``at`` (never before it).

    Items of a tick stay inside ``[at, at + tick)``, so a stream sorted within each tick is
    sorted overall, and an item is never stamped before the facts it was made from.

    Args:
        at: The tick.
        tick: Tick length.
        rng: The generator to draw from.

    Returns:
        ``at`` plus a whole number of seconds below the tick length.
    """
    return at + timedelta(seconds=int(rng.integers(int(tick.total_seconds()))))


def mention(rng: np.random.Generator, facility_id: str) -> str:
    """How a person names a facility in a post (an alias for the hubs, else its code).

    Args:
        rng: The generator to draw from.
        facility_id: The facility.

    Returns:
        The name used.
    """
    aliases = ALIASES.get(facility_id)
    return pick(rng, aliases) if aliases else pick(rng, (facility_id, f"{facility_id} airport"))


def delay_phrase(minutes: float) -> str:
    """A delay as a person writes it: ``40 min``, ``1.5 hours``, ``3 hours``.

    Args:
        minutes: The delay.

    Returns:
        The phrase.
    """
    if minutes < 75:
        return f"{max(5, round(minutes / 5) * 5)} min"
    hours = round(minutes / 30) / 2
    return f"{hours:g} hours"


@lru_cache(maxsize=8192)  # pure in its arguments; asked for at every tick of a day
def attention(seed: int, facility_id: str, day: int, shape: float) -> float:
    """How much people post about a facility on a day: a Gamma multiplier with mean 1.

    Over-dispersion makes some disruptions loud and others nearly silent (misses).

    Args:
        seed: Generator seed.
        facility_id: The facility.
        day: UTC day number.
        shape: Gamma shape (smaller is burstier).

    Returns:
        A positive multiplier.
    """
    return float(rng_for(seed, "attention", facility_id, day).gamma(shape, 1 / shape))


def slug(text: str, limit: int = 60) -> str:
    """A URL path segment of ``text``: lower case, ASCII letters and digits, hyphens.

    Args:
        text: A title.
        limit: Longest result.

    Returns:
        The slug (``item`` when nothing is left).
    """
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].rstrip("-") or "item"
