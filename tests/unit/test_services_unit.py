"""Pure logic of the local services layer: config rendering, pid files, plans, readiness waits.

No service runs here; the few real processes are short-lived children of the test itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainwatch.errors import ConfigError, DependencyUnavailableError, InvalidInputError, ServiceStartError
from chainwatch.readiness import wait_until
from chainwatch.services import SERVICE_NAMES, ServiceManager
from chainwatch.services import base as services_base
from chainwatch.services.base import EXTERNAL_DETAIL, ProcessService, RunLayout
from chainwatch.services.files import error_lines, render_template, tail
from chainwatch.services.kafka import KafkaService, new_cluster_id, plan_topics
from chainwatch.services.mosquitto import MosquittoService
from chainwatch.services.postgres import listen_covers, parse_lsclusters
from chainwatch.services.process import (
    cmdline_matches,
    owned_pid,
    process_alive,
    read_pid,
    terminate_group,
)
from chainwatch.services.redis import RedisService
from chainwatch.settings import Settings, load_settings

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "local"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CHAINWATCH_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(run_dir=tmp_path / "run")


@pytest.fixture
def layout(settings: Settings) -> RunLayout:
    return RunLayout.from_settings(settings)


@pytest.fixture
def no_ports_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens anywhere (so a developer's running stack cannot leak into these tests)."""
    monkeypatch.setattr(services_base, "port_open", lambda *_args, **_kwargs: False)


