"""Unit tests of the feature step functions: bucket folding and the roll-up, per group."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streaming.features import ops, route, sentiment, text, vehicle, weather
from streaming.features.rolling import HOUR, advance, hour_end, hour_end_of, new_state
from tests.unit.features_helpers import article, at, post, shipment, telemetry
from tests.unit.features_helpers import weather as obs


def fold(group, items):
    bucket = group.new_bucket()
    for item in items:
        bucket = group.bucket_add(bucket, item)
    return bucket


# --- rolling engine -----------------------------------------------------------------------


def test_hour_end_stamps_the_end_of_the_clock_hour():
    assert hour_end_of(at(10, 0)) == at(11)  # an instant on the hour starts that hour
    assert hour_end_of(at(10, 59)) == at(11)
    assert hour_end(0) - hour_end(-1) == HOUR


def test_advance_fills_quiet_hours_while_the_lookback_has_a_bucket():
    # given a facility with a departure at 10:xx and the next one at 16:xx (3 h lookback)
    group, state = ops.FACILITY_GROUP, new_state(ops.FACILITY_GROUP)
    first = fold(group, [shipment("departed", at(10, 5))])
    later = fold(group, [shipment("departed", at(16, 5), flight=2)])
    # when both hours close
    rows = advance(group, state, "JFK", at(11), first) + advance(group, state, "JFK", at(17), later)
    # then quiet hours 12 and 13 get rows (the 10:xx hour is still in the lookback), 14-16 do not
    assert [row["event_timestamp"] for row in rows] == [at(11), at(12), at(13), at(17)]
    assert [row["departures_3h"] for row in rows] == [1, 1, 1, 1]
    assert [row["departures_1h"] for row in rows] == [1, 0, 0, 1]


def test_advance_refuses_buckets_out_of_order():
    group, state = weather.GROUP, new_state(weather.GROUP)
    advance(group, state, "JFK", at(12), fold(group, [obs(at(11))]))
    with pytest.raises(ValueError, match="arrived after"):
        advance(group, state, "JFK", at(11), fold(group, [obs(at(10))]))


# --- facility_weather ---------------------------------------------------------------------


def test_weather_bucket_keeps_latest_by_event_time_whatever_the_order():
    # given two observations in one hour, folded in both orders
    early = obs(at(10, 0), temperature_c=1.0, wind_speed_ms=3.0, precipitation_mm=0.5, pressure_hpa=1010.0)
    late = obs(at(10, 30), temperature_c=-1.0, wind_speed_ms=5.0, precipitation_mm=1.0, pressure_hpa=1008.0)
    # when folded
    one, two = fold(weather.GROUP, [early, late]), fold(weather.GROUP, [late, early])
    # then the latest reading wins either way and extremes are kept
    for bucket in (one, two):
        assert bucket.temperature[1] == -1.0
        assert bucket.precipitation[1] == 1.0
        assert bucket.first_pressure[1] == 1010.0
        assert bucket.last_pressure[1] == 1008.0
        assert bucket.count == 2


def test_weather_bucket_ignores_a_duplicate_event_id():
    reading = obs(at(10), temperature_c=1.0)
    bucket = fold(weather.GROUP, [reading, reading])
    assert bucket.count == 1
    assert bucket.duplicates == 1


def test_weather_roll_over_three_hours():
    # given three hourly observations, the last one snowy, foggy and gusty
    group, state = weather.GROUP, new_state(weather.GROUP)
    readings = [
        obs(at(9), temperature_c=2.0, wind_speed_ms=5.0, precipitation_mm=0.0, pressure_hpa=1012.0,
            visibility_m=9000.0),
        obs(at(10), temperature_c=1.0, wind_speed_ms=6.0, precipitation_mm=0.5, pressure_hpa=1010.0),
        obs(at(11), temperature_c=0.0, wind_speed_ms=7.0, wind_gust_ms=20.0, precipitation_mm=1.5,
            pressure_hpa=1006.0, visibility_m=800.0, condition="Snow"),
    ]  # fmt: skip
    # when each hour closes
    rows = [row for r in readings for row in advance(group, state, "JFK", hour_end_of(r.event_time), fold(group, [r]))]
    last = rows[-1]
    # then the row at 12:00 sees all three
    assert last["event_timestamp"] == at(12)
    assert last["temperature_c"] == 0.0
    assert last["wind_speed_ms"] == 7.0
    assert last["wind_gust_max_ms_3h"] == 20.0
    assert last["precipitation_mm_1h"] == 1.5
    assert last["precipitation_mm_3h"] == pytest.approx(2.0)
    assert last["visibility_min_m_3h"] == 800.0
    assert last["pressure_change_hpa_3h"] == pytest.approx(-6.0)
    assert (last["hazard_snow"], last["hazard_fog"], last["hazard_wind"]) == (1, 1, 1)
    assert last["observations_3h"] == 3
    # and the first row has no pressure change (one reading) and no hazards
    assert rows[0]["pressure_change_hpa_3h"] is None
    assert rows[0]["hazard_snow"] == 0


def test_weather_route_only_takes_observations():
    assert weather.route(obs(at(1))) == [("JFK", obs(at(1)))]
    assert weather.route(shipment("departed", at(1))) == []


# --- facility_ops and carrier_ops ----------------------------------------------------------


def test_ops_route_keys_arrivals_by_destination_and_the_rest_by_origin():
    assert ops.route_facility(shipment("arrived", at(15), sched_dep=at(10)))[0][0] == "LAX"
    assert ops.route_facility(shipment("departed", at(10)))[0][0] == "JFK"
    assert ops.route_carrier(shipment("scheduled", at(10))) == []
    assert ops.route_carrier(shipment("cancelled", at(10)))[0][0] == "UA"


def test_ops_bucket_counts_delays_with_cap():
    # given an on-time, a delayed (20 min) and a very delayed (400 min, capped at 180) departure
    events = [
        shipment("departed", at(10, 0), flight=1, sched_dep=at(10, 0)),
        shipment("departed", at(10, 20), flight=2, sched_dep=at(10, 0), dep_delay_min=20),
        shipment("departed", at(10, 40), flight=3, sched_dep=at(4, 0), dep_delay_min=400),
    ]
    bucket = fold(ops.FACILITY_GROUP, events)
    assert bucket.departures == 3
    assert bucket.delayed == 2
    assert bucket.delay_s == (0 + 20 + 180) * 60


def test_ops_roll_shares_means_and_backlog():
    # given schedules published a day ahead, then one departure, one cancellation, one still waiting
    group, state = ops.FACILITY_GROUP, new_state(ops.FACILITY_GROUP)
    schedules = [shipment("scheduled", at(-14), flight=n, sched_dep=at(10, 10 * n)) for n in (1, 2, 3)]
    advance(group, state, "JFK", at(-13), fold(group, schedules))
    hour = [
        shipment("departed", at(10, 30), flight=1, sched_dep=at(10, 10), dep_delay_min=20),
        shipment("cancelled", at(10, 20), flight=2, sched_dep=at(10, 20)),
    ]
    # when the 10:xx hour closes
    row = advance(group, state, "JFK", at(11), fold(group, hour))[-1]
    # then flight 3 (scheduled 10:30, neither departed nor cancelled) is the backlog
    assert row["backlog"] == 1
    assert row["departures_1h"] == 1
    assert row["delayed_share_1h"] == 1.0
    assert row["mean_dep_delay_min_3h"] == 20.0
    assert row["cancellations_1h"] == 1
    assert row["arrivals_delayed_share_3h"] is None


def test_ops_backlog_ignores_a_schedule_that_comes_after_its_departure():
    carry = ops.Backlog()
    departed = fold(ops.FACILITY_GROUP, [shipment("departed", at(10, 5), sched_dep=at(10))])
    late_schedule = fold(ops.FACILITY_GROUP, [shipment("scheduled", at(10, 30), sched_dep=at(10))])
    carry = ops.backlog_enter(carry, at(11), departed)
    carry = ops.backlog_enter(carry, at(12), late_schedule)
    assert carry.pending == {}


def test_facility_arrivals_delayed_share():
    group, state = ops.FACILITY_GROUP, new_state(ops.FACILITY_GROUP)
    arrivals = [
        shipment("arrived", at(15, 5), flight=1, sched_dep=at(10), arr_delay_min=30),
        shipment("arrived", at(15, 10), flight=2, sched_dep=at(10), arr_delay_min=0),
    ]
    row = advance(group, state, "LAX", at(16), fold(group, arrivals))[-1]
    assert row["arrivals_delayed_share_3h"] == 0.5
    assert row["departures_3h"] == 0


def test_carrier_roll():
    group, state = ops.CARRIER_GROUP, new_state(ops.CARRIER_GROUP)
    events = [
        shipment("departed", at(10, 5), flight=1, sched_dep=at(10), dep_delay_min=30),
        shipment("departed", at(10, 7), flight=2, sched_dep=at(10), dep_delay_min=0),
        shipment("cancelled", at(10, 8), flight=3, sched_dep=at(10, 8)),
    ]
    row = advance(group, state, "UA", at(11), fold(group, events))[-1]
    assert row == {
        "carrier_id": "UA", "event_timestamp": at(11), "departures_3h": 2, "delayed_share_3h": 0.5,
        "cancellations_3h": 1, "mean_dep_delay_min_3h": 15.0,
    }  # fmt: skip


# --- route_history ------------------------------------------------------------------------


def test_route_running_totals_expire_after_28_days():
    # given a disrupted arrival and a cancellation on day 0, an on-time arrival 10 days later
    group, state = route.GROUP, new_state(route.GROUP)
    day0 = [
        shipment("arrived", at(15), flight=1, sched_dep=at(9), arr_delay_min=60),
        shipment("cancelled", at(10), flight=2, sched_dep=at(10)),
    ]
    first = advance(group, state, "JFK-LAX", at(16), fold(group, day0))[-1]
    on_time = shipment("arrived", at(15 + 240), flight=3, sched_dep=at(9 + 240))
    later = advance(group, state, "JFK-LAX", at(16 + 240), fold(group, [on_time]))[-1]
    beyond = shipment("arrived", at(15 + 24 * 29), flight=4, sched_dep=at(9 + 24 * 29))
    rows = advance(group, state, "JFK-LAX", at(16 + 24 * 29), fold(group, [beyond]))
    # then rates follow the 28-day window, and day 0 has left it 29 days later
    assert first["flights_28d"] == 2
    assert first["disrupted_rate_28d"] == 1.0
    assert first["cancelled_rate_28d"] == 0.5
    assert first["mean_arr_delay_min_28d"] == 60.0
    assert later["flights_28d"] == 3
    assert later["mean_arr_delay_min_28d"] == 30.0
    assert rows[-1]["flights_28d"] == 2  # the on-time one (day 10) and the new one
    assert state.carry.arrivals == 2


def test_route_ignores_departures_and_schedules():
    assert route.route(shipment("departed", at(10))) == []
    assert route.route(shipment("scheduled", at(10))) == []


# --- vehicle_status -----------------------------------------------------------------------


def test_vehicle_anomalies_and_last_seen():
    assert vehicle.is_speed_anomaly(telemetry(at(1), speed=5.0, altitude=9000.0))
    assert not vehicle.is_speed_anomaly(telemetry(at(1), speed=5.0, altitude=10.0))  # taxiing
    assert vehicle.is_temp_excursion(telemetry(at(1), temp=9.5))
    assert not vehicle.is_temp_excursion(telemetry(at(1), temp=8.0))
    assert not vehicle.is_temp_excursion(telemetry(at(1), temp=None))


def test_vehicle_roll_joins_arrival_and_telemetry():
    # given a leg arriving 45 min late at 10:20 and readings on the next leg until 12:40
    group, state = vehicle.GROUP, new_state(vehicle.GROUP)
    arrival = shipment("arrived", at(10, 20), sched_dep=at(4, 35), arr_delay_min=45)
    advance(group, state, "N1", at(11), fold(group, [arrival]))
    readings = [telemetry(at(12, 10), speed=3.0), telemetry(at(12, 40), temp=12.0)]
    row = advance(group, state, "N1", at(13), fold(group, readings))[-1]
    # then the row at 13:00 joins both
    assert row["prev_arrival_delay_min"] == 45.0
    assert row["hours_since_last_arrival"] == pytest.approx(2 + 40 / 60)
    assert row["iot_last_seen_age_min"] == 20.0
    assert row["speed_anomaly_6h"] == 1
    assert row["cargo_temp_excursions_24h"] == 1


def test_vehicle_route_skips_arrivals_without_a_vehicle():
    assert vehicle.route(shipment("arrived", at(10), vehicle=None)) == []
    assert vehicle.route(shipment("departed", at(10))) == []
    assert vehicle.route(telemetry(at(10)))[0][0] == "N1"


# --- facility_text ------------------------------------------------------------------------


def test_sentiment_is_vader_compound():
    assert sentiment.compound("Flight cancelled, worst trip ever, I hate this") <= -0.05
    assert sentiment.compound("Smooth check-in, friendly staff, love it") > 0.05


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Flights snarled by heavy snow at JFK", "Heavy snow hit the airfield.", {"weather"}),
        ("Ground crew walkout slows departures", "Union workers walked off the job.", {"labour"}),
        ("Protest near terminals disrupts access", "Demonstrators rallied outside.", {"unrest"}),
        ("Ground stop halts departures", "The airport was effectively closed to departures.", {"closure"}),
        ("Emergency landing: flight diverted", "The accident is under investigation.", {"accident"}),
        ("Delays pile up at JFK", "Flights are running late and airlines gave no reason.", set()),
    ],
)
def test_news_categories_by_keyword_rules(title, summary, expected):
    assert sentiment.news_categories(title, summary) == expected


def test_text_route_fans_out_to_each_facility_and_skips_unrelated_items():
    item = post(at(10), "Stuck at JFK", ["JFK", "LGA"])
    assert [key for key, _ in text.route(item)] == ["JFK", "LGA"]
    assert text.route(post(at(10), "Pizza in Brooklyn?", [])) == []


def test_text_roll():
    # given a negative and a positive post and a weather article in one hour
    group, state = text.GROUP, new_state(text.GROUP)
    items = [
        text.score(post(at(10, 5), "Stuck at JFK, terrible, so frustrated", ["JFK"], n="1")),
        text.score(post(at(10, 6), "Lovely sunset at JFK, great flight", ["JFK"], n="2")),
        text.score(article(at(10, 7), "Heavy snow at JFK", "Snow slowed the airfield.", ["JFK"], n="3")),
    ]
    row = advance(group, state, "JFK", at(11), fold(group, items))[-1]
    scores = sorted(sentiment.compound(p.event.text) for p in items[:2])  # type: ignore[union-attr]
    assert row["social_sentiment_min_6h"] == pytest.approx(scores[0])
    assert row["social_sentiment_mean_6h"] == pytest.approx(sum(scores) / 2)
    assert row["negative_posts_6h"] == 1
    assert row["news_weather_24h"] == 1
    assert row["news_labour_24h"] == 0
    assert row["news_total_6h"] == 1
    # and seven hours later the 6 h columns are empty while the 24 h ones still count
    quiet = advance(group, state, "JFK", at(18), fold(group, [text.score(post(at(17, 5), "ok", ["JFK"], n="4"))]))
    row_17 = next(r for r in quiet if r["event_timestamp"] == at(17))
    assert row_17["negative_posts_6h"] == 0
    assert row_17["negative_posts_24h"] == 1
    assert row_17["social_sentiment_mean_6h"] is None
    assert quiet[-1]["event_timestamp"] - quiet[0]["event_timestamp"] == timedelta(hours=6)
