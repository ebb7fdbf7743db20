"""Which event model each Kafka topic carries, and which field keys its messages.

Messages are keyed by their entity so one entity always lands in one partition and its
events stay ordered.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainwatch.errors import NotFoundError
from chainwatch.schemas.events import (
    Event,
    NewsArticle,
    ShipmentEvent,
    SocialPost,
    VehicleTelemetry,
    WeatherObservation,
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's name, event model and the field whose value is the message key."""

    name: str
    model: type[Event]
    key_field: str

    @property
    def dlq(self) -> str:
        """The topic's dead-letter topic."""
        return f"{self.name}.dlq"

    def key_of(self, event: Event) -> str:
        """The message key of ``event`` (its entity id, or its event id when it has none)."""
        value = getattr(event, self.key_field)
        return str(value if value is not None else event.event_id)


TOPICS: dict[str, TopicSpec] = {
    spec.name: spec
    for spec in (
        TopicSpec("shipments.events.v1", ShipmentEvent, "shipment_id"),
        TopicSpec("weather.observations.v1", WeatherObservation, "facility_id"),
        TopicSpec("social.posts.v1", SocialPost, "event_id"),
        TopicSpec("news.articles.v1", NewsArticle, "event_id"),
        TopicSpec("iot.telemetry.v1", VehicleTelemetry, "vehicle_id"),
    )
}


def topic_spec(topic: str) -> TopicSpec:
    """The spec of ``topic``, or :class:`NotFoundError`."""
    try:
        return TOPICS[topic]
    except KeyError as err:
        msg = f"unknown topic {topic!r}; known: {', '.join(sorted(TOPICS))}"
        raise NotFoundError(msg) from err
