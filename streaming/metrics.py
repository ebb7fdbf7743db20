"""Prometheus metrics of ingestion, defined once for the whole process.

Counters carry the topic (and, for dead letters, the reason) as labels, so a dashboard can
show where bad input comes from. They live in the default registry; a process exposes them
with ``prometheus_client.start_http_server`` (the CLI does this with ``--metrics-port``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PRODUCED = Counter(
    "chainwatch_events_produced_total",
    "Events handed to the Kafka producer, by topic.",
    ["topic"],
)
EVENTS_DELIVERED = Counter(
    "chainwatch_events_delivered_total",
    "Events the Kafka broker acknowledged (acks=all), by topic.",
    ["topic"],
)
DELIVERY_FAILURES = Counter(
    "chainwatch_delivery_failures_total",
    "Events whose delivery failed after the producer's retries, by topic.",
    ["topic"],
)
DEAD_LETTERS = Counter(
    "chainwatch_dead_letters_total",
    "Inputs routed to a dead-letter topic, by topic and reason.",
    ["topic", "reason"],
)
LAST_EVENT_TIME = Gauge(
    "chainwatch_ingest_last_event_time_seconds",
    "Event time (Unix seconds) of the newest event produced, by topic.",
    ["topic"],
)
