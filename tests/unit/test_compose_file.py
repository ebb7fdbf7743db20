"""deploy/docker-compose.yml stays the Docker twin of the local services profile.

Parsed with PyYAML for the facts that matter to behaviour (loopback ports, the architecture's
port numbers, healthchecks, start order, topics and buckets equal to the settings, no committed
secret), then validated by ``docker compose config -q`` where the compose plugin is installed
(``deploy/tools/install-compose.sh``). Without the plugin that check fails under CI and is
skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from chainwatch.settings import (
    DEFAULT_TOPIC_PARTITIONS,
    DEVELOPMENT_PLACEHOLDER_SECRETS,
    KafkaSettings,
    MLflowSettings,
    MqttSettings,
    PostgresSettings,
    RedisSettings,
    S3Settings,
)

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_FILE = DEPLOY / "local" / "services.env"

#: Services that run once and exit; every other service is long-running.
ONE_SHOT = {"kafka-init", "s3-init"}

#: Host port of each service (docs: ARCHITECTURE.md "Ports (local services profile)").
ARCHITECTURE_PORTS = {
    "kafka": 9092,
    "postgres": 5432,
    "redis": 6379,
    "mosquitto": 1883,
    "s3": 9000,
    "mlflow": 5000,
    "prometheus": 9090,
    "alertmanager": 9093,
}

#: Long-running services whose state must outlive the container.
STATEFUL = {"kafka", "postgres", "redis", "mosquitto", "prometheus", "alertmanager"}

SECRET_VARIABLES = ("CHAINWATCH_POSTGRES__PASSWORD", "CHAINWATCH_S3__SECRET_ACCESS_KEY")


@cache
def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: str) -> dict[str, str]:
    raw = _services()[service].get("environment", {})
    if isinstance(raw, list):
        return dict(str(item).split("=", 1) for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def _published(service: str) -> list[tuple[str, int, int]]:
    """``(host_ip, host_port, container_port)`` of every port the service publishes."""
    published = []
    for port in _services()[service].get("ports", []):
        if isinstance(port, dict):
            published.append((str(port.get("host_ip", "")), int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        host_ip = ":".join(parts[:-2])  # "" when the short form names no address
        published.append((host_ip, int(parts[-2]) if len(parts) > 1 else 0, int(parts[-1])))
    return published


def test_every_published_port_binds_loopback() -> None:
    for name, service in _services().items():
        assert service.get("network_mode") != "host", f"{name} must not use the host network"
        for host_ip, host_port, _ in _published(name):
            assert host_ip == "127.0.0.1", f"{name} publishes {host_port} on {host_ip or 'every address'}"


def test_ports_are_the_architectures_and_the_settings_defaults() -> None:
    published = {name: _published(name) for name in _services() if _published(name)}

    assert {name: [host for _, host, _ in ports] for name, ports in published.items()} == {
        name: [port] for name, port in ARCHITECTURE_PORTS.items()
    }
    # Same number inside the container, so containers and host clients use one address scheme.
    assert all(host == target for ports in published.values() for _, host, target in ports)
    # The settings' defaults point at these very ports.
    assert KafkaSettings().port == ARCHITECTURE_PORTS["kafka"]
    assert PostgresSettings().port == ARCHITECTURE_PORTS["postgres"]
    assert RedisSettings().port == ARCHITECTURE_PORTS["redis"]
    assert MqttSettings().port == ARCHITECTURE_PORTS["mosquitto"]
    assert S3Settings().port == ARCHITECTURE_PORTS["s3"]
    assert MLflowSettings().port == ARCHITECTURE_PORTS["mlflow"]


def test_kafka_listens_where_the_settings_say_and_keeps_off_alertmanagers_port() -> None:
    env = _environment("kafka")
    listeners = dict(re.findall(r"(\w+)://[^:,]*:(\d+)", env["KAFKA_LISTENERS"]))
    kafka = KafkaSettings()

    assert int(listeners["CONTROLLER"]) == kafka.controller_port == 19092
    assert ARCHITECTURE_PORTS["alertmanager"] not in {int(port) for port in listeners.values()}
    assert int(listeners["PLAINTEXT"]) == kafka.port
    # Host clients are told to come back to the loopback address they connected to.
    assert f"PLAINTEXT://{kafka.bootstrap_servers}" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_long_running_service_has_a_healthcheck_and_restarts() -> None:
    services = _services()
    assert ONE_SHOT.issubset(services)
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", f"one-shot {name} must not be restarted"
            assert not service.get("ports"), f"one-shot {name} publishes nothing"
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
        assert healthcheck.get("test") not in (None, [], ["NONE"]), f"{name} has an empty healthcheck"
        assert service.get("restart") == "unless-stopped", f"{name} is not restarted"


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, service in _services().items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions (long form)"
        for dependency, spec in depends_on.items():
            assert dependency in _services(), f"{name} depends on unknown {dependency}"
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert spec.get("condition") == expected, f"{name} -> {dependency}"


def test_init_topics_equal_the_settings() -> None:
    entries = _environment("kafka-init")["TOPICS"].split()
    topics = {name: int(partitions) for name, partitions in (entry.split(":") for entry in entries)}

    assert len(topics) == len(entries), "a topic is listed twice"
    assert {name: n for name, n in topics.items() if not name.endswith(".dlq")} == DEFAULT_TOPIC_PARTITIONS
    assert topics == KafkaSettings().all_topics()
    assert all(topics[f"{name}.dlq"] == 1 for name in DEFAULT_TOPIC_PARTITIONS)


def test_buckets_and_mlflow_stores_equal_the_settings() -> None:
    s3 = S3Settings()
    postgres = PostgresSettings()
    mlflow = _environment("mlflow")

    assert set(_environment("s3-init")["BUCKETS"].split()) == {s3.lake_bucket, s3.mlflow_bucket}
    assert mlflow["MLFLOW_ARTIFACTS_DESTINATION"] == f"s3://{s3.mlflow_bucket}"
    assert mlflow["MLFLOW_S3_ENDPOINT_URL"] == f"http://s3:{s3.port}"
    assert mlflow["MLFLOW_BACKEND_STORE_URI"].endswith(f"@postgres:{postgres.port}/{postgres.mlflow_database}")
    assert f"--port={MLflowSettings().port}" in _services()["mlflow"]["command"]


def test_postgres_has_the_settings_role_and_both_databases() -> None:
    postgres = PostgresSettings()
    env = _environment("postgres")
    init_sql = " ".join(path.read_text(encoding="utf-8") for path in (DEPLOY / "docker/postgres/initdb").glob("*.sql"))

    assert env["POSTGRES_USER"] == postgres.user
    assert env["POSTGRES_DB"] == postgres.database
    assert f"CREATE DATABASE {postgres.mlflow_database} OWNER {postgres.user};" in init_sql


def test_no_secret_is_committed() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for placeholder in DEVELOPMENT_PLACEHOLDER_SECRETS - {"secret", "password"}:
        assert placeholder not in text
    for name in _services():
        for key, value in _environment(name).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert re.fullmatch(r"\$\{CHAINWATCH_[A-Z0-9_]+:\?[^}]*\}", value), f"{name}.{key} must be required"
    for variable in SECRET_VARIABLES:
        assert f"${{{variable}:?" in text
        assert f"${{{variable}:-" not in text, f"{variable} must have no default"


def test_state_lives_in_named_volumes_and_mounted_files_exist() -> None:
    declared = set(_compose().get("volumes") or {})
    for name, service in _services().items():
        named = set()
        for volume in service.get("volumes", []):
            source = str(volume["source"] if isinstance(volume, dict) else volume.split(":")[0])
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
                named.add(source)
        if name in STATEFUL:
            assert named, f"{name} keeps its data in no named volume"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()


def _docker_compose() -> list[str]:
    """The ``docker compose`` command, or fail (under CI) / skip (elsewhere) when absent."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False, timeout=60)
        if probe.returncode == 0:
            return [docker, "compose"]
    reason = "the docker compose plugin is not installed (run deploy/tools/install-compose.sh)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason}; CI must validate deploy/docker-compose.yml")
    pytest.skip(reason)


