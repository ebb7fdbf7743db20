"""Settings: defaults, env parsing, and errors that name the variable."""

from __future__ import annotations

import pytest

from chainwatch.errors import ConfigError
from chainwatch.settings import DEFAULT_TOPIC_PARTITIONS, Profile, load_settings

SERVICES_ENV = {
    "CHAINWATCH_PROFILE": "services",
    "CHAINWATCH_POSTGRES__PASSWORD": "s3cret-pw",
    "CHAINWATCH_S3__SECRET_ACCESS_KEY": "s3cret-key",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CHAINWATCH_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_local_profile_on_loopback() -> None:
    settings = load_settings()

    assert settings.profile is Profile.LOCAL
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.mlflow_tracking_uri.startswith("sqlite:///")


def test_nested_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_KAFKA__PORT", "29092")
    monkeypatch.setenv("CHAINWATCH_KAFKA__TOPICS", '{"a.v1": 2}')

    settings = load_settings()

    assert settings.kafka.bootstrap_servers == "127.0.0.1:29092"
    assert settings.kafka.all_topics() == {"a.v1": 2, "a.v1.dlq": 1}


def test_every_topic_gets_a_dead_letter_topic() -> None:
    topics = load_settings().kafka.all_topics()

    for name, partitions in DEFAULT_TOPIC_PARTITIONS.items():
        assert topics[name] == partitions
        assert topics[f"{name}.dlq"] == 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CHAINWATCH_KAFKA__PORT", "99999", "less than or equal to 65535"),
        ("CHAINWATCH_POSTGRES__PORT", "five", "valid integer"),
        ("CHAINWATCH_S3__ENDPOINT_URL", "not a url", "valid URL"),
        ("CHAINWATCH_PROFILE", "cloud", "'local' or 'services'"),
        ("CHAINWATCH_REDIS__HOST", "bad host!", "should match pattern"),
    ],
)
def test_an_invalid_setting_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert variable in str(caught.value)
    assert expected in str(caught.value)


def test_unknown_nested_keys_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_KAFKA__BOOTSTRAP", "x:1")

    with pytest.raises(ConfigError, match="CHAINWATCH_KAFKA__BOOTSTRAP"):
        load_settings()


def test_services_profile_requires_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_PROFILE", "services")
    monkeypatch.setenv("CHAINWATCH_S3__SECRET_ACCESS_KEY", "key")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "CHAINWATCH_POSTGRES__PASSWORD" in str(caught.value)
    assert "CHAINWATCH_S3__SECRET_ACCESS_KEY" not in str(caught.value)


def test_services_profile_with_secrets_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SERVICES_ENV.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.profile is Profile.SERVICES
    assert settings.postgres.dsn() == "postgresql://chainwatch:s3cret-pw@127.0.0.1:5432/chainwatch"
    assert settings.s3.client_env()["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert settings.mlflow_tracking_uri == "http://127.0.0.1:5000"


def test_passwords_with_special_characters_are_encoded_in_the_dsn() -> None:
    settings = load_settings(postgres={"password": "p@ss/w:rd"})

    assert settings.postgres.dsn("mlflow") == "postgresql://chainwatch:p%40ss%2Fw%3Ard@127.0.0.1:5432/mlflow"


def test_production_refuses_development_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**SERVICES_ENV, "CHAINWATCH_POSTGRES__PASSWORD": "chainwatch-dev"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHAINWATCH_ENVIRONMENT", "production")

    with pytest.raises(ConfigError, match="CHAINWATCH_POSTGRES__PASSWORD: a development placeholder"):
        load_settings()


def test_secrets_are_not_printed() -> None:
    settings = load_settings(postgres={"password": "hunter2"})

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.log_level = "DEBUG"  # type: ignore[misc]
