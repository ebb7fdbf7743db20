"""The service abstraction of the local services profile.

A :class:`Service` can start (idempotently, waiting until ready), stop and report its
:class:`ServiceStatus`. :class:`ProcessService` is the common case: a server process that
Chainwatch spawns itself, detached in its own session, with its pid file, log file and data
folder under one run folder (see :class:`RunLayout`). It stops only processes it started, and a
pid file whose process is gone (or whose pid now belongs to another program) is detected as
stale (see :mod:`chainwatch.services.process`).
"""

from __future__ import annotations

import logging
import os
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

from chainwatch.errors import DependencyUnavailableError, ServiceStartError
from chainwatch.readiness import describe, wait_until
from chainwatch.services.files import error_lines, tail
from chainwatch.services.process import owned_pid, port_open, process_alive, read_pid, terminate_group
from chainwatch.settings import Settings

logger = logging.getLogger(__name__)

ServiceState = Literal["running", "stopped", "failed"]

#: Detail of a service that answers on its port but was not started by Chainwatch.
EXTERNAL_DETAIL = "external: not started by chainwatch (down leaves it running)"


@dataclass(frozen=True)
class ServiceStatus:
    """What one local service is doing.

    Attributes:
        name: Service name, e.g. ``"kafka"``.
        state: ``"running"``, ``"stopped"`` or ``"failed"`` (meant to run but is gone).
        pid: Process id when known.
        address: Where clients reach it (``host:port`` or a URL).
        log_path: Its log file.
        detail: One human-readable line about the state.
    """

    name: str
    state: ServiceState
    pid: int | None
    address: str
    log_path: Path
    detail: str = ""


@dataclass(frozen=True)
class RunLayout:
    """Where local services keep their files: one run folder holding everything.

    ``<root>/logs/<svc>.log``, ``<root>/pids/<svc>.pid`` and ``<root>/<svc>/`` (data, config).
    """

    root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> RunLayout:
        """The layout under ``settings.run_dir``, made absolute (children get absolute paths)."""
        return cls(settings.run_dir.expanduser().resolve())

    def log(self, name: str) -> Path:
        """Log file of a service."""
        return self.root / "logs" / f"{name}.log"

    def pid(self, name: str) -> Path:
        """Pid file of a service."""
        return self.root / "pids" / f"{name}.pid"

    def data(self, name: str) -> Path:
        """Data and config folder of a service."""
        return self.root / name


# --- services -----------------------------------------------------------------------------------


