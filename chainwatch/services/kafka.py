"""A single-node KRaft Kafka broker from the Maven-fetched jars, and the platform's topics.

``deploy/local/install.sh`` copies the broker's jars into a cache folder; this module renders
``server.properties`` from its template, formats the storage on first start (the cluster id is
generated once and kept in ``<run_dir>/kafka/cluster.id``), runs ``kafka.Kafka`` on Java and,
once the broker answers, makes sure every topic of ``settings.kafka.all_topics()`` exists with
at least its partition count (:func:`ensure_topics`).
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainwatch.errors import DependencyUnavailableError
from chainwatch.readiness import check_kafka
from chainwatch.services.base import ProcessService, RunLayout
from chainwatch.services.files import render_template, write_if_changed
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Seconds an admin request (create topics, add partitions) may take.
ADMIN_TIMEOUT_S = 30.0


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64 without padding (as ``kafka-storage random-uuid``)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka avoids ids that look like a CLI option
            return cluster_id


@dataclass(frozen=True)
class TopicPlan:
    """What :func:`ensure_topics` must do to reach the wanted topics.

    Attributes:
        create: New topics with their partition counts.
        grow: Existing topics with fewer partitions than wanted, with the wanted count.
        keep: Topics that already have enough partitions (more than wanted is left alone:
            Kafka cannot remove partitions).
    """

    create: dict[str, int] = field(default_factory=dict)
    grow: dict[str, int] = field(default_factory=dict)
    keep: list[str] = field(default_factory=list)


def plan_topics(existing: Mapping[str, int], wanted: Mapping[str, int]) -> TopicPlan:
    """Compare existing topics (name to partition count) with the wanted ones."""
    plan = TopicPlan()
    for topic, partitions in sorted(wanted.items()):
        have = existing.get(topic)
        if have is None:
            plan.create[topic] = partitions
        elif have < partitions:
            plan.grow[topic] = partitions
        else:
            plan.keep.append(topic)
    return plan


def _admin(bootstrap_servers: str) -> Any:
    from confluent_kafka.admin import AdminClient

    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "logger": logging.getLogger(__name__ + ".librdkafka"),
    }
    return AdminClient(config)


def ensure_topics(bootstrap_servers: str, wanted: Mapping[str, int], replication_factor: int = 1) -> TopicPlan:
    """Create missing topics and add partitions to short ones; existing topics are fine.

    Args:
        bootstrap_servers: Broker address.
        wanted: Topic name to (minimum) partition count.
        replication_factor: Replication factor of created topics.

    Returns:
        The plan that was carried out.

    Raises:
        DependencyUnavailableError: The broker refused a change (the message names the topic).
    """
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.cimpl import NewPartitions, NewTopic

    admin = _admin(bootstrap_servers)
    metadata = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    plan = plan_topics({name: len(topic.partitions) for name, topic in metadata.topics.items()}, wanted)
    futures: dict[str, Any] = {}
    if plan.create:
        new = [
            NewTopic(name, num_partitions=n, replication_factor=replication_factor) for name, n in plan.create.items()
        ]
        futures.update(admin.create_topics(new, request_timeout=ADMIN_TIMEOUT_S))
    if plan.grow:
        grown = [NewPartitions(name, n) for name, n in plan.grow.items()]
        futures.update(admin.create_partitions(grown, request_timeout=ADMIN_TIMEOUT_S))
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as err:
            if err.args and err.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # created concurrently by someone else: that is what we wanted
            msg = f"kafka topic {topic!r}: {err}"
            raise DependencyUnavailableError(msg) from err
    if plan.create or plan.grow:
        logger.info("kafka: created %s; added partitions to %s", sorted(plan.create) or "-", plan.grow or "-")
    return plan


class KafkaService(ProcessService):
    """The KRaft broker+controller on ``settings.kafka.port`` / ``controller_port``."""

    name = "kafka"
    stop_timeout_s = 30.0  # a controlled shutdown flushes logs and closes the metadata log

    def __init__(self, settings: Settings, layout: RunLayout, templates_dir: Path, libs_dir: Path) -> None:
        super().__init__(settings, layout)
        self.templates_dir = templates_dir / "kafka"
        self.libs_dir = libs_dir

    @property
    def host_port(self) -> tuple[str, int]:
        """Where clients reach the broker."""
        return self.settings.kafka.host, self.settings.kafka.port

    @property
    def config_path(self) -> Path:
        """The rendered ``server.properties``."""
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        """The broker's data (topic partitions and the metadata log)."""
        return self.data_dir / "data"

    def render_config(self) -> str:
        """``server.properties`` for these settings."""
        kafka = self.settings.kafka
        return render_template(
            self.templates_dir / "server.properties.template",
            {
                "host": kafka.host,
                "port": kafka.port,
                "controller_port": kafka.controller_port,
                "data_dir": self.log_dirs,
                "replication_factor": kafka.replication_factor,
            },
        )

    def java(self) -> str:
        """The Java launcher: ``$JAVA_HOME/bin/java`` or ``java`` on PATH."""
        home = os.environ.get("JAVA_HOME")
        candidate = Path(home) / "bin" / "java" if home else None
        if candidate and candidate.exists():
            return str(candidate)
        found = shutil.which("java")
        if found is None:
            raise self._fail("java not found; run deploy/local/install.sh (installs a Java runtime)")
        return found

    def _java_argv(self, main_class: str, *args: str, heap_mb: int) -> list[str]:
        return [
            self.java(),
            f"-Xms{heap_mb}m", f"-Xmx{heap_mb}m",
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.templates_dir / 'log4j2.yaml'}",
            "-cp", f"{self.libs_dir}/*",
            main_class, *args,
        ]  # fmt: skip

    def cluster_id(self) -> str:
        """The cluster id, generated on the first start and kept in the run folder."""
        path = self.data_dir / "cluster.id"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        cluster_id = new_cluster_id()
        write_if_changed(path, cluster_id + "\n")
        return cluster_id

    def prepare(self) -> None:
        """Check the jars, render the config, format the storage once."""
        if not any(self.libs_dir.glob("kafka_2.13-*.jar")):
            raise self._fail(f"no Kafka broker jars in {self.libs_dir}; run deploy/local/install.sh")
        self.log_dirs.mkdir(parents=True, exist_ok=True)
        write_if_changed(self.config_path, self.render_config())
        if (self.log_dirs / "meta.properties").exists():
            return
        cluster_id = self.cluster_id()
        logger.info("kafka: formatting storage in %s (cluster id %s)", self.log_dirs, cluster_id)
        argv = self._java_argv(
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            cluster_id,
            "-c",
            str(self.config_path),
            heap_mb=256,
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            offset = log.tell()
            done = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=False, timeout=120)
        if done.returncode != 0:
            raise self._fail(f"formatting the storage exited {done.returncode}", offset)

    def command(self) -> list[str]:
        """``java ... kafka.Kafka server.properties``."""
        return self._java_argv("kafka.Kafka", str(self.config_path), heap_mb=self.settings.kafka.heap_mb)

    def cmdline_markers(self) -> tuple[str, ...]:
        """The main class and our config file."""
        return ("kafka.Kafka", str(self.config_path))

    def check_ready(self) -> None:
        """Cluster metadata through the AdminClient."""
        check_kafka(self.settings)

    def after_ready(self) -> None:
        """Create the platform's topics (and their dead-letter topics)."""
        kafka = self.settings.kafka
        ensure_topics(kafka.bootstrap_servers, kafka.all_topics(), kafka.replication_factor)