def _clean_env() -> dict[str, str]:
    """The environment without CHAINWATCH_* variables, so only the env file supplies them."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CHAINWATCH_")}


def test_compose_config_validates_with_the_services_env_file() -> None:
    compose = [*_docker_compose(), "--env-file", str(ENV_FILE), "-f", str(COMPOSE_FILE)]

    check = subprocess.run(
        [*compose, "config", "-q"], capture_output=True, text=True, env=_clean_env(), check=False, timeout=120
    )
    assert check.returncode == 0, check.stderr

    resolved = subprocess.run(
        [*compose, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=True,
        timeout=120,
    )
    model = json.loads(resolved.stdout)
    env_file = dict(
        line.split("=", 1)
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    postgres_env = model["services"]["postgres"]["environment"]
    assert postgres_env["POSTGRES_PASSWORD"] == env_file["CHAINWATCH_POSTGRES__PASSWORD"]
    for name, service in model["services"].items():
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port['published']} beyond loopback"


def test_compose_config_refuses_missing_secrets() -> None:
    compose = [*_docker_compose(), "-f", str(COMPOSE_FILE)]

    check = subprocess.run(
        [*compose, "config", "-q"], capture_output=True, text=True, env=_clean_env(), check=False, timeout=120
    )

    assert check.returncode != 0
    for variable in SECRET_VARIABLES:
        assert variable in check.stderr
