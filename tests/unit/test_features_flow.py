"""The feature dataflow in-process: late, out-of-order, duplicate, far-future and invalid input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from streaming.features.backfill import run_rows
from streaming.replay import Record
from tests.unit.features_helpers import at, record, shipment
from tests.unit.features_helpers import weather as obs

NOW = datetime(2013, 3, 1, tzinfo=UTC)
VIEW = "facility_weather"


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def rows_by_time(rows):
    return {(row["facility_id"], row["event_timestamp"]): row for row in rows}


def test_out_of_order_within_allowed_lateness_lands_in_its_hour():
    # given an observation at 10:55 delivered after one at 11:02 (7 min out of order, < 10 min)
    events = [obs(at(10, 0)), obs(at(11, 2)), obs(at(10, 55)), obs(at(12, 30))]
    # when the flow runs
    rows, letters = run_rows(VIEW, [record(e) for e in events], now=NOW)
    # then the 10:xx hour counts both of its observations and nothing is late
    assert rows_by_time(rows)[("JFK", at(11))]["observations_3h"] == 2
    assert letters == []


def test_late_event_goes_to_dead_letters_and_is_counted():
    before = counter("chainwatch_late_events_total", flow=VIEW)
    # given an observation at 10:40 delivered after 11:30 (watermark 11:20: its hour has closed)
    events = [obs(at(10, 0)), obs(at(11, 30)), obs(at(10, 40), n="late"), obs(at(12, 30))]
    # when the flow runs
    rows, letters = run_rows(VIEW, [record(e) for e in events], now=NOW)
    # then it is not in any row, but in the dead letters with the reason, and counted
    assert rows_by_time(rows)[("JFK", at(11))]["observations_3h"] == 1
    assert [letter.detail[:5] for letter in letters] == ["late:"]
    assert letters[0].topic == "weather.observations.v1"
    assert letters[0].reason == "late"
    assert counter("chainwatch_late_events_total", flow=VIEW) == before + 1


def test_duplicates_count_once_and_are_counted():
    before = counter("chainwatch_duplicate_events_total", flow=VIEW)
    reading = obs(at(10, 0), temperature_c=1.0)
    rows, letters = run_rows(VIEW, [record(reading), record(reading), record(obs(at(11, 20)))], now=NOW)
    assert rows_by_time(rows)[("JFK", at(11))]["observations_3h"] == 1
    assert counter("chainwatch_duplicate_events_total", flow=VIEW) == before + 1
    assert letters == []


def test_far_future_event_is_refused_and_does_not_poison_the_watermark():
    before = counter("chainwatch_dead_letters_total", topic="weather.observations.v1", reason="future_timestamp")
    # given an observation stamped in 2099 between two normal ones
    future = obs(datetime(2099, 1, 1, tzinfo=UTC), n="future")
    events = [obs(at(10, 0)), future, obs(at(10, 30)), obs(at(11, 30))]
    rows, letters = run_rows(VIEW, [record(e) for e in events], now=NOW)
    # then it goes to the dead letters, and the later observations are still on time
    assert [letter.reason for letter in letters] == ["future_timestamp"]
    assert rows_by_time(rows)[("JFK", at(11))]["observations_3h"] == 2
    after = counter("chainwatch_dead_letters_total", topic="weather.observations.v1", reason="future_timestamp")
    assert after == before + 1


def test_invalid_message_goes_to_dead_letters():
    bad = Record(at(10), "weather.observations.v1", "JFK", b'{"event_id": "x"}')
    rows, letters = run_rows(VIEW, [bad, record(obs(at(10, 5)))], now=NOW)
    assert [letter.reason for letter in letters] == ["schema_violation"]
    assert len(rows) == 1


def test_hours_reach_the_rolling_step_in_order_when_an_earlier_window_opens_late():
    # given 10:xx opened by an event after 11:xx (within lateness), then a jump past both hours
    events = [obs(at(11, 3)), obs(at(10, 58)), obs(at(14, 0))]
    # when the flow runs, it does not fail on out-of-order buckets
    rows, _letters = run_rows(VIEW, [record(e) for e in events], now=NOW, batch=1)
    # then the 10:xx hour's row comes before the 11:xx one
    stamps = [row["event_timestamp"] for row in rows]
    assert stamps == sorted(stamps)
    assert stamps[:2] == [at(11), at(12)]


def test_keys_are_independent():
    events = [shipment("departed", at(10, 5), origin="JFK"), shipment("departed", at(10, 6), flight=2, origin="EWR")]
    rows, _ = run_rows("facility_ops", [record(e) for e in events], now=NOW)
    assert sorted(row["facility_id"] for row in rows) == ["EWR", "JFK"]


@pytest.mark.parametrize("module", ["weather", "ops", "carrier", "route", "vehicle", "text"])
def test_each_group_builds_alone(module):
    import importlib

    from chainwatch.settings import Settings
    from streaming.flows.common import CallbackSink
    from streaming.sources import RecordSource

    flow_module = importlib.import_module(f"streaming.flows.features_{module}")
    flow = flow_module.build_flow(Settings(), source=RecordSource(lambda _p: []), sink=CallbackSink(lambda _b: None))
    assert flow.flow_id == f"features_{flow_module.VIEW}"


def test_local_profile_needs_a_source():
    from chainwatch.settings import Settings
    from streaming.flows import features_ops

    with pytest.raises(ValueError, match="local profile has no Kafka"):
        features_ops.build_flow(Settings(profile="local"))
