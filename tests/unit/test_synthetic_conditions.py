"""What the text generators perceive: weather hazards, stress, episodes, incidents, seeding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chainwatch.schemas.events import WeatherObservation
from streaming.synthetic.conditions import (
    Episode,
    OpsStats,
    advance_episode,
    arrival_severity,
    assess_weather,
    episode_signals,
    ops_severity,
)
from streaming.synthetic.incidents import active_incidents, incident_on
from streaming.synthetic.render import delay_phrase, slug
from streaming.synthetic.seeding import day_index, rng_for, stable_int, tick_index, tick_start

AT = datetime(2013, 2, 8, 18, 0, tzinfo=UTC)
CALM = OpsStats(
    departures=15, mean_delay_min=3.0, late_share=0.0, cancellations=0, arrivals=0, mean_arrival_delay_min=0
)


def obs(**measures: Any) -> WeatherObservation:
    return WeatherObservation(event_id="wx:JFK:2013020818", source="test", event_time=AT, facility_id="JFK", **measures)


@pytest.mark.parametrize(
    ("measures", "kind"),
    [
        ({"temperature_c": 12.0, "wind_speed_ms": 3.0, "precipitation_mm": 0.0, "visibility_m": 16_000.0}, "clear"),
        ({"temperature_c": -2.0, "precipitation_mm": 1.0}, "snow"),
        ({"temperature_c": 15.0, "precipitation_mm": 6.0}, "rain"),
        ({"temperature_c": 5.0, "visibility_m": 200.0}, "fog"),
        ({"temperature_c": 5.0, "wind_speed_ms": 16.0, "wind_gust_ms": 24.0}, "wind"),
        ({"temperature_c": -1.0, "precipitation_mm": 2.0, "wind_speed_ms": 14.0}, "storm"),
        ({"temperature_c": 20.0, "condition": "Thunderstorm"}, "storm"),
    ],
)
def test_an_observation_is_read_as_its_dominant_hazard(measures: dict[str, Any], kind: str) -> None:
    hazard = assess_weather(obs(**measures))
    assert hazard.kind == kind
    assert 0.0 <= hazard.severity <= 1.0
    assert (hazard.severity >= 0.15) == (kind != "clear")


def test_a_condition_group_only_counts_where_the_measures_are_silent() -> None:
    # given light snow with every measure, with and without the group a replay derives from them
    measured = {"temperature_c": -1.0, "precipitation_mm": 0.2, "visibility_m": 3_000.0, "wind_speed_ms": 3.0}
    # then the group changes nothing
    assert assess_weather(obs(**measured, condition="Snow")) == assess_weather(obs(**measured))
    assert assess_weather(obs(**measured, condition="Mist")) == assess_weather(obs(**measured))
    # and without the measures the group alone names the hazard
    assert assess_weather(obs(condition="Snow")).kind == "snow"
    assert assess_weather(obs(condition="Fog")).kind == "fog"


def test_a_blizzard_is_more_severe_than_light_snow() -> None:
    light = assess_weather(obs(temperature_c=-1.0, precipitation_mm=0.2))
    blizzard = assess_weather(obs(temperature_c=-3.0, precipitation_mm=2.5, wind_speed_ms=15.0, visibility_m=400.0))
    assert blizzard.severity > light.severity >= 0.4


def test_operational_stress_grows_with_delays_and_cancellations() -> None:
    delayed = OpsStats(15, 80.0, 0.5, 0, 0, 0.0)
    stopped = OpsStats(1, 0.0, 0.0, 14, 0, 0.0)
    assert ops_severity(CALM) == 0.0
    assert ops_severity(delayed) > 0.5
    assert ops_severity(stopped) == 1.0
    # and too few departures say nothing about delays
    assert ops_severity(OpsStats(2, 200.0, 1.0, 0, 0, 0.0)) == 0.0
    assert arrival_severity(OpsStats(0, 0.0, 0.0, 0, 5, 105.0)) == 1.0


def test_a_ground_stop_needs_cancellations_to_outnumber_departures() -> None:
    assert episode_signals(None, OpsStats(2, 0.0, 0.0, 8, 0, 0.0))["ground_stop"] == (True, True)
    assert episode_signals(None, OpsStats(20, 0.0, 0.0, 8, 0, 0.0))["ground_stop"][0] is False


def test_an_episode_survives_a_short_lapse_and_ends_after_the_grace() -> None:
    tick = timedelta(minutes=15)
    kw: dict[str, Any] = {"grace_ticks": 2, "tick_seconds": tick.total_seconds()}
    # given an episode started at AT
    episode, ended = advance_episode(None, "weather", (True, True), AT, **kw)
    assert episode == Episode("weather", AT, AT)
    assert ended is None
    # when the signal lapses for one tick, it stays open with its start
    episode, ended = advance_episode(episode, "weather", (False, False), AT + tick, **kw)
    assert episode is not None
    assert episode.since == AT
    # and when it lapses past the grace, it ends
    episode, ended = advance_episode(episode, "weather", (False, False), AT + 2 * tick, **kw)
    assert episode is None
    assert ended is not None
    assert ended.since == AT
    # and a keep-signal alone never starts one
    assert advance_episode(None, "weather", (False, True), AT, **kw) == (None, None)


def test_injected_incidents_follow_their_rate_and_are_deterministic() -> None:
    days = range(15_000, 15_400)
    assert all(incident_on(1, "JFK", day, 1.0) is not None for day in days)
    assert all(incident_on(1, "JFK", day, 0.0) is None for day in days)
    share = sum(incident_on(1, "JFK", day, 0.1) is not None for day in days) / len(days)
    assert 0.05 < share < 0.15
    assert incident_on(1, "JFK", 15_000, 1.0) == incident_on(1, "JFK", 15_000, 1.0)


def test_an_active_incident_is_under_way_at_the_instant_asked() -> None:
    incident = incident_on(3, "LGA", day_index(AT), 1.0)
    assert incident is not None
    assert incident in active_incidents(3, "LGA", incident.start, 1.0)
    assert incident not in active_incidents(3, "LGA", incident.end, 1.0)
    assert active_incidents(3, "LGA", incident.start, 0.0) == ()


def test_seeded_draws_depend_on_the_key_only() -> None:
    assert stable_int("JFK") == stable_int("JFK") != stable_int("LGA")
    assert rng_for(1, "social", "JFK", 5).random() == rng_for(1, "social", "JFK", 5).random()
    assert rng_for(1, "social", "JFK", 5).random() != rng_for(1, "social", "JFK", 6).random()
    assert rng_for(1, "social", "JFK", 5).random() != rng_for(2, "social", "JFK", 5).random()


def test_ticks_are_aligned_to_the_epoch() -> None:
    tick = timedelta(minutes=15)
    index = tick_index(AT + timedelta(minutes=7), tick)
    assert tick_start(index, tick) == AT
    assert tick_start(tick_index(AT, tick), tick) == AT


@pytest.mark.parametrize(("minutes", "phrase"), [(12, "10 min"), (47, "45 min"), (90, "1.5 hours"), (185, "3 hours")])
def test_delays_read_like_people_write_them(minutes: float, phrase: str) -> None:
    assert delay_phrase(minutes) == phrase


def test_slugs_are_url_safe() -> None:
    assert slug("Ground stop halts departures at JFK!") == "ground-stop-halts-departures-at-jfk"
    assert slug("???") == "item"