class Service(ABC):
    """One local service: start it, stop it, say how it is.

    Subclasses set :attr:`name` and :attr:`requires` and implement the abstract members.
    """

    #: Service name, as the manager and CLI know it.
    name: ClassVar[str]
    #: Services that must be ready before this one starts.
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings, layout: RunLayout) -> None:
        self.settings = settings
        self.layout = layout

    @property
    @abstractmethod
    def address(self) -> str:
        """Where clients reach the service."""

    @property
    def log_path(self) -> Path:
        """The service's log file."""
        return self.layout.log(self.name)

    @property
    def pid_file(self) -> Path:
        """The service's pid file."""
        return self.layout.pid(self.name)

    @abstractmethod
    def check_ready(self) -> None:
        """Make one readiness probe; raise when the service does not answer yet."""

    @abstractmethod
    def start(self) -> ServiceStatus:
        """Start the service unless it runs, wait until it is ready; raise ServiceStartError if not."""

    @abstractmethod
    def stop(self) -> ServiceStatus:
        """Stop the service if Chainwatch started it; leave anything else alone."""

    @abstractmethod
    def status(self) -> ServiceStatus:
        """Report the service's state without changing anything."""

    def is_running(self) -> bool:
        """Whether the service is up (started by us or found already running)."""
        return self.status().state == "running"

    def _log_size(self) -> int:
        """Current size of the log, i.e. where the lines of a new attempt will begin."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _status(self, state: ServiceState, pid: int | None, detail: str) -> ServiceStatus:
        return ServiceStatus(self.name, state, pid, self.address, self.log_path, detail)

    def _fail(self, reason: str, log_offset: int | None = None) -> ServiceStartError:
        """A start error naming this service and its log, quoting what the log says.

        Args:
            reason: What went wrong.
            log_offset: Quote the log from this byte offset on (the start of this attempt);
                None (default) quotes nothing, for failures the log cannot explain.
        """
        quoted = ""
        if log_offset is not None:
            errors = error_lines(self.log_path, log_offset)
            if errors:
                quoted += "\n--- first error lines ---\n" + "\n".join(errors)
            last = tail(self.log_path, start=log_offset)
            if last:
                quoted += f"\n--- last lines of {self.log_path} ---\n{last}"
        return ServiceStartError(self.name, reason + quoted, str(self.log_path))


class ProcessService(Service):
    """A server Chainwatch runs as its own detached child process.

    Subclasses give the command line (:meth:`command`), the markers that identify the process
    in ``/proc/<pid>/cmdline`` and the readiness probe; they may render config in
    :meth:`prepare` and create topics or buckets in :meth:`after_ready`.
    """

    #: Seconds between SIGTERM and SIGKILL.
    stop_timeout_s: ClassVar[float] = 15.0

    @property
    @abstractmethod
    def host_port(self) -> tuple[str, int]:
        """The host and port the server listens on."""

    @property
    def address(self) -> str:
        """``host:port`` of the server."""
        host, port = self.host_port
        return f"{host}:{port}"

    @property
    def data_dir(self) -> Path:
        """The service's folder under the run folder (config, data, working directory)."""
        return self.layout.data(self.name)

    @abstractmethod
    def command(self) -> list[str]:
        """The argument vector that runs the server in the foreground."""

    @abstractmethod
    def cmdline_markers(self) -> tuple[str, ...]:
        """Substrings that all occur in the server's command line (guards against pid reuse)."""

    def environment(self) -> dict[str, str]:
        """Variables added to the inherited environment of the server."""
        return {}

    def prepare(self) -> None:
        """Create folders and render config before the first spawn (default: the data folder)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def after_ready(self) -> None:
        """Provision what clients expect once the server answers (topics, buckets)."""

    def running_pid(self) -> int | None:
        """The pid of our server if it runs (a stale pid file gives None)."""
        return owned_pid(self.pid_file, self.cmdline_markers())

    def status(self) -> ServiceStatus:
        """Running (ours or external), stopped, or failed (our pid file points at nothing)."""
        host, port = self.host_port
        pid = self.running_pid()
        if pid is not None:
            detail = "ready" if port_open(host, port) else "starting: port not open yet"
            return self._status("running", pid, detail)
        stale = read_pid(self.pid_file)
        if stale is not None:
            return self._status("failed", None, f"process {stale} from {self.pid_file} is gone; see the log")
        if port_open(host, port):
            return self._status("running", None, EXTERNAL_DETAIL)
        return self._status("stopped", None, "")

    def start(self) -> ServiceStatus:
        """Start the server unless it runs, wait until it is ready, then provision it."""
        timeout = self.settings.readiness_timeout_s
        pid = self.running_pid()
        if pid is not None:
            logger.info("%s already running (pid %s)", self.name, pid)
            self._wait_ready(timeout, abort=lambda: None if process_alive(pid) else f"process {pid} exited")
        elif port_open(*self.host_port):
            self._adopt_external()
        else:
            self._spawn_and_wait(timeout)
        try:
            self.after_ready()
        except ServiceStartError:
            raise
        except Exception as err:  # a client library's error (Kafka admin, boto3): name the service
            raise self._fail(f"ready, but provisioning failed: {describe(err)}") from err
        return self.status()

    def _adopt_external(self) -> None:
        """Use a server someone else runs on our port, if it answers as this service."""
        try:
            self.check_ready()
        except Exception as err:
            msg = (
                f"{self.address} is taken by a process chainwatch did not start, and it does not answer as "
                f"{self.name} ({describe(err)}); stop that process or give {self.name} another port in the settings"
            )
            raise self._fail(msg) from err
        logger.info("%s: using the server already listening on %s (not started by chainwatch)", self.name, self.address)

    def _spawn_and_wait(self, timeout: float) -> None:
        self.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        argv = self.command()
        with self.log_path.open("ab") as log:
            offset = log.tell()
            stamp = datetime.now(tz=UTC).isoformat(timespec="seconds")
            log.write(f"\n=== {stamp} chainwatch starts {self.name}: {' '.join(argv)}\n".encode())
            log.flush()
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.data_dir,
                    env={**os.environ, **self.environment()},
                    start_new_session=True,
                )
            except OSError as err:
                raise self._fail(f"cannot run {argv[0]}: {err}", offset) from err
        self.pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
        logger.info("%s started (pid %s), waiting up to %.0fs until ready", self.name, process.pid, timeout)

        def exited() -> str | None:
            code = process.poll()
            return None if code is None else f"process {process.pid} exited with code {code}"

        try:
            self._wait_ready(timeout, abort=exited)
        except DependencyUnavailableError as err:
            # Leave the pid file: status() then reports "failed" until down() or the next up().
            if process.poll() is None:
                terminate_group(process.pid, 5.0)
            raise self._fail(str(err), offset) from err

    def _wait_ready(self, timeout: float, abort: Callable[[], str | None]) -> None:
        wait_until(self.name, self.address, self.check_ready, timeout, abort=abort)

    def stop(self) -> ServiceStatus:
        """Stop our server (never an external one) and remove its pid file."""
        pid = self.running_pid()
        if pid is not None:
            logger.info("stopping %s (pid %s)", self.name, pid)
            detail = terminate_group(pid, self.stop_timeout_s)
            self.pid_file.unlink(missing_ok=True)
            return self._status("stopped", None, detail)
        if self.pid_file.exists():
            self.pid_file.unlink()
            return self._status("stopped", None, "removed a stale pid file")
        current = self.status()
        if current.state == "running":
            return self._status("running", None, EXTERNAL_DETAIL)
        return current
