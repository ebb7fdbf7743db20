"""Start, stop and inspect the local services profile as one stack.

>>> manager = ServiceManager(load_settings())       # doctest: +SKIP
>>> manager.up()                                    # doctest: +SKIP
>>> manager.down()                                  # doctest: +SKIP

``up`` starts services concurrently, each once the services it requires are ready (MLflow
waits for PostgreSQL and S3), adding the requirements of any service named, and reports them in
start order (PostgreSQL, Redis, Mosquitto, S3, Kafka, MLflow); ``down`` stops them in reverse
order, and only those Chainwatch started. An exclusive lock on the run folder keeps two ``up``/``down`` calls
from interleaving.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from chainwatch.errors import ChainwatchError, InvalidInputError, ServiceStartError
from chainwatch.services.base import RunLayout, Service, ServiceStatus
from chainwatch.services.kafka import KafkaService
from chainwatch.services.mlflow import MLflowService
from chainwatch.services.mosquitto import MosquittoService
from chainwatch.services.postgres import PostgresService
from chainwatch.services.redis import RedisService
from chainwatch.services.s3 import S3Service
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Every service, in start order.
SERVICE_NAMES = ("postgres", "redis", "mosquitto", "s3", "kafka", "mlflow")
#: The repository this package sits in (templates live in ``deploy/local``).
REPO_ROOT = Path(__file__).resolve().parents[2]


class ServiceManager:
    """The local services of the ``services`` profile.

    Args:
        settings: Chainwatch settings (addresses, credentials, ``run_dir``).
        templates_dir: Config templates (default: ``<repo>/deploy/local``).
        kafka_libs_dir: The Kafka broker jars fetched by ``deploy/local/install.sh``
            (default: ``<repo>/.cache/kafka/libs``).
    """

    def __init__(
        self, settings: Settings, *, templates_dir: Path | None = None, kafka_libs_dir: Path | None = None
    ) -> None:
        self.settings = settings
        self.layout = RunLayout.from_settings(settings)
        templates = templates_dir or REPO_ROOT / "deploy" / "local"
        libs = kafka_libs_dir or REPO_ROOT / ".cache" / "kafka" / "libs"
        services: list[Service] = [
            PostgresService(settings, self.layout),
            RedisService(settings, self.layout, templates),
            MosquittoService(settings, self.layout, templates),
            S3Service(settings, self.layout),
            KafkaService(settings, self.layout, templates, libs),
            MLflowService(settings, self.layout),
        ]
        self.services: dict[str, Service] = {service.name: service for service in services}

    def select(self, names: Sequence[str] | None, *, with_requirements: bool = False) -> list[Service]:
        """The named services (default: all) in start order, optionally with what they require.

        Raises:
            InvalidInputError: An unknown service name.
        """
        wanted = set(names or SERVICE_NAMES)
        unknown = sorted(wanted - set(SERVICE_NAMES))
        if unknown:
            msg = f"unknown services {unknown}; choose from {', '.join(SERVICE_NAMES)}"
            raise InvalidInputError(msg)
        if with_requirements:
            pending = list(wanted)
            while pending:
                for required in self.services[pending.pop()].requires:
                    if required not in wanted:
                        wanted.add(required)
                        pending.append(required)
        return [self.services[name] for name in SERVICE_NAMES if name in wanted]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with (self.layout.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def up(self, names: Sequence[str] | None = None) -> list[ServiceStatus]:
        """Start the named services (default: all) and what they need; wait until each is ready.

        Idempotent: a service that already runs is left as it is. Services without a
        requirement between them start at the same time.

        Returns:
            The status of every started service, in start order.

        Raises:
            ServiceStartError: A service did not start or become ready; the message names it
                and its log file and quotes the log's last lines. The other services keep
                running (``down`` stops them).
        """
        selected = self.select(names, with_requirements=True)
        futures: dict[str, Future[ServiceStatus]] = {}
        with self._locked(), ThreadPoolExecutor(len(selected), thread_name_prefix="service-up") as pool:
            # One thread per service, so a service waiting for its requirements never starves
            # them; start order puts every requirement before the services that need it.
            for service in selected:
                requirements = {name: futures[name] for name in service.requires if name in futures}
                futures[service.name] = pool.submit(self._start_after, service, requirements)
        for future in futures.values():  # the first failure in start order is a root cause
            error = future.exception()
            if error is not None:
                raise error
        return [future.result() for future in futures.values()]

    @staticmethod
    def _start_after(service: Service, requirements: dict[str, Future[ServiceStatus]]) -> ServiceStatus:
        """Start ``service`` once its requirements are up; refuse if one of them failed."""
        for name, future in requirements.items():
            if future.exception() is not None:
                msg = f"not started because {name} failed to start"
                raise ServiceStartError(service.name, msg, str(service.log_path))
        started = time.monotonic()
        status = service.start()
        logger.info("%s ready in %.1fs: %s", service.name, time.monotonic() - started, status.detail)
        return status

    def down(self, names: Sequence[str] | None = None) -> list[ServiceStatus]:
        """Stop the named services (default: all) that Chainwatch started, in reverse order.

        Never raises for one service: a service that cannot be stopped is reported as
        ``failed`` with the reason, and the others are still stopped.
        """
        statuses: dict[str, ServiceStatus] = {}
        with self._locked():
            for service in reversed(self.select(names)):
                try:
                    statuses[service.name] = service.stop()
                except (ChainwatchError, OSError) as err:
                    logger.exception("could not stop %s", service.name)
                    statuses[service.name] = ServiceStatus(
                        service.name, "failed", None, service.address, service.log_path, f"stop failed: {err}"
                    )
        return [statuses[name] for name in SERVICE_NAMES if name in statuses]

    def status(self, names: Sequence[str] | None = None) -> list[ServiceStatus]:
        """Each service's state (default: all), in start order; changes nothing."""
        return [service.status() for service in self.select(names)]
