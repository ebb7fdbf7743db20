"""Small helpers the integration tests share for real Kafka: unique topics and draining them."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from chainwatch.settings import Settings


def create_topics(settings: Settings, names: Iterable[str], partitions: int = 3) -> list[str]:
    """Create ``names`` (they must be new) and wait until each exists."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    topics = list(names)
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1) for name in topics])
    for future in futures.values():
        future.result(timeout=30)
    return topics


def delete_topics(settings: Settings, names: Iterable[str]) -> None:
    """Delete ``names``, ignoring ones already gone."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for future in admin.delete_topics(list(names)).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=30)


def consume(settings: Settings, topic: str, expected: int, timeout_s: float = 60.0) -> list[tuple[bytes | None, bytes]]:
    """Read ``topic`` from the beginning until ``expected`` messages arrived (or the timeout).

    Returns:
        Every ``(key, value)`` read; the caller asserts on it (more than expected means duplicates).
    """
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"cw-test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    messages: list[tuple[bytes | None, bytes]] = []
    deadline = time.monotonic() + timeout_s
    quiet_until: float | None = None
    try:
        while time.monotonic() < deadline:
            batch = consumer.consume(num_messages=10_000, timeout=0.5)
            for message in batch:
                if message.error():
                    raise KafkaException(message.error())
                messages.append((message.key(), message.value() or b""))
            if len(messages) >= expected:
                # Keep reading briefly so duplicates beyond ``expected`` are seen too.
                quiet_until = quiet_until or time.monotonic() + 2.0
                if time.monotonic() >= quiet_until:
                    break
    finally:
        consumer.close()
    return messages
