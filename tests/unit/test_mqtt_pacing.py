"""Publisher pacing: a fixed rate, or event time at a speed-up, computed without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chainwatch.errors import ConfigError
from chainwatch.schemas import VehicleTelemetry
from streaming.mqtt.pacing import EventTimePacer, RatePacer

T0 = datetime(2013, 1, 1, 10, tzinfo=UTC)


def reading(seconds: float) -> VehicleTelemetry:
    return VehicleTelemetry(
        event_id=f"iot:{seconds}",
        source="synthetic:iot",
        event_time=T0 + timedelta(seconds=seconds),
        vehicle_id="N1",
        latitude=40.0,
        longitude=-73.0,
        speed_kmh=800.0,
        heading_deg=90.0,
    )


def test_a_rate_pacer_spaces_events_evenly_from_the_first() -> None:
    # given 4 events per second, all asked for at time 100
    pacer = RatePacer(4)
    delays = [pacer.delay_s(reading(0), 100.0) for _ in range(4)]
    # then they are due 0, 0.25, 0.5 and 0.75 s later
    assert delays == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_a_rate_pacer_sends_a_late_event_at_once_without_bursting_past_the_schedule() -> None:
    pacer = RatePacer(10)
    assert pacer.delay_s(reading(0), 0.0) == 0.0
    # when the second event is asked for long after its slot / then it goes at once
    assert pacer.delay_s(reading(0), 5.0) == 0.0
    # and the third keeps to the original schedule (due at 0.2, already past)
    assert pacer.delay_s(reading(0), 5.0) == 0.0


def test_an_event_time_pacer_compresses_event_time_by_its_speed() -> None:
    # given an hour of event time per wall second
    pacer = EventTimePacer(3600)
    assert pacer.delay_s(reading(0), 50.0) == 0.0
    # when an event 30 minutes later is asked for 0.1 s after the first / then it is due 0.4 s later
    assert pacer.delay_s(reading(1800), 50.1) == pytest.approx(0.4)
    # and an event whose time has come is due at once
    assert pacer.delay_s(reading(3600), 51.5) == 0.0


def test_an_event_earlier_than_the_first_is_sent_at_once() -> None:
    pacer = EventTimePacer(1)
    pacer.delay_s(reading(100), 0.0)
    assert pacer.delay_s(reading(50), 0.0) == 0.0


@pytest.mark.parametrize("value", [0, -1.5])
def test_pacers_refuse_a_rate_or_speed_that_is_not_positive(value: float) -> None:
    with pytest.raises(ConfigError):
        RatePacer(value)
    with pytest.raises(ConfigError):
        EventTimePacer(value)
