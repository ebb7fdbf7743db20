"""Readiness is code: wait until the services Chainwatch depends on answer.

One module serves scripts, tests and Kubernetes init containers. Each ``check_*`` function
makes one attempt and raises when the service does not answer; each ``wait_for_*`` function
retries its check with exponential backoff (logged) until ``timeout_s`` (default: the
settings' ``readiness_timeout_s``) and then raises
:class:`~chainwatch.errors.DependencyUnavailableError` naming the address and the last error.

Run it as a command, e.g. in an init container::

    python -m chainwatch.readiness kafka postgres --timeout 120

Dependency names: ``kafka``, ``postgres``, ``redis``, ``mqtt`` (alias ``mosquitto``), ``s3``,
``mlflow``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_not_exception_type, stop_after_delay, wait_exponential

from chainwatch.errors import ChainwatchError, DependencyUnavailableError
from chainwatch.settings import Settings, load_settings

# Named explicitly: under ``python -m chainwatch.readiness`` the module is ``__main__``.
logger = logging.getLogger("chainwatch.readiness")

#: Every dependency this module can wait for, in the order a stack starts them.
DEPENDENCIES = ("postgres", "redis", "mqtt", "s3", "kafka", "mlflow")
#: Other names accepted for a dependency (the service manager calls the MQTT broker 'mosquitto').
ALIASES = {"mosquitto": "mqtt"}
#: Seconds one probe may take before it counts as a failed attempt.
PROBE_TIMEOUT_S = 3.0


def describe(err: BaseException | None) -> str:
    """``Type: message`` of an error (some clients' ``repr`` drops the message)."""
    if err is None:
        return "no error"
    text = str(err) or str(err.__cause__ or err.__context__ or "")
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class _AbortWaitError(Exception):
    """Raised inside a wait when waiting longer cannot help (e.g. the process exited)."""


def address_of(name: str, settings: Settings) -> str:
    """The address a dependency is reached at, for messages (``host:port`` or a URL)."""
    name = ALIASES.get(name, name)
    addresses = {
        "kafka": settings.kafka.bootstrap_servers,
        "postgres": f"{settings.postgres.host}:{settings.postgres.port}",
        "redis": f"{settings.redis.host}:{settings.redis.port}",
        "mqtt": f"{settings.mqtt.host}:{settings.mqtt.port}",
        "s3": str(settings.s3.endpoint_url).rstrip("/") if settings.s3.endpoint_url else "aws",
        "mlflow": settings.mlflow.server_url,
    }
    return addresses[name]


def wait_until(
    name: str,
    address: str,
    probe: Callable[[], object],
    timeout_s: float,
    *,
    abort: Callable[[], str | None] | None = None,
) -> None:
    """Call ``probe`` until it returns without raising, with logged exponential backoff.

    Args:
        name: What is awaited, for messages (e.g. ``"kafka"``).
        address: Where it is awaited, for messages.
        probe: One attempt; raises when the dependency is not ready.
        timeout_s: Give up after this many seconds.
        abort: Called before each attempt; a non-empty string means waiting cannot help any
            more (e.g. the process exited) and stops at once with that reason.

    Raises:
        DependencyUnavailableError: Not ready within ``timeout_s``, or aborted.
    """

    def attempt() -> None:
        reason = abort() if abort else None
        if reason:
            raise _AbortWaitError(reason)
        probe()

    def log_backoff(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "%s at %s not ready (attempt %d: %s); next try in %.1fs",
            name,
            address,
            state.attempt_number,
            describe(error),
            delay,
        )

    started = time.monotonic()
    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.1, min=0.1, max=1.0),
        retry=retry_if_not_exception_type(_AbortWaitError),
        before_sleep=log_backoff,
        reraise=True,
    )
    try:
        retrying(attempt)
    except _AbortWaitError as err:
        msg = f"{name} at {address} will not become ready: {err}"
        raise DependencyUnavailableError(msg) from err
    except Exception as err:
        elapsed = time.monotonic() - started
        attempts = retrying.statistics.get("attempt_number", "?")
        msg = f"{name} at {address} not ready after {elapsed:.1f}s ({attempts} attempts); last error: {describe(err)}"
        raise DependencyUnavailableError(msg) from err
    logger.debug("%s at %s ready after %.2fs", name, address, time.monotonic() - started)


