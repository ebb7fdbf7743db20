"""The vehicles' side of IoT ingestion: telemetry published to Mosquitto at QoS 1.

Each reading is published as its JSON (``event.model_dump_json()``) to the vehicle's topic
``<prefix>/<vehicle_id>`` at QoS 1, and counts as sent only when the broker's PUBACK arrived.

Delivery is **at least once**. At most ``max_inflight`` messages wait for their PUBACK; when
the window is full, :meth:`TelemetryPublisher.publish` blocks. When the broker goes away,
paho's network thread reconnects with exponential backoff and re-sends every message not yet
PUBACKed (with the DUP flag), so a message the broker received just before it went down may
arrive twice. That is harmless: event ids are stable, and the bridge's gate dead-letters the
second copy as a ``duplicate`` instead of producing it again.

The window is the publisher's own, not paho's ``max_inflight_messages_set(n)``: with a limit
set, paho rescans every outstanding message on each PUBACK, which at a window of 1000 halved
the publish rate (7k/s instead of 12.5k/s, measured here); so paho's limit is 0 (off) and the
publisher never hands paho more than ``max_inflight`` unacknowledged messages.

Threads: paho's network thread (``loop_start``) only appends PUBACKs to a queue, and wakes the
publishing thread only when as many arrived as it waits for (once per half window, not per
PUBACK: per-PUBACK wake-ups cost as much CPU as the publishing itself); the publishing thread
turns them into counts and ``on_acked`` calls. paho runs ``on_publish`` while holding its own
message lock, so the callback must not take a lock the publishing thread holds around
``publish`` — the queue avoids that deadlock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from chainwatch.errors import ConfigError, DependencyUnavailableError
from chainwatch.schemas.events import VehicleTelemetry
from chainwatch.settings import MqttSettings
from streaming.mqtt.client import new_client, random_client_id
from streaming.mqtt.metrics import MQTT_INFLIGHT, MQTT_PUBACKS, MQTT_PUBLISHED, MQTT_RECONNECTS
from streaming.mqtt.pacing import Pacer
from streaming.mqtt.topics import check_prefix, telemetry_topic

logger = logging.getLogger(__name__)

#: paho numbers messages 1..65535; the window stays well below so ids never collide.
MAX_WINDOW = 32_767
#: How often a blocked publisher looks up to see whether it was closed.
_WAKE_S = 0.5


class PublishError(DependencyUnavailableError):
    """The broker refused messages, or did not acknowledge them in time."""


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    """How the telemetry publisher talks to the broker.

    Attributes:
        client_id: MQTT client id (default: ``chainwatch-iot-<random>``).
        max_inflight: Messages sent and not yet PUBACKed, at most (the publishing window);
            when it is full, publishing waits until half of it is acknowledged.
        keepalive_s: MQTT keepalive interval.
        reconnect_min_s: First delay before reconnecting; doubles per failed attempt.
        reconnect_max_s: Longest delay between reconnection attempts.
        connect_timeout_s: How long :meth:`TelemetryPublisher.connect` waits for the broker.
    """

    client_id: str | None = None
    max_inflight: int = 1000
    keepalive_s: int = 30
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30
    connect_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_inflight <= MAX_WINDOW:
            msg = f"max_inflight must be within 1..{MAX_WINDOW}, got {self.max_inflight}"
            raise ConfigError(msg)
        if not 1 <= self.reconnect_min_s <= self.reconnect_max_s:
            msg = "reconnect delays must satisfy 1 <= reconnect_min_s <= reconnect_max_s"
            raise ConfigError(msg)


@dataclass
class PublishReport:
    """What the publisher sent and what the broker acknowledged so far.

    Attributes:
        published: Messages handed to the client (each counted once, however often re-sent).
        acked: Messages the broker accepted (PUBACK with a success reason code).
        rejected: Messages the broker refused (PUBACK with a failure reason code).
        reconnects: Reconnections after the first connection.
        errors: The first few rejection reasons.
    """

    published: int = 0
    acked: int = 0
    rejected: int = 0
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Messages still waiting for their PUBACK."""
        return self.published - self.acked - self.rejected


