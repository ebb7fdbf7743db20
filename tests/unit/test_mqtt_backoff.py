"""Reconnection backoff: immediate first retry, doubling with jitter, capped, reset on success."""

from __future__ import annotations

import random

import pytest

from chainwatch.errors import ConfigError
from streaming.mqtt.backoff import Backoff


def test_the_first_attempt_after_a_good_connection_goes_at_once_then_delays_double() -> None:
    # given a backoff without jitter
    backoff = Backoff(0.5, 10.0, jitter=0.0)
    # when attempts keep failing / then delays are 0, 0.5, 1, 2, 4, 8 and capped at 10
    assert [backoff.next_delay() for _ in range(8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_successful_connection_resets_the_backoff() -> None:
    backoff = Backoff(1.0, 30.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.0
    assert backoff.next_delay() == 1.0


def test_jitter_adds_at_most_its_share_and_never_passes_the_cap() -> None:
    backoff = Backoff(1.0, 3.0, jitter=0.2, rng=random.Random(7))
    backoff.next_delay()
    delays = [backoff.next_delay() for _ in range(50)]
    assert 1.0 <= delays[0] <= 1.2
    assert 2.0 <= delays[1] <= 2.4
    assert all(delay <= 3.0 for delay in delays)


def test_a_backoff_needs_a_positive_initial_delay_below_the_cap() -> None:
    with pytest.raises(ConfigError):
        Backoff(0.0, 1.0)
    with pytest.raises(ConfigError):
        Backoff(2.0, 1.0)
