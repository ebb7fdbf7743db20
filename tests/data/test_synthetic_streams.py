"""Synthetic streams on the real 2013 record: the fact stream, causality, signal, telemetry.

The week of 4-10 February 2013 holds ordinary days and the 8-9 February blizzard (the three
New York hubs all but closed), so it shows both the signal and the noise.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

from chainwatch.datasets.schema import FlightsDataset
from chainwatch.schemas.events import NewsArticle, ShipmentEvent, SocialPost, WeatherObservation
from chainwatch.schemas.topics import topic_spec
from streaming.replay import ReplayConfig, build_replay, iter_records
from streaming.synthetic import (
    Fact,
    TelemetryConfig,
    TextSignal,
    TextSignalConfig,
    facts_from_dataset,
    generate_telemetry,
    generate_text_signals,
    legs_from_dataset,
)

START = datetime(2013, 2, 4, tzinfo=UTC)
END = datetime(2013, 2, 11, tzinfo=UTC)
BLIZZARD = (datetime(2013, 2, 8, 18, tzinfo=UTC), datetime(2013, 2, 9, 12, tzinfo=UTC))
HUBS = ("EWR", "JFK", "LGA")
WEATHER_WORDS = re.compile(r"\b(snow|storm|fog|wind|winds|rain|weather)\b", re.IGNORECASE)
STOP_WORDS = re.compile(r"\b(ground stop|closed|shut|closure)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def facts(dataset: FlightsDataset) -> list[Fact]:
    return list(facts_from_dataset(dataset, start=START, end=END))


@pytest.fixture(scope="module")
def items(facts: list[Fact]) -> list[TextSignal]:
    return list(generate_text_signals(facts, TextSignalConfig(report_probability=1.0)))


def text_of(item: TextSignal) -> str:
    return item.text if isinstance(item, SocialPost) else f"{item.title} {item.summary}"


# --- the fact stream ----------------------------------------------------------------------


def test_the_fact_stream_is_the_week_in_the_order_it_became_known(dataset: FlightsDataset, facts: list[Fact]) -> None:
    ships, weather = dataset.shipments, dataset.weather

    def within(column: pd.Series) -> pd.Series:
        return (column >= START) & (column < END)

    expected = Counter(
        {
            "departed": int((within(ships["actual_departure"]) & ~ships["cancelled"]).sum()),
            "arrived": int(within(ships["actual_arrival"]).sum()),
            "cancelled": int((within(ships["scheduled_departure"]) & ships["cancelled"]).sum()),
            "weather": int(within(weather["observed_at"]).sum()),
        }
    )
    kinds = Counter(f.event_type if isinstance(f, ShipmentEvent) else "weather" for f in facts)
    # then every fact of the week is there once, in event-time order
    assert kinds == expected
    assert len({f.event_id for f in facts}) == len(facts)
    assert [f.event_time for f in facts] == sorted(f.event_time for f in facts)
    # and each carries only what was known when it happened
    for fact in facts:
        if isinstance(fact, ShipmentEvent) and fact.event_type == "departed":
            assert fact.actual_arrival is None
            assert fact.event_time == fact.actual_departure
        elif isinstance(fact, ShipmentEvent) and fact.event_type == "cancelled":
            assert fact.actual_departure is None
            assert fact.event_time == fact.scheduled_departure
        elif isinstance(fact, ShipmentEvent):
            assert fact.event_time == fact.actual_arrival
        else:
            assert isinstance(fact, WeatherObservation)


def test_the_replay_stream_yields_the_same_items_as_the_helper(dataset: FlightsDataset, facts: list[Fact]) -> None:
    # given the replay's own events for the week (schedules included, weather normalised live-style)
    table = build_replay(dataset, ReplayConfig(start=START, end=END))
    replayed: list[Fact] = []
    for record in iter_records(table):
        event = topic_spec(record.topic).model.model_validate_json(record.payload)
        assert isinstance(event, ShipmentEvent | WeatherObservation)
        replayed.append(event)
    # then the generator makes the very same items from it as from the helper's facts
    assert list(generate_text_signals(replayed)) == list(generate_text_signals(facts))


# --- causality on the real week -----------------------------------------------------------


def _another_future(facts: list[Fact], cut: datetime) -> list[Fact]:
    """The real history up to ``cut``; after it, tripled delays, cancellations and fine weather."""
    after = cut + timedelta(minutes=1)
    changed: list[Fact] = []
    for fact in facts:
        if fact.event_time <= cut:
            changed.append(fact)
        elif isinstance(fact, WeatherObservation):
            changed.append(
                fact.model_copy(update={"precipitation_mm": 0.0, "visibility_m": 16_093.0, "wind_speed_ms": 2.0})
            )
        elif fact.event_type == "departed" and fact.flight_number % 4 == 0:
            when = max(fact.scheduled_departure, after)
            changed.append(
                fact.model_copy(update={"event_type": "cancelled", "event_time": when, "actual_departure": None})
            )
        elif fact.event_type == "departed":
            delay = fact.event_time - fact.scheduled_departure
            when = max(fact.scheduled_departure + 3 * max(delay, timedelta(0)) + timedelta(minutes=30), after)
            changed.append(fact.model_copy(update={"event_time": when, "actual_departure": when}))
        elif fact.event_type == "cancelled":
            when = max(fact.scheduled_departure + timedelta(minutes=45), after)
            changed.append(
                fact.model_copy(update={"event_type": "departed", "event_time": when, "actual_departure": when})
            )
        # arrivals after the cut are dropped: in this future nothing lands
    return sorted(changed, key=lambda fact: fact.event_time)


@pytest.mark.parametrize(
    "cut",
    [datetime(2013, 2, 6, 12, 7, tzinfo=UTC), datetime(2013, 2, 8, 20, 0, tzinfo=UTC)],
    ids=["ordinary-day", "mid-blizzard"],
)
def test_items_up_to_a_cut_ignore_every_fact_after_it(facts: list[Fact], cut: datetime) -> None:
    # given the real week, the same week with another future after `cut`, and the week cut short
    config = TextSignalConfig(report_probability=1.0, overdue_report_probability=1.0)
    original = list(generate_text_signals(facts, config))
    altered = list(generate_text_signals(_another_future(facts, cut), config))
    truncated = list(generate_text_signals([f for f in facts if f.event_time <= cut], config, until=cut))

    def upto(stream: list[TextSignal]) -> list[TextSignal]:
        return [item for item in stream if item.event_time <= cut]

    # then everything stamped at or before the cut is identical
    assert len(upto(original)) > 1000
    assert upto(altered) == upto(original)
    assert upto(truncated) == upto(original)
    # and (control) the futures differ, so the test can fail
    assert [i for i in altered if i.event_time > cut] != [i for i in original if i.event_time > cut]


# --- signal and noise ---------------------------------------------------------------------


def test_the_blizzard_is_loud_in_posts_and_reported_at_every_hub(items: list[TextSignal]) -> None:
    analyser = SentimentIntensityAnalyzer()

    def hub_weather_complaints(item: TextSignal) -> bool:
        return (
            isinstance(item, SocialPost)
            and any(hub in item.facility_ids for hub in HUBS)
            and bool(WEATHER_WORDS.search(item.text))
            and analyser.polarity_scores(item.text)["compound"] <= -0.05
        )

    in_storm = [i for i in items if BLIZZARD[0] <= i.event_time < BLIZZARD[1]]
    outside = [i for i in items if not BLIZZARD[0] <= i.event_time < BLIZZARD[1]]
    storm_hours = (BLIZZARD[1] - BLIZZARD[0]) / timedelta(hours=1)
    other_hours = (END - START) / timedelta(hours=1) - storm_hours
    # then hub weather complaints per hour are several times higher during the blizzard
    rate_storm = sum(map(hub_weather_complaints, in_storm)) / storm_hours
    rate_other = sum(map(hub_weather_complaints, outside)) / other_hours
    assert rate_storm > 4 * rate_other
    # and every hub gets weather or closure news during it
    for hub in HUBS:
        news = [i for i in in_storm if isinstance(i, NewsArticle) and hub in i.facility_ids]
        assert any(WEATHER_WORDS.search(text_of(a)) or STOP_WORDS.search(text_of(a)) for a in news), hub


def test_posts_carry_real_but_imperfect_information(dataset: FlightsDataset, items: list[TextSignal]) -> None:
    # given, per hub and hour, the share of departures that were disrupted (the label)
    ships = dataset.shipments
    week = ships[(ships["scheduled_departure"] >= START) & (ships["scheduled_departure"] < END)]
    hourly = week.assign(hour=week["scheduled_departure"].dt.floor("h")).groupby(["origin_id", "hour"])
    label = hourly["disrupted"].agg(["mean", "size"])
    label = label[label["size"] >= 5]
    # and the negative posts about that hub stamped in that hour
    analyser = SentimentIntensityAnalyzer()
    negative = Counter(
        (item.facility_ids[0], pd.Timestamp(item.event_time).floor("h"))
        for item in items
        if isinstance(item, SocialPost)
        and len(item.facility_ids) == 1
        and item.facility_ids[0] in HUBS
        and analyser.polarity_scores(item.text)["compound"] <= -0.05
    )
    posts = np.array([negative.get((hub, hour), 0) for hub, hour in label.index])
    share = label["mean"].to_numpy(dtype=float)
    bad, good = share >= 0.5, share <= 0.1
    # then negative posts go with disruption
    assert float(np.corrcoef(posts, share)[0, 1]) > 0.3
    assert posts[bad].mean() > 2 * posts[good].mean()
    # but imperfectly: some disrupted hours are silent (misses), some good hours complain (false alarms)
    assert (posts[bad] == 0).any()
    assert (posts[good] > 0).any()


# --- telemetry on a real day --------------------------------------------------------------


def test_a_real_day_of_telemetry_is_valid_ordered_and_fast(dataset: FlightsDataset) -> None:
    day = (datetime(2013, 7, 1, tzinfo=UTC), datetime(2013, 7, 2, tzinfo=UTC))
    legs = list(legs_from_dataset(dataset, start=day[0], end=day[1]))
    # when simulating every flown leg of the day
    started = time.perf_counter()
    readings = list(generate_telemetry(legs, TelemetryConfig()))
    per_second = len(readings) / (time.perf_counter() - started)
    # then each leg reports from its actual departure, in event-time order, with valid headings
    assert len({r.shipment_id for r in readings}) == len(legs) > 900
    assert [r.event_time for r in readings] == sorted(r.event_time for r in readings)
    firsts = {leg.shipment_id: leg.departure for leg in legs}
    seen: set[str | None] = set()
    for reading in readings:
        assert 0.0 <= reading.heading_deg < 360.0
        if reading.shipment_id not in seen:
            seen.add(reading.shipment_id)
            assert reading.event_time == firsts[str(reading.shipment_id)]
    # and the simulator keeps up with far more than real time (a rough floor for slow machines)
    assert per_second > 5_000
