"""Per-vehicle MQTT topics: names, the bridge's subscription and parsing a topic back."""

from __future__ import annotations

import pytest

from chainwatch.errors import ConfigError
from streaming.mqtt.topics import (
    MAX_KEY_CHARS,
    check_prefix,
    telemetry_subscription,
    telemetry_topic,
    vehicle_of_topic,
)

PREFIX = "chainwatch/telemetry"


def test_a_vehicle_publishes_to_its_own_topic_under_the_prefix() -> None:
    # given a vehicle / when its topic is named / then it is one level under the prefix
    assert telemetry_topic(PREFIX, "N14228") == "chainwatch/telemetry/N14228"


def test_the_bridge_subscribes_to_every_vehicle_topic_with_a_single_level_wildcard() -> None:
    assert telemetry_subscription(PREFIX) == "chainwatch/telemetry/+"


def test_a_topic_named_for_a_vehicle_parses_back_to_that_vehicle() -> None:
    # given the topic of a vehicle / when it is parsed / then the vehicle comes back
    assert vehicle_of_topic(PREFIX, telemetry_topic(PREFIX, "N14228")) == "N14228"


@pytest.mark.parametrize(
    "topic",
    [
        "chainwatch/telemetry",  # the prefix itself
        "chainwatch/telemetry/",  # an empty vehicle level
        "chainwatch/telemetry/N1/extra",  # more than one level
        "chainwatch/telemetryN1",  # not under the prefix, only sharing its start
        "other/telemetry/N1",
    ],
)
def test_a_topic_that_names_no_single_vehicle_under_the_prefix_parses_to_none(topic: str) -> None:
    assert vehicle_of_topic(PREFIX, topic) is None


def test_a_vehicle_level_that_is_not_a_vehicle_id_is_kept_for_the_gate_to_judge() -> None:
    # given a level that breaks the vehicle id pattern / when parsed / then it is returned as found
    assert vehicle_of_topic(PREFIX, "chainwatch/telemetry/not a vehicle") == "not a vehicle"


def test_an_overlong_vehicle_level_is_cut_so_it_fits_a_dead_letter_key() -> None:
    level = "X" * 5000
    assert vehicle_of_topic(PREFIX, f"{PREFIX}/{level}") == "X" * MAX_KEY_CHARS


@pytest.mark.parametrize("prefix", ["chainwatch/telemetry", "fleet", "a/b/c"])
def test_plain_topic_levels_make_a_valid_prefix(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "fleet/", "/fleet", "a//b", "fleet/+", "fleet/#", "$SYS/x"])
def test_a_prefix_with_an_empty_level_a_wildcard_or_a_dollar_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError):
        check_prefix(prefix)
