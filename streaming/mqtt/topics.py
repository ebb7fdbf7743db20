"""MQTT topic names of vehicle telemetry: one topic per vehicle under a common prefix.

A vehicle publishes to ``<prefix>/<vehicle_id>``; the bridge subscribes to ``<prefix>/+``,
so the single level after the prefix names the vehicle the broker says the message came
from. These functions are pure so the rules can be tested without a broker.
"""

from __future__ import annotations

from chainwatch.errors import ConfigError

#: Longest topic level kept as a Kafka message key (a dead letter's key allows 1000 characters;
#: a real vehicle id has at most 8).
MAX_KEY_CHARS = 200

_WILDCARDS = ("+", "#")


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can head per-vehicle topics, else raise :class:`ConfigError`.

    A prefix is one or more non-empty topic levels without wildcards and without a leading
    ``$`` (reserved for broker topics) or a trailing ``/``.

    Raises:
        ConfigError: The prefix is empty, has an empty level, a wildcard or starts with ``$``.
    """
    levels = prefix.split("/")
    if not prefix or any(level == "" for level in levels):
        msg = f"MQTT topic prefix {prefix!r} must be non-empty levels separated by single '/'"
        raise ConfigError(msg)
    if any(wildcard in prefix for wildcard in _WILDCARDS) or prefix.startswith("$") or "\x00" in prefix:
        msg = f"MQTT topic prefix {prefix!r} must not contain wildcards, NUL or start with '$'"
        raise ConfigError(msg)
    return prefix


def telemetry_topic(prefix: str, vehicle_id: str) -> str:
    """The topic ``vehicle_id`` publishes its telemetry to: ``<prefix>/<vehicle_id>``."""
    return f"{prefix}/{vehicle_id}"


def telemetry_subscription(prefix: str) -> str:
    """The filter matching every vehicle's topic under ``prefix``: ``<prefix>/+``."""
    return f"{prefix}/+"


def vehicle_of_topic(prefix: str, topic: str) -> str | None:
    """The vehicle level of ``topic`` (``<prefix>/<vehicle>``), or ``None`` if it has none.

    The level is returned as found (not validated as a vehicle id) and cut to
    :data:`MAX_KEY_CHARS`; whether it matches the payload is the gate's business.

    Args:
        prefix: The telemetry topic prefix.
        topic: The topic a message arrived on.

    Returns:
        The single level after the prefix; ``None`` when ``topic`` is not under the prefix,
        the level is empty, or there is more than one level after the prefix.
    """
    head = f"{prefix}/"
    if not topic.startswith(head):
        return None
    vehicle = topic[len(head) :]
    if not vehicle or "/" in vehicle:
        return None
    return vehicle[:MAX_KEY_CHARS]
