"""Prometheus metrics of the MQTT side of ingestion: the telemetry publisher and the bridge.

Defined once per process in the default registry (see :mod:`streaming.metrics`); the Kafka
side of the bridge is counted there too (produced, delivered, failed, dead letters by reason).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MQTT_RECEIVED = Counter(
    "chainwatch_mqtt_messages_received_total",
    "MQTT messages the bridge received (redeliveries included).",
)
MQTT_FORWARDED = Counter(
    "chainwatch_mqtt_messages_forwarded_total",
    "MQTT messages the bridge delivered to their Kafka topic as valid events, by topic.",
    ["topic"],
)
MQTT_DEAD_LETTERED = Counter(
    "chainwatch_mqtt_messages_dead_lettered_total",
    "MQTT messages the bridge delivered to the dead-letter topic, by topic.",
    ["topic"],
)
MQTT_ACKED = Counter(
    "chainwatch_mqtt_messages_acked_total",
    "MQTT messages the bridge acknowledged (PUBACK) after Kafka confirmed them.",
)
MQTT_KAFKA_FAILURES = Counter(
    "chainwatch_mqtt_kafka_failures_total",
    "MQTT messages whose Kafka delivery failed; left unacknowledged for the broker to redeliver.",
)
MQTT_RECONNECTS = Counter(
    "chainwatch_mqtt_reconnects_total",
    "Reconnections to the MQTT broker after a lost or dropped connection, by role.",
    ["role"],
)
MQTT_SESSIONS_LOST = Counter(
    "chainwatch_mqtt_sessions_lost_total",
    "Reconnections on which the broker had no session for the bridge (queued messages may be lost).",
)
MQTT_INFLIGHT = Gauge(
    "chainwatch_mqtt_inflight_messages",
    "QoS 1 messages sent or received and not yet acknowledged, by role.",
    ["role"],
)
MQTT_PUBLISHED = Counter(
    "chainwatch_mqtt_published_total",
    "Telemetry messages the publisher handed to the MQTT client (first attempts only).",
)
MQTT_PUBACKS = Counter(
    "chainwatch_mqtt_pubacks_total",
    "PUBACKs the publisher received, by outcome ('accepted' or 'rejected' with a failure reason code).",
    ["outcome"],
)
