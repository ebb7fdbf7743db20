"""IoT telemetry over MQTT: the vehicles' publisher and the MQTT → Kafka bridge.

* :class:`TelemetryPublisher` publishes :class:`~chainwatch.schemas.VehicleTelemetry` to
  ``<prefix>/<vehicle_id>`` at QoS 1 (what ``chainwatch ingest iot`` runs);
* :class:`TelemetryBridge` forwards those topics through the validation gate to
  ``iot.telemetry.v1`` (bad input to ``iot.telemetry.v1.dlq``), acknowledging each MQTT
  message only after Kafka confirmed it (what ``chainwatch ingest bridge`` runs).
"""

from streaming.mqtt.bridge import BridgeError, BridgeOptions, BridgeStats, TelemetryBridge
from streaming.mqtt.pacing import EventTimePacer, Pacer, RatePacer
from streaming.mqtt.publisher import PublisherOptions, PublishError, PublishReport, TelemetryPublisher

__all__ = [
    "BridgeError",
    "BridgeOptions",
    "BridgeStats",
    "EventTimePacer",
    "Pacer",
    "PublishError",
    "PublishReport",
    "PublisherOptions",
    "RatePacer",
    "TelemetryBridge",
    "TelemetryPublisher",
]