# --- one attempt per dependency -------------------------------------------------------------


def check_kafka(settings: Settings) -> None:
    """Fetch cluster metadata from the Kafka broker (confluent_kafka AdminClient)."""
    from confluent_kafka.admin import AdminClient

    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap_servers,
        "socket.timeout.ms": int(PROBE_TIMEOUT_S * 1000),
        # librdkafka prints refused connections itself; route them through logging instead.
        "logger": logging.getLogger("chainwatch.readiness.librdkafka"),
    }
    admin = AdminClient(config)
    metadata = admin.list_topics(timeout=PROBE_TIMEOUT_S)
    if not metadata.brokers:
        msg = "the cluster reported no brokers"
        raise ConnectionError(msg)


def check_postgres(settings: Settings, database: str | None = None) -> None:
    """Log in as the Chainwatch role and run ``SELECT 1`` (psycopg2)."""
    import psycopg2

    pg = settings.postgres
    connection = psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password.get_secret_value() if pg.password else None,
        dbname=database or pg.database,
        connect_timeout=int(PROBE_TIMEOUT_S),
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def check_redis(settings: Settings) -> None:
    """Send ``PING`` to Redis."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(
        host=settings.redis.host,
        port=settings.redis.port,
        db=settings.redis.db,
        socket_connect_timeout=PROBE_TIMEOUT_S,
        socket_timeout=PROBE_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),  # one attempt: the waiting loop does the retrying
    )
    try:
        if not client.ping():
            msg = "PING was not answered with PONG"
            raise ConnectionError(msg)
    finally:
        client.close()


def check_mqtt(settings: Settings) -> None:
    """Connect to the MQTT broker and wait for a successful CONNACK (paho-mqtt 2.x)."""
    from paho.mqtt.client import Client, ConnectFlags
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

    connected = threading.Event()
    outcome: list[ReasonCode] = []

    def on_connect(
        _client: Client, _userdata: Any, _flags: ConnectFlags, code: ReasonCode, _props: Properties | None
    ) -> None:
        outcome.append(code)
        connected.set()

    client = Client(CallbackAPIVersion.VERSION2, client_id=f"chainwatch-readiness-{threading.get_ident()}")
    client.on_connect = on_connect
    client.connect(settings.mqtt.host, settings.mqtt.port, keepalive=10)
    client.loop_start()
    try:
        if not connected.wait(PROBE_TIMEOUT_S):
            msg = "no CONNACK from the broker"
            raise TimeoutError(msg)
        if outcome[0].is_failure:
            msg = f"broker refused the connection: {outcome[0]}"
            raise ConnectionError(msg)
    finally:
        client.disconnect()
        client.loop_stop()


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint, with short timeouts and no retries."""
    import boto3
    from botocore.config import Config

    s3 = settings.s3
    return boto3.session.Session().client(
        "s3",
        endpoint_url=str(s3.endpoint_url).rstrip("/") if s3.endpoint_url else None,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key.get_secret_value() if s3.secret_access_key else None,
        config=Config(connect_timeout=PROBE_TIMEOUT_S, read_timeout=PROBE_TIMEOUT_S, retries={"max_attempts": 1}),
    )


