"""Run live API adapters: events to Kafka through the validation gate (services) or to stdout (local).

One command per kind of source — ``weather`` (OpenWeatherMap), ``social`` (X, Reddit) and
``news`` (GDELT, Google News) — runs the enabled adapters of that kind, each in its own poller
thread, until interrupted or until every poller has made ``max_polls`` polls.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Literal

import prometheus_client

from chainwatch.adapter_settings import AdaptersSettings, env_var
from chainwatch.errors import ConfigError
from chainwatch.schemas.events import DeadLetter, Event
from chainwatch.schemas.topics import TOPICS, TopicSpec
from chainwatch.settings import Profile, Settings
from streaming.adapters.factory import build_pollers
from streaming.adapters.http import new_http_client
from streaming.adapters.metrics import AdapterMetrics
from streaming.kafka.gate import EventGate, KnownEntities
from streaming.kafka.producer import EventProducer
from streaming.kafka.router import GatedProducer
from streaming.metrics import DEAD_LETTERS

Kind = Literal["weather", "social", "news"]

#: The adapter sections of each kind.
KIND_SECTIONS: dict[str, tuple[str, ...]] = {
    "weather": ("openweathermap",),
    "social": ("x", "reddit"),
    "news": ("gdelt", "google_news"),
}


def only_kind(adapters: AdaptersSettings, kind: Kind) -> AdaptersSettings:
    """``adapters`` with every section outside ``kind`` disabled.

    Raises:
        ConfigError: No adapter of that kind is enabled (the message names the variables).
    """
    sections = KIND_SECTIONS[kind]
    if not any(getattr(adapters, name).enabled for name in sections):
        names = " or ".join(f"{env_var(name, 'enabled')}=true" for name in sections)
        msg = f"no {kind} adapter is enabled: set {names} (and its key; see docs/adapters.md)"
        raise ConfigError(msg)
    update = {
        name: getattr(adapters, name).model_copy(update={"enabled": False})
        for name in ("openweathermap", "x", "reddit", "gdelt", "google_news")
        if name not in sections
    }
    return adapters.model_copy(update=update)


def spec_of(event: Event) -> TopicSpec:
    """The topic an event belongs on."""
    return next(spec for spec in TOPICS.values() if type(event) is spec.model)


class KafkaEventSink:
    """Thread-safe sink of adapter events: each through its topic's gate, then to Kafka."""

    def __init__(self, settings: Settings, producer: EventProducer) -> None:
        known = KnownEntities(facilities=frozenset(f.facility_id for f in settings.adapters.facilities))
        self._producer = producer
        self._routers = {
            name: GatedProducer(producer, EventGate(spec, source="live-adapters", known=known))
            for name, spec in TOPICS.items()
        }
        self._lock = threading.Lock()

    def event(self, event: Event) -> None:
        """Check and produce one event (or its dead letter)."""
        with self._lock:  # the gate's dedup state is shared by the poller threads
            self._routers[spec_of(event).name].submit_event(event)

    def dead_letter(self, letter: DeadLetter) -> None:
        """Produce an unreadable response item to its topic's dead-letter topic."""
        DEAD_LETTERS.labels(letter.topic, letter.reason).inc()
        self._producer.send_raw(f"{letter.topic}.dlq", letter.key, letter.model_dump_json().encode())


def _print_event(event: Event) -> None:
    sys.stdout.write(f"{spec_of(event).name}\t{event.model_dump_json()}\n")
    sys.stdout.flush()


def _print_dead_letter(letter: DeadLetter) -> None:
    sys.stderr.write(f"dead letter {letter.topic} ({letter.reason}): {letter.detail}\n")


def run_live(settings: Settings, kind: Kind, *, max_polls: int | None, stop: threading.Event | None = None) -> int:
    """Poll the enabled adapters of ``kind``; returns how many pollers ran.

    Args:
        settings: Adapters, Kafka and the profile.
        kind: ``weather``, ``social`` or ``news``.
        max_polls: Polls per adapter before returning; ``None`` runs until ``stop`` is set.
        stop: Set it (or press Ctrl-C) to stop every poller.
    """
    adapters = only_kind(settings.adapters, kind)
    stop = stop or threading.Event()
    producer: EventProducer | None = None
    sink: Callable[[Event], None] = _print_event
    dead: Callable[[DeadLetter], None] = _print_dead_letter
    if settings.profile is Profile.SERVICES:
        producer = EventProducer(settings.kafka, client_id=f"chainwatch-live-{kind}")
        kafka_sink = KafkaEventSink(settings, producer)
        sink, dead = kafka_sink.event, kafka_sink.dead_letter
    with new_http_client(adapters.http) as client:
        metrics = AdapterMetrics(prometheus_client.REGISTRY)
        pollers = build_pollers(adapters, sink, client=client, metrics=metrics, stop_event=stop, dead_letters=dead)
        threads = [
            threading.Thread(target=poller.run, kwargs={"max_polls": max_polls}, name=f"poll-{kind}-{index}")
            for index, poller in enumerate(pollers)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except KeyboardInterrupt:
            stop.set()
            for thread in threads:
                thread.join()
    if producer is not None:
        producer.flush()
    return len(pollers)
