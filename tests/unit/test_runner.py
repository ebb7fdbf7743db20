"""streaming.runner (recovery folders, stop on signals) and the paced RecordSource."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main

from streaming.replay import Record
from streaming.runner import FlowStoppedError, has_partitions, recovery_config, run_flow
from streaming.sources import Message, RecordSource

T0 = datetime(2013, 2, 7, tzinfo=UTC)


def _records(count: int) -> list[Record]:
    return [Record(T0 + timedelta(hours=i), "t", f"k{i}", str(i).encode()) for i in range(count)]


def _run_source(source: RecordSource) -> list[bytes]:
    out: list[Message] = []
    flow = Dataflow("paced")
    op.output("out", op.input("inp", flow, source), TestingSink(out))
    run_main(flow)  # type: ignore[no-untyped-call]
    return [message.value for message in out]


def test_paced_source_keeps_order_and_takes_event_time_over_speed() -> None:
    records = _records(11)
    started = time.monotonic()
    values = _run_source(RecordSource(lambda position: records[position:], speed=3600 * 25))  # 25 h per s
    elapsed = time.monotonic() - started
    assert values == [record.payload for record in records]
    assert 0.35 <= elapsed < 5.0  # 10 h of event time at 25 h/s: 0.4 s


def test_source_rejects_a_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        RecordSource(lambda _position: [], speed=0)


def test_recovery_config_initialises_partitions_once(tmp_path: Path) -> None:
    folder = tmp_path / "recovery" / "view"
    assert not has_partitions(folder)
    recovery_config(folder)
    assert has_partitions(folder)
    before = {path: path.stat().st_mtime_ns for path in folder.iterdir()}
    recovery_config(folder, backup_interval=timedelta(seconds=5))
    assert {path: path.stat().st_mtime_ns for path in folder.iterdir()} == before


def _endless(position: int) -> Iterator[Record]:
    for i in count(position):
        yield Record(T0 + timedelta(hours=i), "t", "k", b"1")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_running_flow(sig: signal.Signals, tmp_path: Path) -> None:
    flow = Dataflow("forever")  # an endless, paced replay (idle between records), with recovery
    op.output("out", op.input("inp", flow, RecordSource(_endless, speed=3600 * 20)), TestingSink([]))
    previous = signal.getsignal(sig)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), sig))
    timer.start()
    started = time.monotonic()
    with pytest.raises(FlowStoppedError) as stopped:
        run_flow(flow, recovery_dir=tmp_path / "recovery", snapshot_interval=timedelta(seconds=0.1))
    timer.join()
    assert stopped.value.signal_name == sig.name
    assert time.monotonic() - started < 10
    assert signal.getsignal(sig) == previous  # the handlers are restored
