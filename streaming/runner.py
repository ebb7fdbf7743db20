"""Run one Bytewax dataflow in this process: recovery snapshots and a clean stop on signals.

**Recovery.** With a recovery folder, the flow snapshots its state (source positions, open
windows, rolling state) every ``snapshot_interval`` (Bytewax's *epoch*) into the SQLite
partitions there, and a restart with the same folder resumes from the last snapshot. A folder
that holds no partitions yet is initialised with one (``python -m bytewax.recovery DIR 1``).
Output after a crash is at-least-once from that snapshot: the sinks must be idempotent (the
feature sinks are, on ``(entity, event_timestamp)``) and must not hold rows across snapshots.

**Stopping.** While the flow runs, SIGINT (Ctrl-C) and SIGTERM both interrupt it: the first one
raises :class:`KeyboardInterrupt` in the Python code the worker is running (a source, an operator,
a sink), Bytewax aborts the dataflow, and :func:`run_flow` raises :class:`FlowStoppedError`. Nothing is
flushed on the way out on purpose: ending the input would close every open hourly window and emit
partial rows; instead the next run resumes from the last snapshot. Later signals are ignored
while the stop is under way. The handlers are installed only in the main thread (Python
delivers signals there), so run flows in the main thread of their own process.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from bytewax.dataflow import Dataflow

from chainwatch.errors import ChainwatchError

logger = logging.getLogger(__name__)

#: Bytewax's default epoch (snapshot) interval.
DEFAULT_SNAPSHOT_INTERVAL = timedelta(seconds=10)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class FlowStoppedError(ChainwatchError):
    """A dataflow was stopped by a signal; a restart with the same recovery folder resumes it.

    Args:
        signal_name: The signal that stopped it (``SIGINT`` or ``SIGTERM``).
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"stopped by {signal_name}")
        self.signal_name = signal_name


class _StopRequest:
    """What the signal handlers saw: the first stop signal's name, if any."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal_name is not None:
            return  # already stopping: let the first interrupt unwind
        self.signal_name = signal.Signals(signum).name
        raise KeyboardInterrupt(self.signal_name)


@contextmanager
def stop_on_signals() -> Iterator[_StopRequest]:
    """Turn the first SIGINT or SIGTERM into :class:`KeyboardInterrupt` while the block runs.

    Outside the main thread nothing is installed (Python runs handlers there only).

    Yields:
        The stop request; its ``signal_name`` is set once a signal arrived.
    """
    request = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous: dict[signal.Signals, Any] = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, request.handle)
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def has_partitions(recovery_dir: Path) -> bool:
    """Whether ``recovery_dir`` holds Bytewax recovery partitions (``part-*.sqlite3``)."""
    return recovery_dir.is_dir() and any(recovery_dir.glob("part-*.sqlite3"))


def recovery_config(recovery_dir: Path, *, backup_interval: timedelta | None = None) -> Any:
    """Bytewax's ``RecoveryConfig`` over ``recovery_dir``, creating one partition on first use.

    Args:
        recovery_dir: The flow's own recovery folder (created if missing).
        backup_interval: How long a superseded snapshot is kept (set it to the interval at which
            the folder is backed up; default: not kept).

    Returns:
        The ``bytewax.recovery.RecoveryConfig``.
    """
    from bytewax.recovery import RecoveryConfig, init_db_dir

    if not has_partitions(recovery_dir):
        recovery_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(recovery_dir, 1)  # type: ignore[no-untyped-call]
        logger.info("initialised recovery partitions in %s", recovery_dir)
    return RecoveryConfig(str(recovery_dir), backup_interval=backup_interval)  # type: ignore[no-untyped-call]


def run_flow(
    flow: Dataflow,
    *,
    recovery_dir: Path | None = None,
    snapshot_interval: timedelta | None = None,
    backup_interval: timedelta | None = None,
) -> None:
    """Run ``flow`` on one worker in this thread until its input ends, stopping cleanly on signals.

    Args:
        flow: The dataflow.
        recovery_dir: Bytewax recovery folder of this flow (``None``: no recovery).
        snapshot_interval: Epoch length: how often state is snapshotted (default 10 s).
        backup_interval: How long superseded snapshots are kept (see :func:`recovery_config`).

    Raises:
        FlowStoppedError: SIGINT or SIGTERM arrived; the flow was aborted (it resumes from its last
            snapshot when restarted with the same recovery folder).
    """
    from bytewax.testing import run_main

    recovery = recovery_config(recovery_dir, backup_interval=backup_interval) if recovery_dir is not None else None
    with stop_on_signals() as request:
        try:
            run_main(flow, epoch_interval=snapshot_interval, recovery_config=recovery)  # type: ignore[no-untyped-call]
        except (Exception, KeyboardInterrupt) as err:
            if request.signal_name is None:
                raise
            logger.info("%s stopped by %s (%s)", flow.flow_id, request.signal_name, type(err).__name__)
            raise FlowStoppedError(request.signal_name) from None
