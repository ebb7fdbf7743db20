"""Options of the MQTT publisher and bridge refuse values that would break their guarantees."""

from __future__ import annotations

import pytest

from chainwatch.errors import ConfigError
from streaming.mqtt import BridgeOptions, PublisherOptions
from streaming.mqtt.client import connect_properties


@pytest.mark.parametrize("receive_maximum", [0, 65_536])
def test_a_receive_maximum_outside_mqtt_range_is_refused(receive_maximum: int) -> None:
    with pytest.raises(ConfigError):
        BridgeOptions(receive_maximum=receive_maximum)


def test_a_bridge_session_must_outlive_a_disconnect() -> None:
    # a zero session expiry would make the broker drop queued telemetry whenever the bridge is away
    with pytest.raises(ConfigError):
        BridgeOptions(session_expiry_s=0)


@pytest.mark.parametrize("max_inflight", [0, 40_000])
def test_a_publisher_window_outside_its_range_is_refused(max_inflight: int) -> None:
    with pytest.raises(ConfigError):
        PublisherOptions(max_inflight=max_inflight)


def test_publisher_reconnect_delays_must_be_ordered() -> None:
    with pytest.raises(ConfigError):
        PublisherOptions(reconnect_min_s=10, reconnect_max_s=5)


def test_connect_properties_carry_the_session_expiry_and_receive_maximum() -> None:
    properties = connect_properties(session_expiry_s=300, receive_maximum=2000)
    assert properties.json() == {"SessionExpiryInterval": 300, "ReceiveMaximum": 2000}  # type: ignore[no-untyped-call]


def test_connect_properties_leave_out_what_is_not_asked_for() -> None:
    assert connect_properties().json() == {}  # type: ignore[no-untyped-call]