def _dead_pid() -> int:
    """The pid of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- config rendering ----------------------------------------------------------------------------


def test_kafka_config_has_our_listeners_and_data_dir(settings: Settings, layout: RunLayout) -> None:
    service = KafkaService(settings, layout, TEMPLATES, libs_dir=Path("/nonexistent"))

    text = service.render_config()
    props = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))

    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:19092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19092"
    assert props["log.dirs"] == str(layout.root / "kafka" / "data")
    assert props["auto.create.topics.enable"] == "false"
    assert "9093" not in text  # Alertmanager's port
    assert "${" not in text


def test_kafka_config_follows_settings(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path, kafka={"port": 29092, "controller_port": 29093})
    service = KafkaService(settings, RunLayout.from_settings(settings), TEMPLATES, libs_dir=tmp_path)

    text = service.render_config()

    assert "listeners=PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093" in text
    assert "advertised.listeners=PLAINTEXT://127.0.0.1:29092" in text


def test_mosquitto_config_persists_and_has_no_pid_file(settings: Settings, layout: RunLayout) -> None:
    service = MosquittoService(settings, layout, TEMPLATES)

    lines = [line for line in service.render_config("mosquitto").splitlines() if line and not line.startswith("#")]

    assert "listener 1883 127.0.0.1" in lines
    assert "persistence true" in lines
    assert f"persistence_location {service.persistence_dir}/" in lines
    assert "user mosquitto" in lines
    assert not any(line.startswith("pid_file") for line in lines)


def test_redis_config_binds_loopback_with_data_under_run_dir(settings: Settings, layout: RunLayout) -> None:
    text = RedisService(settings, layout, TEMPLATES).render_config()

    assert "bind 127.0.0.1\n" in text
    assert "port 6379\n" in text
    assert f"dir {layout.root / 'redis' / 'data'}\n" in text
    assert "daemonize no\n" in text


def test_render_template_names_a_missing_value(tmp_path: Path) -> None:
    template = tmp_path / "x.template"
    template.write_text("port=${port}\nhost=${host}\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="'host'"):
        render_template(template, {"port": 1})


# --- pid files and processes ---------------------------------------------------------------------


def test_read_pid_ignores_missing_and_garbage(tmp_path: Path) -> None:
    (tmp_path / "garbage.pid").write_text("not-a-pid\n", encoding="utf-8")
    (tmp_path / "good.pid").write_text("4242\n", encoding="utf-8")

    assert read_pid(tmp_path / "missing.pid") is None
    assert read_pid(tmp_path / "garbage.pid") is None
    assert read_pid(tmp_path / "good.pid") == 4242


def test_owned_pid_detects_a_stale_pid_file(tmp_path: Path) -> None:
    pid_file = tmp_path / "svc.pid"
    pid_file.write_text(f"{_dead_pid()}\n", encoding="utf-8")

    assert owned_pid(pid_file, ("python",)) is None


def test_owned_pid_rejects_a_reused_pid_running_another_program(tmp_path: Path) -> None:
    pid_file = tmp_path / "svc.pid"
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")  # alive, but it is not redis

    assert owned_pid(pid_file, ("redis-server",)) is None
    assert owned_pid(pid_file, (Path(sys.executable).name,)) == os.getpid()


def test_cmdline_matches_needs_every_marker() -> None:
    cmdline = ["/usr/bin/java", "-cp", "/libs/*", "kafka.Kafka", "/run/kafka/server.properties"]

    assert cmdline_matches(cmdline, ("kafka.Kafka", "/run/kafka/server.properties"))
    assert not cmdline_matches(cmdline, ("kafka.Kafka", "/other/server.properties"))
    assert not cmdline_matches([], ())


@pytest.mark.usefixtures("no_ports_open")
def test_status_reports_failed_for_a_stale_pid_file_and_stop_cleans_it(settings: Settings, layout: RunLayout) -> None:
    service = RedisService(settings, layout, TEMPLATES)
    service.pid_file.parent.mkdir(parents=True)
    service.pid_file.write_text(f"{_dead_pid()}\n", encoding="utf-8")

    status = service.status()
    assert (status.state, status.pid) == ("failed", None)
    assert "gone" in status.detail

    stopped = service.stop()
    assert stopped.state == "stopped"
    assert not service.pid_file.exists()
    assert service.status().state == "stopped"


def test_status_calls_a_foreign_server_on_our_port_external(
    settings: Settings, layout: RunLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_base, "port_open", lambda *_args, **_kwargs: True)
    service = RedisService(settings, layout, TEMPLATES)

    status = service.status()
    assert (status.state, status.pid, status.detail) == ("running", None, EXTERNAL_DETAIL)
    assert service.stop().detail == EXTERNAL_DETAIL  # and down leaves it alone


def test_terminate_group_stops_a_process_that_ignores_sigterm() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"  # the handler is installed

    detail = terminate_group(child.pid, timeout_s=0.5)

    assert "SIGKILL" in detail
    assert not process_alive(child.pid)
    # terminate_group reaps its children itself, so Popen may not see the -9 status: only
    # check that the process is really gone.
    child.wait(5)


def test_tail_reads_only_after_the_offset(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("old run\n", encoding="utf-8")
    offset = log.stat().st_size
    with log.open("a", encoding="utf-8") as handle:
        handle.writelines(f"line {i}\n" for i in range(30))

    assert tail(log, lines=3, start=offset) == "line 27\nline 28\nline 29"
    assert error_lines(log, start=offset) == []
    assert "old run" not in tail(log, lines=100, start=offset)
    assert tail(tmp_path / "missing.log") == ""


class _ScriptService(ProcessService):
    """A stand-in server: a Python one-liner that is 'ready' once it has written a file."""

    name = "script"

    def __init__(self, settings: Settings, layout: RunLayout, code: str) -> None:
        super().__init__(settings, layout)
        self.code = code

    @property
    def host_port(self) -> tuple[str, int]:
        return "127.0.0.1", 1

    @property
    def ready_file(self) -> Path:
        return self.data_dir / "ready"

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.code, str(self.ready_file)]

    def cmdline_markers(self) -> tuple[str, ...]:
        return (str(self.ready_file),)

    def check_ready(self) -> None:
        if not self.ready_file.exists():
            raise ConnectionRefusedError(self.address)


SERVER = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(120)"
CRASH = "import sys; print('starting'); print('FATAL cannot bind 127.0.0.1:1', flush=True); sys.exit(3)"


@pytest.mark.usefixtures("no_ports_open")
def test_start_is_idempotent_and_stop_ends_the_process(settings: Settings, layout: RunLayout) -> None:
    service = _ScriptService(settings, layout, SERVER)

    first = service.start()
    second = service.start()

    assert first.state == second.state == "running"
    assert first.pid is not None
    assert second.pid == first.pid == read_pid(service.pid_file)
    stopped = service.stop()
    assert stopped.state == "stopped"
    assert "SIGTERM" in stopped.detail
    assert not process_alive(first.pid)
    assert not service.pid_file.exists()


@pytest.mark.usefixtures("no_ports_open")
def test_a_crashing_server_fails_fast_naming_service_log_and_reason(settings: Settings, layout: RunLayout) -> None:
    service = _ScriptService(settings, layout, CRASH)
    started = time.monotonic()

    with pytest.raises(ServiceStartError) as caught:
        service.start()

    assert time.monotonic() - started < settings.readiness_timeout_s / 2  # did not wait for the timeout
    assert caught.value.service == "script"
    assert caught.value.log_path == str(layout.log("script"))
    assert "exited with code 3" in caught.value.reason
    assert "FATAL cannot bind 127.0.0.1:1" in caught.value.reason
    assert service.status().state == "failed"


# --- kafka, postgres and manager logic ------------------------------------------------------------


def test_plan_topics_creates_grows_and_keeps() -> None:
    plan = plan_topics(existing={"a": 3, "b": 1, "c": 6}, wanted={"a": 3, "b": 4, "c": 2, "d": 1})

    assert plan.create == {"d": 1}
    assert plan.grow == {"b": 4}
    assert plan.keep == ["a", "c"]  # more partitions than wanted is left alone


def test_plan_topics_from_nothing_creates_every_topic_with_its_dlq(settings: Settings) -> None:
    plan = plan_topics({}, settings.kafka.all_topics())

    assert plan.create == settings.kafka.all_topics()
    assert plan.create["shipments.events.v1.dlq"] == settings.kafka.dlq_partitions


def test_new_cluster_id_looks_like_kafkas() -> None:
    ids = {new_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert all(set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)


def test_parse_lsclusters() -> None:
    output = (
        "15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log\n"
        "16  other   5433 down   postgres /var/lib/postgresql/16/other /var/log/postgresql/postgresql-16-other.log\n"
    )

    main, other = parse_lsclusters(output)

    assert (main.version, main.name, main.port, main.online) == ("15", "main", 5432, True)
    assert main.log_file == Path("/var/log/postgresql/postgresql-15-main.log")
    assert (other.name, other.online) == ("other", False)


@pytest.mark.parametrize(
    ("listen", "host", "covered"),
    [
        ("localhost", "127.0.0.1", True),
        ("'*'", "127.0.0.1", True),
        ("127.0.0.1,10.0.0.5", "10.0.0.5", True),
        ("10.0.0.5", "127.0.0.1", False),
        ("", "127.0.0.1", False),
    ],
)
def test_listen_covers(listen: str, host: str, covered: bool) -> None:
    assert listen_covers(listen, host) is covered


def test_manager_adds_requirements_in_start_order(settings: Settings) -> None:
    manager = ServiceManager(settings)

    assert [s.name for s in manager.select(["mlflow"], with_requirements=True)] == ["postgres", "s3", "mlflow"]
    assert [s.name for s in manager.select(None)] == list(SERVICE_NAMES)
    assert not settings.run_dir.exists()  # building a manager has no side effects


def test_manager_refuses_unknown_services(settings: Settings) -> None:
    with pytest.raises(InvalidInputError, match="zookeeper"):
        ServiceManager(settings).select(["kafka", "zookeeper"])


# --- readiness waits -----------------------------------------------------------------------------


def test_wait_until_retries_until_the_probe_passes() -> None:
    calls: list[int] = []

    def probe() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError

    wait_until("svc", "127.0.0.1:1", probe, timeout_s=10)

    assert len(calls) == 3


def test_wait_until_gives_up_with_the_address_and_last_error() -> None:
    def probe() -> None:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(DependencyUnavailableError, match=r"svc at 127\.0\.0\.1:1 not ready .*nobody home"):
        wait_until("svc", "127.0.0.1:1", probe, timeout_s=0.3)


def test_wait_until_stops_at_once_when_aborted() -> None:
    started = time.monotonic()

    with pytest.raises(DependencyUnavailableError, match="process 7 exited"):
        wait_until("svc", "addr", lambda: None, timeout_s=30, abort=lambda: "process 7 exited")

    assert time.monotonic() - started < 5
