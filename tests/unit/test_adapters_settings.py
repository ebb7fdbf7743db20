"""Adapter settings: defaults, environment variables once nested as ``adapters``, and the factory."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainwatch.adapter_settings import AdaptersSettings, DedupSettings, env_var
from chainwatch.settings import describe_validation_error
from streaming.adapters.factory import build_pollers
from streaming.adapters.metrics import AdapterMetrics


class PlatformSettings(BaseSettings):
    """How the lead nests the model into ``chainwatch.settings.Settings``."""

    model_config = SettingsConfigDict(env_prefix="CHAINWATCH_", env_nested_delimiter="__", extra="forbid", frozen=True)

    adapters: AdaptersSettings = Field(default_factory=AdaptersSettings)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CHAINWATCH_"):
            monkeypatch.delenv(name)


def test_defaults_poll_nothing_and_point_at_the_real_apis() -> None:
    settings = AdaptersSettings()

    assert not any(
        section.enabled
        for section in (settings.openweathermap, settings.x, settings.reddit, settings.gdelt, settings.google_news)
    )
    assert str(settings.openweathermap.base_url) == "https://api.openweathermap.org/"
    assert str(settings.x.base_url) == "https://api.x.com/"
    assert str(settings.reddit.base_url) == "https://www.reddit.com/"
    assert str(settings.gdelt.base_url) == "https://api.gdeltproject.org/"
    assert str(settings.google_news.base_url) == "https://news.google.com/"
    assert [facility.facility_id for facility in settings.facilities] == ["EWR", "JFK", "LGA"]


def test_every_field_comes_from_a_chainwatch_adapters_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__X__ENABLED", "true")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__X__BEARER_TOKEN", "AAAA-token")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__X__BASE_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__HTTP__READ_TIMEOUT_S", "3.5")
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__KEYWORDS", '["ground stop", "strike"]')
    monkeypatch.setenv(
        "CHAINWATCH_ADAPTERS__FACILITIES", '[{"facility_id": "ORD", "name": "O\'Hare", "lat": 41.97, "lon": -87.9}]'
    )
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__REDDIT__SUBREDDITS", '["aviation"]')

    # when
    adapters = PlatformSettings().adapters

    # then
    assert adapters.x.enabled
    assert adapters.x.bearer_token is not None
    assert adapters.x.bearer_token.get_secret_value() == "AAAA-token"
    assert "AAAA-token" not in repr(adapters)
    assert str(adapters.x.base_url) == "http://127.0.0.1:8080/"
    assert adapters.http.read_timeout_s == 3.5
    assert adapters.keywords == ("ground stop", "strike")
    assert adapters.facilities[0].facility_id == "ORD"
    assert adapters.reddit.subreddits == ("aviation",)


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("CHAINWATCH_ADAPTERS__X__ENABLED", "CHAINWATCH_ADAPTERS__X__BEARER_TOKEN: required when"),
        ("CHAINWATCH_ADAPTERS__OPENWEATHERMAP__ENABLED", "CHAINWATCH_ADAPTERS__OPENWEATHERMAP__API_KEY: required when"),
    ],
)
def test_an_enabled_api_without_its_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, expected: str
) -> None:
    monkeypatch.setenv(variable, "true")

    with pytest.raises(ValidationError) as caught:
        PlatformSettings()

    assert expected in describe_validation_error(caught.value)


def test_reddit_oauth_needs_both_id_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__REDDIT__CLIENT_ID", "abc")

    with pytest.raises(ValidationError, match="CHAINWATCH_ADAPTERS__REDDIT__CLIENT_SECRET"):
        PlatformSettings()


def test_unknown_keys_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_ADAPTERS__X__BEARER", "typo")

    with pytest.raises(ValidationError, match="bearer"):
        PlatformSettings()


def test_the_dedup_ttl_must_outlive_the_maximum_event_age() -> None:
    with pytest.raises(ValidationError, match=r"ttl_s \(3600\) must exceed max_event_age_s"):
        DedupSettings(ttl_s=3600, max_event_age_s=7200)


def test_keywords_cannot_break_the_query_syntax() -> None:
    with pytest.raises(ValidationError):
        AdaptersSettings(keywords=('delay") OR (anything',))


def test_facilities_are_unique() -> None:
    facility = AdaptersSettings().facilities[0]

    with pytest.raises(ValidationError, match="facilities listed twice: EWR"):
        AdaptersSettings(facilities=(facility, facility))


def test_env_var_names() -> None:
    assert env_var("google_news", "enabled") == "CHAINWATCH_ADAPTERS__GOOGLE_NEWS__ENABLED"
    assert env_var("keywords") == "CHAINWATCH_ADAPTERS__KEYWORDS"


def test_the_factory_builds_a_poller_per_enabled_api_only() -> None:
    # given: GDELT and X on, the rest off
    settings = AdaptersSettings.model_validate(
        {
            "gdelt": {"enabled": True, "poll_interval_s": 900},
            "x": {"enabled": True, "bearer_token": "t", "poll_interval_s": 120},
        }
    )

    # when
    with httpx.Client() as client:
        pollers = build_pollers(
            settings,
            lambda event: None,
            client=client,
            metrics=AdapterMetrics(CollectorRegistry()),
            stop_event=threading.Event(),
        )

    # then
    assert [poller.adapter.name for poller in pollers] == ["x", "gdelt"]
    assert pollers[0].stop_event is pollers[1].stop_event
