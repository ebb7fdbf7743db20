"""The online heart of the text generators: rolling state over known facts, viewed at ticks.

:func:`observe` consumes facts in ``event_time`` order and, at every tick (a multiple of the
tick length since the Unix epoch), yields a :class:`WorldView` of what is known *at that
instant*: a fact is folded into the state before the first tick at or after its
``event_time``, and nothing else enters. So a view at tick ``t`` is a function of the facts
with ``event_time <= t`` alone; generators that stamp their items at ``t`` or later cannot
look ahead. A fact arriving out of order (older than a tick already viewed) is folded in when
it arrives — it became known late — and never changes a view already yielded.

Per facility the state holds departures (with their delays) and cancellations of the last
hour, arrivals of the last 90 minutes, the latest weather observation, open episodes, and
globally the flights in the air, so a flight that has not arrived 90 minutes after it was
due is reported overdue (most are diversions) at the moment that becomes known.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chainwatch.schemas.events import ShipmentEvent, WeatherObservation
from streaming.synthetic.conditions import (
    Episode,
    EpisodeKind,
    OpsStats,
    WeatherHazard,
    advance_episode,
    arrival_severity,
    assess_weather,
    episode_signals,
    ops_severity,
)
from streaming.synthetic.facts import Fact
from streaming.synthetic.seeding import tick_index, tick_start

#: Window of departures and cancellations behind each view.
DEPARTURE_WINDOW = timedelta(hours=1)
#: Window of arrivals behind each view.
ARRIVAL_WINDOW = timedelta(minutes=90)
#: A weather observation older than this is not current any more.
WEATHER_MAX_AGE = timedelta(hours=2)
#: How long after its expected arrival a flight in the air is reported overdue.
OVERDUE_AFTER = timedelta(minutes=90)
#: How long an episode survives without its keep-signal.
EPISODE_GRACE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class FacilityView:
    """What is known about one facility at one tick.

    Attributes:
        facility_id: The facility.
        hazard: The hazard of its latest weather observation, ``None`` if none is current.
        stats: Departure, cancellation and arrival statistics over the recent windows.
        ops_severity: Origin-side stress (see :func:`~conditions.ops_severity`).
        arrival_severity: Destination-side stress.
        episodes: Episodes open after this tick.
        ended: Episodes that ended at this tick.
    """

    facility_id: str
    hazard: WeatherHazard | None
    stats: OpsStats
    ops_severity: float
    arrival_severity: float
    episodes: tuple[Episode, ...]
    ended: tuple[Episode, ...]

    def episode(self, kind: EpisodeKind) -> Episode | None:
        """The open episode of ``kind``, if any.

        Args:
            kind: Episode kind.

        Returns:
            The episode or ``None``.
        """
        return next((episode for episode in self.episodes if episode.kind == kind), None)


@dataclass(frozen=True, slots=True)
class OverdueFlight:
    """A flight that departed and has not arrived well after it was expected.

    Attributes:
        shipment_id: The flight.
        origin_id: Where it left.
        destination_id: Where it was going.
        known_at: When it became overdue (expected arrival plus :data:`OVERDUE_AFTER`).
    """

    shipment_id: str
    origin_id: str
    destination_id: str
    known_at: datetime


@dataclass(frozen=True, slots=True)
class WorldView:
    """Everything known at one tick.

    Attributes:
        at: The tick.
        facilities: Views of every facility with something to say, sorted by id.
        overdue: Flights that became overdue since the previous tick.
    """

    at: datetime
    facilities: tuple[FacilityView, ...]
    overdue: tuple[OverdueFlight, ...]


@dataclass(slots=True)
class _Facility:
    departures: deque[tuple[datetime, float]] = field(default_factory=deque)
    cancellations: deque[datetime] = field(default_factory=deque)
    arrivals: deque[tuple[datetime, float]] = field(default_factory=deque)
    weather: tuple[datetime, WeatherHazard] | None = None
    episodes: dict[EpisodeKind, Episode] = field(default_factory=dict)


@dataclass(slots=True)
class FactState:
    """Rolling state over the facts seen so far (mutable; :func:`observe` owns one)."""

    tick: timedelta
    facilities: dict[str, _Facility] = field(default_factory=dict)
    in_flight: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    deadlines: list[tuple[datetime, str]] = field(default_factory=list)

    def ingest(self, fact: Fact) -> None:
        """Fold one fact into the state.

        Args:
            fact: A shipment step or weather observation; ``scheduled`` steps are ignored.
        """
        if isinstance(fact, WeatherObservation):
            facility = self._facility(fact.facility_id)
            if facility.weather is None or facility.weather[0] <= fact.event_time:  # a late, older one is stale
                facility.weather = (fact.event_time, assess_weather(fact))
        elif fact.event_type == "departed":
            self._departed(fact)
        elif fact.event_type == "arrived":
            self.in_flight.pop(fact.shipment_id, None)
            if fact.actual_arrival is not None:
                delay = (fact.actual_arrival - fact.scheduled_arrival).total_seconds() / 60
                self._facility(fact.destination_id).arrivals.append((fact.event_time, delay))
        elif fact.event_type == "cancelled":
            self._facility(fact.origin_id).cancellations.append(fact.event_time)

    def _departed(self, fact: ShipmentEvent) -> None:
        # Only the departure is used: a departed event carries no arrival (it is not known).
        departure = fact.actual_departure or fact.event_time
        delay = departure - fact.scheduled_departure
        self._facility(fact.origin_id).departures.append((fact.event_time, delay.total_seconds() / 60))
        deadline = fact.scheduled_arrival + max(delay, timedelta(0)) + OVERDUE_AFTER
        self.in_flight[fact.shipment_id] = (deadline, fact.origin_id, fact.destination_id)
        heapq.heappush(self.deadlines, (deadline, fact.shipment_id))

    def _facility(self, facility_id: str) -> _Facility:
        return self.facilities.setdefault(facility_id, _Facility())

    def view(self, at: datetime) -> WorldView:
        """What is known at ``at``; advances episodes, so call once per tick, in order.

        Args:
            at: The tick.

        Returns:
            The view.
        """
        overdue: list[OverdueFlight] = []
        while self.deadlines and self.deadlines[0][0] <= at:
            deadline, shipment = heapq.heappop(self.deadlines)
            flight = self.in_flight.get(shipment)
            if flight is not None and flight[0] == deadline:
                del self.in_flight[shipment]
                overdue.append(OverdueFlight(shipment, flight[1], flight[2], deadline))
        views = [self._view(facility_id, state, at) for facility_id, state in sorted(self.facilities.items())]
        return WorldView(at, tuple(view for view in views if view is not None), tuple(overdue))

    def _view(self, facility_id: str, state: _Facility, at: datetime) -> FacilityView | None:
        _prune(state.departures, at - DEPARTURE_WINDOW)
        _prune(state.arrivals, at - ARRIVAL_WINDOW)
        while state.cancellations and state.cancellations[0] <= at - DEPARTURE_WINDOW:
            state.cancellations.popleft()
        hazard = state.weather[1] if state.weather and at - state.weather[0] <= WEATHER_MAX_AGE else None
        if not (hazard or state.departures or state.cancellations or state.arrivals or state.episodes):
            return None
        stats = _stats(state, at)
        grace = max(1, EPISODE_GRACE // self.tick)
        ended: list[Episode] = []
        for kind, signal in episode_signals(hazard, stats).items():
            episode, gone = advance_episode(
                state.episodes.get(kind), kind, signal, at, grace_ticks=grace, tick_seconds=self.tick.total_seconds()
            )
            if episode is None:
                state.episodes.pop(kind, None)
            else:
                state.episodes[kind] = episode
            if gone is not None:
                ended.append(gone)
        return FacilityView(
            facility_id=facility_id,
            hazard=hazard,
            stats=stats,
            ops_severity=ops_severity(stats),
            arrival_severity=arrival_severity(stats),
            episodes=tuple(state.episodes.values()),
            ended=tuple(ended),
        )


def _prune(window: deque[tuple[datetime, float]], before: datetime) -> None:
    """Drop the leading entries at or before ``before`` (to bound memory)."""
    while window and window[0][0] <= before:
        window.popleft()


def _stats(state: _Facility, at: datetime) -> OpsStats:
    # Filtered by time as well as pruned: a late fact may sit behind newer ones in a window.
    delays = [delay for when, delay in state.departures if when > at - DEPARTURE_WINDOW]
    arrivals = [delay for when, delay in state.arrivals if when > at - ARRIVAL_WINDOW]
    return OpsStats(
        departures=len(delays),
        mean_delay_min=sum(delays) / len(delays) if delays else 0.0,
        late_share=sum(delay >= 60 for delay in delays) / len(delays) if delays else 0.0,
        cancellations=sum(when > at - DEPARTURE_WINDOW for when in state.cancellations),
        arrivals=len(arrivals),
        mean_arrival_delay_min=sum(arrivals) / len(arrivals) if arrivals else 0.0,
    )


def observe(facts: Iterable[Fact], *, tick: timedelta, until: datetime | None = None) -> Iterator[WorldView]:
    """Views at every tick from the first fact's tick to the last fact (or ``until``).

    Args:
        facts: Known facts in ``event_time`` order.
        tick: Tick length (whole seconds).
        until: Keep viewing, after the facts end, up to this instant (inclusive); by default
            views end at the last fact.

    Yields:
        One :class:`WorldView` per tick, each built only from facts with
        ``event_time <= view.at``.
    """
    state = FactState(tick)
    upcoming: int | None = None  # index of the next tick to view
    last: datetime | None = None
    for fact in facts:
        at = fact.event_time
        if upcoming is None:
            upcoming = tick_index(at, tick)
            if tick_start(upcoming, tick) < at:
                upcoming += 1  # the first view is the first tick at or after the first fact
        while tick_start(upcoming, tick) < at:
            yield state.view(tick_start(upcoming, tick))
            upcoming += 1
        state.ingest(fact)
        last = at if last is None else max(last, at)
    end = until if until is not None else last
    if upcoming is None and end is not None:
        upcoming = tick_index(end, tick)
    while upcoming is not None and end is not None and tick_start(upcoming, tick) <= end:
        yield state.view(tick_start(upcoming, tick))
        upcoming += 1
