"""Processes of the local services: pid files, ``/proc`` checks and stopping a process group.

Linux only (it reads ``/proc``), like the services profile itself. A pid file is trusted only
while its process is alive, is not a zombie and still runs the expected program (its command
line holds every marker), so a stale file or a reused pid is never mistaken for our server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

logger = logging.getLogger(__name__)


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file``, or None when there is no usable pid file."""
    try:
        text = pid_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """``(state, process group)`` of ``pid`` from ``/proc/<pid>/stat``, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0], int(fields[2])


def process_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    _reap(pid)
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in {"Z", "X"}


def process_cmdline(pid: int) -> list[str]:
    """The argument vector of ``pid`` ([] when it is gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def cmdline_matches(cmdline: Sequence[str], markers: Sequence[str]) -> bool:
    """Whether every marker occurs in the (space-joined) command line."""
    joined = " ".join(cmdline)
    return bool(cmdline) and all(marker in joined for marker in markers)


def owned_pid(pid_file: Path, markers: Sequence[str]) -> int | None:
    """The pid from ``pid_file`` if that process is alive and is still our program, else None."""
    pid = read_pid(pid_file)
    if pid is None or not process_alive(pid):
        return None
    return pid if cmdline_matches(process_cmdline(pid), markers) else None


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in process group ``pgid``."""
    _reap(pgid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and stat[1] == pgid and stat[0] not in {"Z", "X"}:
                return True
    return False


def poll_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Re-check ``condition`` with short backoff until it holds or ``timeout_s`` passes."""
    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.05, max=0.5),
        retry=retry_if_result(lambda held: not held),
        retry_error_callback=lambda _state: False,
    )
    return bool(retrying(condition))


def terminate_group(pid: int, timeout_s: float) -> str:
    """Stop the session ``pid`` leads: SIGTERM to its process group, SIGKILL after ``timeout_s``.

    Returns:
        How it ended, for the status detail.
    """
    stat = _proc_stat(pid)
    # Signal the whole group (servers such as MLflow run workers as children) only when pid
    # still leads the group we created; otherwise just the process.
    pgid = pid if stat is not None and stat[1] == pid else None

    def send(sig: signal.Signals) -> None:
        try:
            if pgid is not None:
                os.killpg(pgid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def gone() -> bool:
        return not (group_alive(pgid) if pgid is not None else process_alive(pid))

    send(signal.SIGTERM)
    if poll_until(gone, timeout_s):
        return f"stopped (pid {pid}, SIGTERM)"
    logger.warning("pid %s did not exit %.0fs after SIGTERM; sending SIGKILL", pid, timeout_s)
    send(signal.SIGKILL)
    poll_until(gone, 5.0)
    return f"killed (pid {pid}, SIGKILL after {timeout_s:.0f}s)"
