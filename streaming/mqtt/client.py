"""The paho-mqtt 2.x clients of Chainwatch: MQTT v5, callback API version 2.

Both sides speak MQTT v5: the publisher reads the reason code of every PUBACK (a broker can
refuse a message, e.g. over quota), and the bridge resumes a persistent session
(``clean_start=False`` with a session expiry interval) and bounds the messages the broker
sends it before they are acknowledged (Receive Maximum).
"""

from __future__ import annotations

import uuid

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

#: The largest Receive Maximum MQTT v5 allows (two bytes).
MAX_RECEIVE_MAXIMUM = 65_535


def new_client(client_id: str, *, manual_ack: bool = False) -> Client:
    """An MQTT v5 client with paho's version-2 callbacks.

    Args:
        client_id: The client identifier; a persistent session is keyed by it.
        manual_ack: Leave PUBACKs of received QoS 1 messages to ``client.ack(mid, qos)``.
    """
    return Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=manual_ack,
    )


def random_client_id(prefix: str) -> str:
    """A client id unique to this process: ``<prefix>-<12 hex digits>``."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def connect_properties(*, session_expiry_s: int = 0, receive_maximum: int | None = None) -> Properties:
    """CONNECT properties: how long the broker keeps the session, how many unacked messages we take.

    Args:
        session_expiry_s: Seconds the broker keeps the session after a disconnect (0: none).
        receive_maximum: At most this many QoS 1/2 messages unacknowledged at once (``None``:
            the protocol default, 65535).
    """
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho leaves __init__ untyped
    if session_expiry_s:
        properties.SessionExpiryInterval = session_expiry_s
    if receive_maximum is not None:
        properties.ReceiveMaximum = receive_maximum
    return properties
