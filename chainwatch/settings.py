"""Typed settings: one frozen object per process, built at the entry point and passed down.

Every field can be set from the environment with the ``CHAINWATCH_`` prefix and ``__`` for
nesting, e.g. ``CHAINWATCH_PROFILE=services`` or ``CHAINWATCH_POSTGRES__PORT=5433``. Nothing
reads the environment at import time: call :func:`load_settings` in ``main`` and hand the
result down.

Two profiles share one code path:

* ``local`` (default) — embedded: no servers, stores are files under ``data_dir``.
* ``services`` — real Kafka, PostgreSQL, Redis, Mosquitto, an S3 endpoint and MLflow; secrets
  are required, and outside ``development`` the local development placeholders are refused.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainwatch.adapter_settings import AdaptersSettings
from chainwatch.envnames import ENV_NESTED_DELIMITER, ENV_PREFIX
from chainwatch.errors import ConfigError

Port = Annotated[int, Field(ge=1, le=65535)]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
Hostname = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-]+$")]

#: Secrets shipped in ``deploy/local/services.env`` for the local, loopback-only services.
#: Accepted in ``development``; refused anywhere else.
DEVELOPMENT_PLACEHOLDER_SECRETS = frozenset({"chainwatch-dev", "changeme", "password", "secret"})


class Profile(StrEnum):
    """Which stores and transports the process uses; the logic is the same in both."""

    LOCAL = "local"
    SERVICES = "services"


class _Section(BaseModel):
    """Base of every nested settings section: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: Kafka topics of the platform with their partition counts (keyed by entity id).
DEFAULT_TOPIC_PARTITIONS: dict[str, int] = {
    "shipments.events.v1": 6,
    "weather.observations.v1": 3,
    "social.posts.v1": 3,
    "news.articles.v1": 3,
    "iot.telemetry.v1": 6,
}


