"""Synthetic social posts from one world view: a pure step function.

For each facility in the view, the number of posts of each kind is Poisson with a mean that
follows what is known: routine chatter scales with traffic, weather posts with the hazard's
severity, complaints with operational stress (cancellations or delays), incident posts with
injected incidents, and a trickle of false alarms comes from nowhere. A per facility-day
*attention* multiplier makes coverage uneven (some disruptions go nearly unmentioned), a share
of complaints is sarcastic (positive words, negative meaning) and a share of weather posts
enjoys the weather. Off-topic posts mention no facility.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import numpy as np

from chainwatch.schemas.events import SocialPost
from streaming.synthetic import phrases
from streaming.synthetic.config import TextSignalConfig
from streaming.synthetic.incidents import Incident
from streaming.synthetic.observer import FacilityView, WorldView
from streaming.synthetic.render import attention, delay_phrase, mention, pick, stamp
from streaming.synthetic.seeding import day_index, rng_for, tick_index

#: ``source`` of every synthetic post.
SOCIAL_SOURCE = "synthetic:social"
#: Departures per hour of a hub at ordinary traffic.
NORMAL_DEPARTURES = 15.0


def social_posts_at(
    view: WorldView, incidents: Mapping[str, Sequence[Incident]], config: TextSignalConfig
) -> list[SocialPost]:
    """Every synthetic post stamped within the tick of ``view``.

    Args:
        view: What is known at the tick.
        incidents: Injected incidents under way, by facility.
        config: Generator settings.

    Returns:
        Posts stamped in ``[view.at, view.at + tick)``, unsorted.
    """
    index = tick_index(view.at, config.tick)
    posts: list[SocialPost] = []
    for facility in view.facilities:
        rng = rng_for(config.seed, "social", facility.facility_id, index)
        texts = _facility_texts(facility, incidents.get(facility.facility_id, ()), rng, view.at, config)
        posts.extend(
            _post(rng, at=view.at, config=config, key=facility.facility_id, n=n, text=text)
            for n, text in enumerate(texts)
        )
    for k, flight in enumerate(view.overdue):
        rng = rng_for(config.seed, "social-diverted", flight.shipment_id)
        if rng.random() < config.overdue_report_probability:
            text = pick(rng, phrases.DIVERTED_POSTS).format(dest=flight.destination_id, tag=f"#{flight.origin_id}")
            ids = sorted({flight.origin_id, flight.destination_id})
            posts.append(
                _post(rng, at=view.at, config=config, key=flight.origin_id, n=f"d{k}", text=text, facility_ids=ids)
            )
    rng = rng_for(config.seed, "social-offtopic", index)
    for n in range(int(rng.poisson(config.offtopic_posts_per_hour * config.tick_hours))):
        posts.append(
            _post(
                rng,
                at=view.at,
                config=config,
                key="offtopic",
                n=n,
                text=pick(rng, phrases.OFFTOPIC_POSTS),
                facility_ids=[],
            )
        )
    return posts


def _facility_texts(
    facility: FacilityView,
    incidents: Sequence[Incident],
    rng: np.random.Generator,
    at: datetime,
    config: TextSignalConfig,
) -> list[str]:
    """The texts of one facility's posts at one tick, before formatting into posts."""
    fid, stats, hours = facility.facility_id, facility.stats, config.tick_hours
    gain = attention(config.seed, fid, day_index(at), config.attention_shape)
    hub = facility.hazard is not None or fid in phrases.ALIASES
    texts: list[str] = []

    def add(rate: float, templates: Sequence[str], **values: object) -> None:
        for _ in range(int(rng.poisson(max(rate, 0.0) * hours * gain))):
            texts.append(_fill(rng, pick(rng, templates), fid, **values))

    if hub:
        traffic = min(1.5, stats.departures / NORMAL_DEPARTURES)
        add(config.chatter_per_hour * (0.2 + traffic), phrases.CHATTER)
        hazard = facility.hazard
        if hazard is not None and hazard.kind != "clear":
            upbeat = config.weather_posts_per_hour * hazard.severity * config.upbeat_share
            add(upbeat, phrases.UPBEAT_WEATHER[hazard.kind])
            wind = round(hazard.wind_kmh)
            add(config.weather_posts_per_hour * hazard.severity - upbeat, phrases.WEATHER_POSTS[hazard.kind], wind=wind)
        stress = config.disruption_posts_per_hour * facility.ops_severity
        cancelled = min(1.0, stats.cancellations / 6)
        delay = delay_phrase(max(20.0, stats.mean_delay_min * float(rng.lognormal(0, 0.4))))
        add(stress * config.sarcasm_share, phrases.SARCASTIC_POSTS, delay=delay, n=stats.cancellations)
        honest = stress * (1 - config.sarcasm_share)
        add(honest * cancelled, phrases.CANCEL_POSTS, n=stats.cancellations)
        add(honest * (1 - cancelled), phrases.DELAY_POSTS, delay=delay)
        add(config.false_alarm_posts_per_hour, phrases.FALSE_ALARMS)
        for incident in incidents:
            add(config.incident_posts_per_hour, phrases.INCIDENT_POSTS[incident.kind])
    else:
        add(config.chatter_per_hour * 0.1 * min(1.0, stats.arrivals / 5), phrases.CHATTER)
        late = delay_phrase(max(20.0, stats.mean_arrival_delay_min * float(rng.lognormal(0, 0.4))))
        add(config.disruption_posts_per_hour * 0.3 * facility.arrival_severity, phrases.ARRIVAL_POSTS, delay=late)
    return texts


def _fill(rng: np.random.Generator, template: str, facility_id: str, **values: object) -> str:
    """A template with the facility's mention, hashtag and the given values filled in."""
    dest = pick(rng, [code for code in phrases.DESTINATIONS if code != facility_id])
    defaults: dict[str, object] = {"ap": mention(rng, facility_id), "tag": f"#{facility_id}", "dest": dest}
    defaults.update({"delay": "an hour", "n": 0, "temp": 0, "wind": 40})
    return template.format(**(defaults | values))


def _post(
    rng: np.random.Generator,
    *,
    at: datetime,
    config: TextSignalConfig,
    key: str,
    n: int | str,
    text: str,
    facility_ids: list[str] | None = None,
) -> SocialPost:
    """One validated post; ``facility_ids`` defaults to ``[key]``."""
    platform: Literal["x", "reddit"] = "reddit" if rng.random() < config.reddit_share else "x"
    return SocialPost(
        event_id=f"syn-social:{key}:{at:%Y%m%d%H%M}:{n}",
        source=SOCIAL_SOURCE,
        event_time=stamp(at, config.tick, rng),
        platform=platform,
        author=f"syn_user_{int(rng.integers(100_000)):05d}",
        text=text,
        facility_ids=[key] if facility_ids is None else facility_ids,
        language="en",
    )
