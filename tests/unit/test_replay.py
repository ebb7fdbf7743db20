"""The replay: known-time stamping, payload validity, ordering, pacing and resumable checkpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from chainwatch.datasets.schema import SHIPMENTS_SCHEMA, conform
from chainwatch.schemas import ShipmentEvent
from chainwatch.schemas.decode import Decoded, decode_event
from chainwatch.schemas.topics import topic_spec
from streaming.kafka.producer import DeliveryError
from streaming.replay import SHIPMENTS_TOPIC, shipment_records
from streaming.replay_producer import Checkpoint, fingerprint, produce_replay

T0 = datetime(2013, 3, 1, 12, tzinfo=UTC)
LEAD = timedelta(hours=24)


def flight(
    flight_number: int, *, dep_delay: int | None, arr_delay: int | None, cancelled: bool = False
) -> dict[str, Any]:
    departure = T0 + timedelta(minutes=10 * flight_number)
    arrival = departure + timedelta(hours=2)
    return {
        "shipment_id": f"UA{flight_number}-20130301-EWR",
        "carrier_id": "UA",
        "flight_number": flight_number,
        "vehicle_id": None if flight_number == 3 else f"N{flight_number}UA",
        "origin_id": "EWR",
        "destination_id": "ORD",
        "route_id": "EWR-ORD",
        "scheduled_departure": departure,
        "scheduled_arrival": arrival,
        "distance_km": 1156.2,
        "actual_departure": None if dep_delay is None else departure + timedelta(minutes=dep_delay),
        "actual_arrival": None if arr_delay is None else arrival + timedelta(minutes=arr_delay),
        "departure_delay_min": dep_delay,
        "arrival_delay_min": arr_delay,
        "air_time_min": None,
        "cancelled": cancelled,
        "diverted": dep_delay is not None and arr_delay is None,
        "disrupted": cancelled or arr_delay is None or arr_delay >= 15,
    }


@pytest.fixture
def shipments() -> pd.DataFrame:
    rows = [
        flight(1, dep_delay=5, arr_delay=-3),  # on time
        flight(2, dep_delay=None, arr_delay=None, cancelled=True),  # cancelled
        flight(3, dep_delay=40, arr_delay=None),  # diverted, no tail number
    ]
    return conform(pd.DataFrame(rows), SHIPMENTS_SCHEMA, "shipments")


def events_of(table: pd.DataFrame) -> list[ShipmentEvent]:
    spec = topic_spec(SHIPMENTS_TOPIC)
    events = []
    for payload in table["payload"]:
        result = decode_event(spec, payload.encode(), source="test")
        assert isinstance(result, Decoded), result
        assert isinstance(result.event, ShipmentEvent)
        events.append(result.event)
    return events


def test_each_shipment_yields_the_events_its_outcome_allows(shipments: pd.DataFrame) -> None:
    table = shipment_records(shipments, LEAD)

    kinds = {(event.shipment_id, event.event_type) for event in events_of(table)}

    assert kinds == {
        ("UA1-20130301-EWR", "scheduled"),
        ("UA1-20130301-EWR", "departed"),
        ("UA1-20130301-EWR", "arrived"),
        ("UA2-20130301-EWR", "scheduled"),
        ("UA2-20130301-EWR", "cancelled"),
        ("UA3-20130301-EWR", "scheduled"),
        ("UA3-20130301-EWR", "departed"),
    }


def test_events_are_stamped_when_they_became_known_never_earlier(shipments: pd.DataFrame) -> None:
    events = events_of(shipment_records(shipments, LEAD))

    for event in events:
        expected = {
            "scheduled": event.scheduled_departure - LEAD,
            "cancelled": event.scheduled_departure,
            "departed": event.actual_departure,
            "arrived": event.actual_arrival,
        }[event.event_type]
        assert event.event_time == expected
        if event.event_type in ("departed", "arrived"):
            assert event.actual_departure is not None
            assert event.event_time >= event.actual_departure


def test_payloads_equal_what_the_model_itself_would_carry(shipments: pd.DataFrame) -> None:
    table = shipment_records(shipments, LEAD)

    for payload, event in zip(table["payload"], events_of(table), strict=True):
        rendered = json.loads(payload)
        canonical = json.loads(event.model_dump_json(exclude_none=True))
        assert {key: value for key, value in rendered.items() if value is not None} == canonical
    missing_vehicle = [json.loads(p) for p in table["payload"] if '"UA3-' in p]
    assert all(item["vehicle_id"] is None for item in missing_vehicle)


def test_stable_ids_do_not_depend_on_the_run(shipments: pd.DataFrame) -> None:
    first = shipment_records(shipments, LEAD)["payload"].tolist()
    second = shipment_records(shipments.iloc[::-1].reset_index(drop=True), LEAD)["payload"].tolist()

    assert sorted(first) == sorted(second)
    assert "shp:UA1-20130301-EWR:departed" in "".join(first)


class FakeSink:
    """Collects produced records; fails the flush whose number is ``fail_on_flush``."""

    def __init__(self, fail_on_flush: int | None = None) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.flushes = 0
        self.fail_on_flush = fail_on_flush

    def send_many(self, topic: str, records: list[tuple[bytes | str | None, bytes]]) -> None:
        self.sent.extend((topic, payload) for _, payload in records)

    def flush(self, timeout_s: float = 60.0) -> None:
        self.flushes += 1
        if self.flushes == self.fail_on_flush:
            msg = "broker unreachable"
            raise DeliveryError(msg)


def table_of(count: int, spacing: timedelta) -> pd.DataFrame:
    times = pd.Series([T0 + spacing * index for index in range(count)], dtype="datetime64[ns, UTC]")
    return pd.DataFrame(
        {
            "event_time": times.array,
            "rank": 1,
            "topic": "t",
            "key": [f"k{index}" for index in range(count)],
            "payload": [f'{{"n":{index}}}' for index in range(count)],
        }
    )


def test_resume_continues_after_the_last_acknowledged_chunk(tmp_path: Path) -> None:
    table = table_of(10, timedelta(minutes=1))
    checkpoint = Checkpoint(tmp_path / "replay.json", fingerprint(table))
    failing = FakeSink(fail_on_flush=3)

    with pytest.raises(DeliveryError):
        produce_replay(table, failing, checkpoint=checkpoint, chunk=3)

    assert checkpoint.load() == 6  # two chunks acknowledged; the third was not
    resumed = FakeSink()
    progress = produce_replay(table, resumed, checkpoint=checkpoint, chunk=3)
    delivered = [payload for _, payload in failing.sent[:6] + resumed.sent]
    assert delivered == [f'{{"n":{index}}}'.encode() for index in range(10)]
    assert progress.position == 10


def test_a_checkpoint_of_another_replay_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    Checkpoint(path, "other").save(5, None)

    assert Checkpoint(path, fingerprint(table_of(10, timedelta(minutes=1)))).load() == 0


def test_pacing_maps_event_time_to_wall_time() -> None:
    table = table_of(7, timedelta(minutes=20))  # two hours of event time
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    produce_replay(table, FakeSink(), speed=3600.0, sleep=sleep, clock=lambda: now[0])

    assert now[0] == pytest.approx(2.0)  # 2 h of 2013 at an hour per second
    assert all(wait > 0 for wait in waits)