class KafkaSettings(_Section):
    """Kafka broker address, topics and the local single-node KRaft broker."""

    host: Hostname = Field("127.0.0.1", description="Broker host clients connect to.")
    port: Port = Field(9092, description="Broker client (PLAINTEXT) port.")
    controller_port: Port = Field(
        19092, description="KRaft controller port of the local broker (9093 is Alertmanager's)."
    )
    topics: dict[str, Annotated[int, Field(ge=1, le=1024)]] = Field(
        default_factory=lambda: dict(DEFAULT_TOPIC_PARTITIONS),
        description="Topic name to partition count; each also gets a '<topic>.dlq'.",
    )
    dlq_partitions: Annotated[int, Field(ge=1, le=64)] = Field(
        1, description="Partition count of every dead-letter topic."
    )
    replication_factor: Annotated[int, Field(ge=1, le=5)] = Field(
        1, description="Replication factor of created topics (1 on a single local broker)."
    )
    heap_mb: Annotated[int, Field(ge=128, le=16384)] = Field(512, description="Java heap of the local broker, in MiB.")

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` string Kafka clients take."""
        return f"{self.host}:{self.port}"

    def all_topics(self) -> dict[str, int]:
        """Every topic to create, dead-letter topics included, with partition counts."""
        topics = dict(self.topics)
        topics.update({f"{name}.dlq": self.dlq_partitions for name in self.topics})
        return topics


class PostgresSettings(_Section):
    """PostgreSQL holding Feast's offline tables and registry, prediction logs and MLflow."""

    host: Hostname = Field("127.0.0.1", description="Server host.")
    port: Port = Field(5432, description="Server port.")
    user: str = Field("chainwatch", min_length=1, description="Role Chainwatch connects as.")
    password: SecretStr | None = Field(None, description="Password of that role (required in 'services').")
    database: str = Field("chainwatch", min_length=1, description="Database of features and logs.")
    mlflow_database: str = Field("mlflow", min_length=1, description="Database of MLflow's backend store.")
    cluster: str = Field(
        "15/main",
        pattern=r"^\d+/[A-Za-z0-9_\-]+$",
        description="Debian cluster (version/name) the local services profile runs.",
    )

    def dsn(self, database: str | None = None, *, driver: str = "postgresql") -> str:
        """A connection URL for ``database`` (default: the main one), password included."""
        secret = self.password.get_secret_value() if self.password else ""
        user = quote(self.user, safe="")
        auth = f"{user}:{quote(secret, safe='')}@" if secret else f"{user}@"
        return f"{driver}://{auth}{self.host}:{self.port}/{database or self.database}"


class RedisSettings(_Section):
    """Redis, Feast's online store in the services profile and the route-risk cache."""

    host: Hostname = Field("127.0.0.1", description="Server host.")
    port: Port = Field(6379, description="Server port.")
    db: Annotated[int, Field(ge=0, le=15)] = Field(0, description="Database index.")

    @property
    def url(self) -> str:
        """The ``redis://`` URL of the configured database."""
        return f"redis://{self.host}:{self.port}/{self.db}"


class MqttSettings(_Section):
    """The MQTT broker (Mosquitto) that vehicles publish telemetry to."""

    host: Hostname = Field("127.0.0.1", description="Broker host.")
    port: Port = Field(1883, description="Broker port.")
    topic_prefix: str = Field("chainwatch/telemetry", min_length=1, description="Prefix of per-vehicle topics.")
    bridge_client_id: str = Field(
        "chainwatch-bridge",
        min_length=1,
        max_length=64,
        description="Stable client id of the MQTT→Kafka bridge: its persistent session is keyed on it.",
    )
    simulator_client_id: str = Field(
        "chainwatch-iot-sim", min_length=1, max_length=64, description="Client id of the IoT simulator's publisher."
    )


class S3Settings(_Section):
    """The S3 endpoint for the raw archive, training sets and MLflow artefacts."""

    endpoint_url: HttpUrl | None = Field(
        HttpUrl("http://127.0.0.1:9000"), description="S3-compatible endpoint; unset means AWS itself."
    )
    port: Port = Field(9000, description="Port of the local S3 endpoint (moto server).")
    region: str = Field("us-east-1", min_length=1, description="AWS region.")
    access_key_id: str = Field("chainwatch", min_length=1, description="Access key id.")
    secret_access_key: SecretStr | None = Field(None, description="Secret access key (required in 'services').")
    lake_bucket: BucketName = Field("chainwatch-lake", description="Raw archive and training sets.")
    mlflow_bucket: BucketName = Field("chainwatch-mlflow", description="MLflow artefacts.")

    def client_env(self) -> dict[str, str]:
        """Environment variables that make boto3, s3fs, pyarrow and MLflow use this endpoint."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_DEFAULT_REGION": self.region}
        if self.secret_access_key:
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key.get_secret_value()
        if self.endpoint_url:
            endpoint = str(self.endpoint_url).rstrip("/")
            env["AWS_ENDPOINT_URL"] = endpoint
            env["MLFLOW_S3_ENDPOINT_URL"] = endpoint
        return env

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``s3fs.S3FileSystem`` (and pandas ``storage_options``)."""
        options: dict[str, Any] = {"key": self.access_key_id}
        if self.secret_access_key:
            options["secret"] = self.secret_access_key.get_secret_value()
        client: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            client["endpoint_url"] = str(self.endpoint_url).rstrip("/")
        options["client_kwargs"] = client
        return options


class MLflowSettings(_Section):
    """The MLflow tracking server (services) or local store (local)."""

    host: Hostname = Field("127.0.0.1", description="Tracking server host.")
    port: Port = Field(5000, description="Tracking server port.")
    workers: Annotated[int, Field(ge=1, le=16)] = Field(1, description="Server worker processes.")

    @property
    def server_url(self) -> str:
        """The tracking server's base URL."""
        return f"http://{self.host}:{self.port}"


class Settings(BaseSettings):
    """Everything a Chainwatch process is configured with. Build once, pass down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    profile: Profile = Field(Profile.LOCAL, description="'local' (embedded, no servers) or 'services'.")
    environment: Literal["development", "production"] = Field(
        "development", description="'production' refuses the local development placeholder secrets."
    )
    data_dir: Path = Field(Path("data"), description="Local stores, datasets and caches.")
    run_dir: Path = Field(Path(".run"), description="Local services' data, logs and PID files.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    readiness_timeout_s: Annotated[float, Field(gt=0, le=600)] = Field(
        60.0, description="How long readiness checks wait for a service before giving up."
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka.")
    postgres: PostgresSettings = Field(default_factory=PostgresSettings, description="PostgreSQL.")
    redis: RedisSettings = Field(default_factory=RedisSettings, description="Redis.")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="Mosquitto.")
    s3: S3Settings = Field(default_factory=S3Settings, description="S3 endpoint.")
    mlflow: MLflowSettings = Field(default_factory=MLflowSettings, description="MLflow.")
    adapters: AdaptersSettings = Field(default_factory=AdaptersSettings, description="Live API adapters.")

    @model_validator(mode="after")
    def _secrets_fit_profile(self) -> Settings:
        required = {
            "CHAINWATCH_POSTGRES__PASSWORD": self.postgres.password,
            "CHAINWATCH_S3__SECRET_ACCESS_KEY": self.s3.secret_access_key,
        }
        if self.profile is Profile.SERVICES:
            missing = [name for name, value in required.items() if not value]
            if missing:
                msg = f"{', '.join(missing)}: required in the 'services' profile but not set"
                raise ValueError(msg)
        if self.environment == "production":
            weak = [
                name
                for name, value in required.items()
                if value and value.get_secret_value() in DEVELOPMENT_PLACEHOLDER_SECRETS
            ]
            if weak:
                msg = f"{', '.join(weak)}: a development placeholder is not allowed in production"
                raise ValueError(msg)
        return self

    @property
    def lake_dir(self) -> Path:
        """Local stand-in for the S3 lake bucket (local profile)."""
        return self.data_dir / "lake"

    @property
    def mlflow_tracking_uri(self) -> str:
        """Where MLflow runs go: the tracking server, or a local store under ``data_dir``."""
        if self.profile is Profile.SERVICES:
            return self.mlflow.server_url
        return f"sqlite:///{(self.data_dir / 'mlflow' / 'mlflow.db').resolve()}"


def env_var_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable behind a pydantic error location, e.g. ``CHAINWATCH_KAFKA__PORT``."""
    parts = [str(part).upper() for part in loc if isinstance(part, str)]
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts) if parts else ENV_PREFIX + "*"


def describe_validation_error(err: ValidationError) -> str:
    """One line per problem, each naming the variable and what is wrong with it."""
    lines = []
    for problem in err.errors(include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["loc"]:
            lines.append(f"{env_var_name(problem['loc'])}: {message} (got {problem.get('input')!r})")
        else:
            lines.append(message)
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (and ``overrides``), or raise :class:`ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        msg = "invalid settings:\n" + describe_validation_error(err)
        raise ConfigError(msg) from err
