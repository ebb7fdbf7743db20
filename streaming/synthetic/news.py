"""Synthetic news articles from one world view: a pure step function.

Articles follow *episodes* (see :mod:`streaming.synthetic.conditions`), not ticks: an episode
is reported at all with ``report_probability`` and, if so, first after a seeded lag from its
start (a short episode may end before anyone writes about it), then with follow-ups every
``followup_hours`` while it lasts, and perhaps a "resumed" piece when it ends. Every
per-episode choice is keyed by ``(facility, kind, start tick)``, so it is the same whichever
tick asks.

The category is carried by the wording. Weather episodes read as *weather*; a ground stop as
*closure*; mass delays with current bad weather as *weather*, and in calm weather are pinned
on a labour dispute, unrest, a closure or an accident with ``unexplained_attribution``, else
written as generic delays with no category. Overdue flights (mostly diversions) are reported
as *accidents* with ``overdue_report_probability``; injected incidents as their own kind. A
``misattribution_share`` of articles blames the wrong cause, and off-topic articles (some of
them decoys using category words) concern no facility.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from chainwatch.schemas.events import NewsArticle
from streaming.synthetic import phrases
from streaming.synthetic.conditions import MIN_ARRIVALS, MIN_DEPARTURES, Episode, OpsStats
from streaming.synthetic.config import TextSignalConfig
from streaming.synthetic.incidents import Incident
from streaming.synthetic.observer import FacilityView, WorldView
from streaming.synthetic.phrases import NewsCategory
from streaming.synthetic.render import pick, slug, stamp
from streaming.synthetic.seeding import rng_for, tick_index

#: ``source`` of every synthetic article.
NEWS_SOURCE = "synthetic:news"
_CATEGORIES: tuple[NewsCategory, ...] = ("weather", "labour", "unrest", "closure", "accident")
_NON_WEATHER: tuple[NewsCategory, ...] = ("labour", "unrest", "closure", "accident")
_FOLLOWUP_PROBABILITY = 0.7
_INCIDENT_REPORT_PROBABILITY = 0.9

# A story before rendering: (category or None for generic, templates, facility ids).
_Story = tuple[NewsCategory | None, Sequence[tuple[str, str]], list[str]]


def news_articles_at(
    view: WorldView, incidents: Mapping[str, Sequence[Incident]], config: TextSignalConfig
) -> list[NewsArticle]:
    """Every synthetic article stamped within the tick of ``view``.

    Args:
        view: What is known at the tick.
        incidents: Injected incidents under way, by facility.
        config: Generator settings.

    Returns:
        Articles stamped in ``[view.at, view.at + tick)``, unsorted.
    """
    index = tick_index(view.at, config.tick)
    articles: list[NewsArticle] = []
    for facility in view.facilities:
        rng = rng_for(config.seed, "news", facility.facility_id, index)
        stories = _stories(facility, incidents.get(facility.facility_id, ()), view.at, config)
        for n, (category, templates, ids) in enumerate(_one_per_category(stories)):
            wording = templates
            if category is not None and rng.random() < config.misattribution_share:
                wrong = pick(rng, [other for other in _CATEGORIES if other != category])
                wording = phrases.NEWS[wrong]
            template = pick(rng, wording)
            key = facility.facility_id
            articles.append(
                _article(
                    rng, at=view.at, config=config, key=key, n=n, template=template, values=_values(facility), ids=ids
                )
            )
    for k, flight in enumerate(view.overdue):
        rng = rng_for(config.seed, "news-overdue", flight.shipment_id)
        if rng.random() < config.overdue_report_probability:
            values = {
                "flight": flight.shipment_id.split("-")[0],
                "origin": flight.origin_id,
                "dest": flight.destination_id,
            }
            ids = sorted({flight.origin_id, flight.destination_id})
            template = phrases.NEWS["accident"][0]
            key = flight.origin_id
            articles.append(
                _article(rng, at=view.at, config=config, key=key, n=f"d{k}", template=template, values=values, ids=ids)
            )
    rng = rng_for(config.seed, "news-offtopic", index)
    per_tick = config.tick_minutes / 1440
    offtopic = [
        pick(rng, phrases.OFFTOPIC_NEWS) for _ in range(int(rng.poisson(config.offtopic_articles_per_day * per_tick)))
    ]
    decoys = [pick(rng, phrases.DECOY_NEWS) for _ in range(int(rng.poisson(config.decoy_articles_per_day * per_tick)))]
    for n, template in enumerate(offtopic + decoys):
        articles.append(
            _article(rng, at=view.at, config=config, key="offtopic", n=n, template=template, values={}, ids=[])
        )
    return articles


def _stories(
    facility: FacilityView, incidents: Sequence[Incident], at: datetime, config: TextSignalConfig
) -> list[_Story]:
    """What is worth an article about one facility at this tick."""
    fid, ids = facility.facility_id, [facility.facility_id]
    stories: list[_Story] = []
    for episode in facility.episodes:
        decision = _EpisodeDecision(episode, fid, config)
        if decision.reported and decision.due(at, config):
            stories.append(_episode_story(episode, decision, facility, ids))
    for episode in facility.ended:
        decision = _EpisodeDecision(episode, fid, config)
        if decision.reported and decision.resumed:
            stories.append((None, phrases.RESUMED, ids))
    for incident in incidents:
        starts_now = at - config.tick < incident.start <= at
        rng = rng_for(config.seed, "news-incident", fid, incident.ordinal)
        if starts_now and rng.random() < _INCIDENT_REPORT_PROBABILITY:
            stories.append((incident.kind, phrases.NEWS[incident.kind], ids))
    return stories


def _one_per_category(stories: list[_Story]) -> list[_Story]:
    """The first story of each category (one paper does not run two weather pieces at once)."""
    seen: set[object] = set()
    kept: list[_Story] = []
    for story in stories:
        key = story[0] if story[0] is not None else id(story[1])
        if key not in seen:
            seen.add(key)
            kept.append(story)
    return kept


class _EpisodeDecision:
    """The seeded choices about one episode, the same at every tick that asks."""

    def __init__(self, episode: Episode, facility_id: str, config: TextSignalConfig) -> None:
        start = tick_index(episode.since, config.tick)
        rng = rng_for(config.seed, "news-episode", facility_id, episode.kind, start)
        chance = config.report_probability * (0.5 if episode.kind == "arrival_delays" else 1.0)
        self.episode = episode
        self.reported = bool(rng.random() < chance)
        self.lag = timedelta(minutes=int(rng.integers(config.max_report_lag_minutes + 1)))
        self.attributed = bool(rng.random() < config.unexplained_attribution)
        self.cause: NewsCategory = pick(rng, _NON_WEATHER)
        self.resumed = bool(rng.random() < config.resume_probability)
        self.key = (facility_id, episode.kind, start)

    def due(self, at: datetime, config: TextSignalConfig) -> bool:
        """Whether an article (first or follow-up) about the episode is due at tick ``at``."""
        elapsed = at - self.episode.since - self.lag
        if elapsed < timedelta(0):
            return False
        period = timedelta(hours=config.followup_hours)
        if elapsed % period >= config.tick:
            return False
        number = elapsed // period
        # Follow-up k is written with a fixed probability, drawn from the episode's key and k.
        return number == 0 or bool(
            rng_for(config.seed, "news-followup", *self.key, number).random() < _FOLLOWUP_PROBABILITY
        )


def _episode_story(episode: Episode, decision: _EpisodeDecision, facility: FacilityView, ids: list[str]) -> _Story:
    """The category and templates of an article about an open episode."""
    if episode.kind == "weather":
        return "weather", phrases.NEWS["weather"], ids
    if episode.kind == "ground_stop":
        return "closure", phrases.NEWS["closure"], ids
    if episode.kind == "arrival_delays":
        return None, phrases.ARRIVAL_DELAYS, ids
    stormy = facility.episode("weather") is not None or (
        facility.hazard is not None and facility.hazard.severity >= 0.3
    )
    if stormy:
        return "weather", phrases.NEWS["weather"], ids
    if decision.attributed:
        return decision.cause, phrases.NEWS[decision.cause], ids
    return None, phrases.GENERIC_DELAYS, ids


def _values(facility: FacilityView) -> dict[str, object]:
    """Template values from what is known about the facility."""
    hazard = facility.hazard
    words = phrases.HAZARD_WORDS[hazard.kind if hazard is not None else "clear"]
    temperature = hazard.temperature_c if hazard is not None else None
    return {
        "name": phrases.PRINT_NAMES.get(facility.facility_id, f"{facility.facility_id} airport"),
        "ops": _ops_sentence(facility.stats),
        "temp": "n/a" if temperature is None else f"{temperature:.0f}",
        "wind": round(hazard.wind_kmh) if hazard is not None else "n/a",
        "hazard": words,
        "Hazard": words[0].upper() + words[1:],
    }


def _ops_sentence(stats: OpsStats) -> str:
    """One sentence of what the record shows over the past hour (only known facts)."""
    parts = []
    if stats.cancellations:
        many = stats.cancellations != 1
        parts.append(
            f"{stats.cancellations} flight{'s' if many else ''} {'were' if many else 'was'} cancelled in the past hour"
        )
    if stats.departures >= MIN_DEPARTURES:
        parts.append(f"departures averaged {round(max(stats.mean_delay_min, 0.0))} minutes late")
    if stats.arrivals >= MIN_ARRIVALS:
        parts.append(f"arrivals averaged {round(max(stats.mean_arrival_delay_min, 0.0))} minutes late")
    if not parts:
        return "Few flights were moving at the time."
    sentence = ", and ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _article(
    rng: np.random.Generator,
    *,
    at: datetime,
    config: TextSignalConfig,
    key: str,
    n: int | str,
    template: tuple[str, str],
    values: Mapping[str, object],
    ids: list[str],
) -> NewsArticle:
    """One validated article from a ``(title, summary)`` template."""
    defaults: dict[str, object] = {"name": f"{key} airport", "ops": "", "temp": "n/a", "wind": "n/a"}
    defaults |= {"hazard": "bad weather", "Hazard": "Bad weather", "flight": "a flight", "origin": key, "dest": key}
    filled = defaults | dict(values)
    title, summary = (part.format(**filled).strip() for part in template)
    outlet, outlet_slug = pick(rng, phrases.OUTLETS)
    url = f"{phrases.NEWS_HOST}/{outlet_slug}/{at:%Y/%m/%d}/{slug(title)}-{key.lower()}-{at:%H%M}-{n}"
    return NewsArticle(
        event_id=f"syn-news:{key}:{at:%Y%m%d%H%M}:{n}",
        source=NEWS_SOURCE,
        event_time=stamp(at, config.tick, rng),
        title=title,
        summary=summary,
        url=url,  # type: ignore[arg-type]  # pydantic validates the string into an HttpUrl
        outlet=outlet,
        facility_ids=ids,
        language="en",
    )
