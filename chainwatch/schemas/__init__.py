"""Event contracts of every Kafka topic, the dead-letter envelope and their JSON Schemas."""

from chainwatch.schemas.events import (
    DeadLetter,
    Event,
    NewsArticle,
    ShipmentEvent,
    SocialPost,
    VehicleTelemetry,
    WeatherObservation,
)
from chainwatch.schemas.topics import TOPICS, TopicSpec, topic_spec

__all__ = [
    "TOPICS",
    "DeadLetter",
    "Event",
    "NewsArticle",
    "ShipmentEvent",
    "SocialPost",
    "TopicSpec",
    "VehicleTelemetry",
    "WeatherObservation",
    "topic_spec",
]