class TelemetryPublisher:
    """Publish vehicle telemetry to per-vehicle MQTT topics at QoS 1, waiting for PUBACKs.

    Use it as a context manager (connect on enter, disconnect on exit), or call
    :meth:`connect` and :meth:`close`.

    Args:
        settings: The broker address and the topic prefix.
        options: Client id, window and reconnection settings.
        on_acked: Called with the event id of every reading the broker accepted, on the
            publishing thread (inside :meth:`publish`, :meth:`flush` or :meth:`publish_all`).
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        options: PublisherOptions | None = None,
        on_acked: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._options = options or PublisherOptions()
        self._prefix = check_prefix(settings.topic_prefix)
        self._on_acked = on_acked
        self.client_id = self._options.client_id or random_client_id("chainwatch-iot")
        self.report = PublishReport()
        self._pubacks: deque[tuple[int, ReasonCode]] = deque()  # appended by paho's thread
        self._puback_arrived = threading.Event()
        self._wake_at = 0  # paho's thread sets _puback_arrived once this many PUBACKs wait (0: nobody waits)
        self._pending: dict[int, str] = {}  # mid -> event id; publishing thread only
        self._connected = threading.Event()
        self._connections = 0
        self._closed = False
        self._accepted = MQTT_PUBACKS.labels("accepted")
        self._inflight = MQTT_INFLIGHT.labels("publisher")
        self._client = self._build_client()

    def _build_client(self) -> Client:
        client = new_client(self.client_id)
        client.max_inflight_messages_set(0)  # the window bounds it; paho scans every message per PUBACK otherwise
        client.reconnect_delay_set(self._options.reconnect_min_s, self._options.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    # --- paho's network thread -------------------------------------------------------------

    def _on_connect(
        self, _client: Client, _userdata: Any, _flags: ConnectFlags, code: ReasonCode, _props: Properties | None
    ) -> None:
        if code.is_failure:
            logger.error("MQTT broker refused publisher %s: %s", self.client_id, code)
            return
        self._connections += 1
        if self._connections > 1:
            self.report.reconnects += 1
            MQTT_RECONNECTS.labels("publisher").inc()
            logger.warning("publisher %s reconnected; re-sending unacknowledged messages", self.client_id)
        self._connected.set()

    def _on_disconnect(
        self,
        _client: Client,
        _userdata: Any,
        _flags: DisconnectFlags,
        code: ReasonCode,
        _props: Properties | None,
    ) -> None:
        self._connected.clear()
        if not self._closed:
            logger.warning("publisher %s lost the broker (%s); reconnecting", self.client_id, code)

    def _on_publish(
        self, _client: Client, _userdata: Any, mid: int, code: ReasonCode, _props: Properties | None
    ) -> None:
        self._pubacks.append((mid, code))
        wake_at = self._wake_at
        if wake_at and len(self._pubacks) >= wake_at:
            self._puback_arrived.set()

    # --- the publishing thread -------------------------------------------------------------

    def connect(self) -> None:
        """Start the network thread and wait for the first successful connection.

        Raises:
            PublishError: No successful CONNACK within ``connect_timeout_s``.
        """
        self._client.connect_async(self._settings.host, self._settings.port, keepalive=self._options.keepalive_s)
        self._client.loop_start()
        if not self._connected.wait(self._options.connect_timeout_s):
            self.close()
            msg = (
                f"no MQTT connection to {self._settings.host}:{self._settings.port} "
                f"within {self._options.connect_timeout_s:.0f}s"
            )
            raise PublishError(msg)

    def publish(self, event: VehicleTelemetry) -> None:
        """Publish one reading to its vehicle's topic; blocks while the window is full.

        A reading published while the broker is away is kept and sent after the reconnect.

        Raises:
            PublishError: The publisher was closed, or the client refused the message.
        """
        if len(self._pending) >= self._options.max_inflight:
            self._make_room()
        topic = telemetry_topic(self._prefix, event.vehicle_id)
        info = self._client.publish(topic, event.model_dump_json().encode(), qos=1)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            msg = f"MQTT client refused a message for {topic}: rc={info.rc}"
            raise PublishError(msg)
        self._pending[info.mid] = event.event_id
        self.report.published += 1
        MQTT_PUBLISHED.inc()
        self._drain()

    def publish_all(
        self,
        events: Iterable[VehicleTelemetry],
        *,
        pacer: Pacer | None = None,
        stop: threading.Event | None = None,
        flush_timeout_s: float = 60.0,
    ) -> PublishReport:
        """Publish ``events`` in order, paced, until they run out or ``stop`` is set; then flush.

        Args:
            events: Readings, e.g. the telemetry simulator's output (any iterable).
            pacer: When each reading is due (default: as fast as the window allows).
            stop: Set it to stop early; what was published is still flushed.
            flush_timeout_s: How long to wait for the last PUBACKs.

        Returns:
            The report once every published reading was acknowledged.

        Raises:
            PublishError: Readings were refused or not acknowledged in time.
        """
        waiter = stop or threading.Event()
        for event in events:
            if waiter.is_set():
                break
            if pacer is not None:
                delay = pacer.delay_s(event, time.monotonic())
                if delay > 0 and waiter.wait(delay):
                    break
            self.publish(event)
        return self.flush(flush_timeout_s)

    def flush(self, timeout_s: float = 60.0) -> PublishReport:
        """Wait until every published reading has its PUBACK.

        Raises:
            PublishError: Some readings are still unacknowledged after ``timeout_s``, or the
                broker refused some.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._drain()
            if not self._pending:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = f"{len(self._pending)} MQTT messages not acknowledged after {timeout_s:.0f}s"
                raise PublishError(msg)
            self._wait_for_pubacks(len(self._pending), min(remaining, _WAKE_S))
        if self.report.rejected:
            msg = f"the broker refused {self.report.rejected} messages; first reasons: {self.report.errors}"
            raise PublishError(msg)
        return self.report

    def close(self) -> None:
        """Disconnect and stop the network thread; readings not yet PUBACKed are abandoned.

        Call :meth:`flush` first to wait for them.
        """
        self._closed = True
        self._client.disconnect()
        self._client.loop_stop()
        self._inflight.set(0)

    def __enter__(self) -> TelemetryPublisher:
        self.connect()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def _make_room(self) -> None:
        """Block until the window is half empty again (one wake-up per half window, not per PUBACK)."""
        low_water = self._options.max_inflight // 2
        self._drain()
        while len(self._pending) > low_water:
            if self._closed:
                msg = "the publisher is closed"
                raise PublishError(msg)
            self._wait_for_pubacks(len(self._pending) - low_water, _WAKE_S)
            self._drain()

    def _wait_for_pubacks(self, count: int, timeout_s: float) -> None:
        """Wait until ``count`` PUBACKs are queued, or ``timeout_s`` passed."""
        self._puback_arrived.clear()  # clear, then check, then wait: a set in between is kept
        self._wake_at = count
        try:
            if len(self._pubacks) < count:
                self._puback_arrived.wait(timeout_s)
        finally:
            self._wake_at = 0

    def _drain(self) -> None:
        """Turn the PUBACKs paho queued into counts and ``on_acked`` calls."""
        report = self.report
        pubacks, pending, on_acked = self._pubacks, self._pending, self._on_acked
        accepted = 0
        while pubacks:
            mid, code = pubacks.popleft()
            event_id = pending.pop(mid, None)
            if code.is_failure:
                report.rejected += 1
                MQTT_PUBACKS.labels("rejected").inc()
                if len(report.errors) < 5:
                    report.errors.append(f"{event_id}: {code}")
                logger.error("broker refused telemetry %s: %s", event_id, code)
                continue
            accepted += 1
            if on_acked is not None and event_id is not None:
                on_acked(event_id)
        if accepted:
            report.acked += accepted
            self._accepted.inc(accepted)
            self._inflight.set(len(pending))