def check_s3(settings: Settings, buckets: Sequence[str] | None = None) -> None:
    """Check the S3 endpoint: ``HEAD`` each bucket (default: the lake and MLflow buckets).

    Args:
        settings: Chainwatch settings.
        buckets: Buckets that must exist; an empty sequence only lists buckets, which proves
            the endpoint answers and accepts the credentials.
    """
    client = s3_client(settings)
    wanted = (settings.s3.lake_bucket, settings.s3.mlflow_bucket) if buckets is None else tuple(buckets)
    if not wanted:
        client.list_buckets()
    for bucket in wanted:
        client.head_bucket(Bucket=bucket)


def check_mlflow(settings: Settings) -> None:
    """``GET /health`` on the MLflow tracking server and expect HTTP 200."""
    import httpx

    response = httpx.get(f"{settings.mlflow.server_url}/health", timeout=PROBE_TIMEOUT_S)
    response.raise_for_status()


_CHECKS: dict[str, Callable[[Settings], None]] = {
    "kafka": check_kafka,
    "postgres": check_postgres,
    "redis": check_redis,
    "mqtt": check_mqtt,
    "s3": check_s3,
    "mlflow": check_mlflow,
}


# --- waiting ----------------------------------------------------------------------------------


def wait_for(name: str, settings: Settings, timeout_s: float | None = None) -> None:
    """Wait for the dependency called ``name`` (see :data:`DEPENDENCIES`); raise if it stays down."""
    key = ALIASES.get(name, name)
    if key not in _CHECKS:
        msg = f"unknown dependency {name!r}; choose from {', '.join(DEPENDENCIES)}"
        raise ValueError(msg)
    timeout = settings.readiness_timeout_s if timeout_s is None else timeout_s
    wait_until(key, address_of(key, settings), lambda: _CHECKS[key](settings), timeout)


def wait_for_kafka(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until the Kafka broker serves metadata."""
    wait_for("kafka", settings, timeout_s)


def wait_for_postgres(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until PostgreSQL accepts the Chainwatch role's login."""
    wait_for("postgres", settings, timeout_s)


def wait_for_redis(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until Redis answers ``PING``."""
    wait_for("redis", settings, timeout_s)


def wait_for_mqtt(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until the MQTT broker accepts a connection."""
    wait_for("mqtt", settings, timeout_s)


def wait_for_s3(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until the S3 endpoint has the lake and MLflow buckets."""
    wait_for("s3", settings, timeout_s)


def wait_for_mlflow(settings: Settings, timeout_s: float | None = None) -> None:
    """Wait until the MLflow tracking server reports healthy."""
    wait_for("mlflow", settings, timeout_s)


def wait_for_all(settings: Settings, names: Sequence[str] | None = None, timeout_s: float | None = None) -> None:
    """Wait for several dependencies at once (default: all of them).

    They are awaited concurrently, so the whole call takes at most about ``timeout_s``.

    Raises:
        DependencyUnavailableError: One or more stayed unavailable; the message has one line
            per dependency with its address and last error.
        ValueError: An unknown name.
    """
    wanted = list(dict.fromkeys(ALIASES.get(name, name) for name in (names or DEPENDENCIES)))
    unknown = [name for name in wanted if name not in _CHECKS]
    if unknown:
        msg = f"unknown dependencies {unknown}; choose from {', '.join(DEPENDENCIES)}"
        raise ValueError(msg)
    with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="readiness") as pool:
        futures = {name: pool.submit(wait_for, name, settings, timeout_s) for name in wanted}
    failures = [str(err) for err in (future.exception() for future in futures.values()) if err is not None]
    if failures:
        raise DependencyUnavailableError("\n".join(failures))
    logger.info("ready: %s", ", ".join(wanted))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: wait for the named dependencies; exit 0 when ready, 1 when not, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m chainwatch.readiness", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"dependencies (default: all): {', '.join(DEPENDENCIES)}")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait (default: settings)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        wait_for_all(settings, args.names or None, args.timeout)
    except DependencyUnavailableError as err:
        print(f"not ready:\n{err}", file=sys.stderr)
        return 1
    except (ChainwatchError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"ready: {', '.join(args.names or DEPENDENCIES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
