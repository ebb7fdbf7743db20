"""Crash recovery of a feature flow: ``kill -9`` mid-run, restart, and the history is still exact.

``chainwatch stream run`` (local profile, in-process replay source, paced so a run lasts ~17 s)
runs ``facility_ops`` over two days with ``--recovery-dir`` and a 0.3 s snapshot interval, as a
subprocess. It is killed with SIGKILL at a random moment of each of five runs (seeded) and
stopped once with SIGTERM (which must end it promptly with status 0); every restart uses the
same recovery folder. The local parquet history must then hold exactly the rows a clean batch
computation (:func:`backfill_rows`) gives for the window: no hour lost, none counted twice.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from chainwatch.datasets import read_local_store
from streaming.features.backfill import backfill_rows
from streaming.features.schema import TIMESTAMP_COLUMN, VIEWS

ROOT = Path(__file__).resolve().parents[2]
VIEW = "facility_ops"
SPEC = VIEWS[VIEW]
START = datetime(2013, 2, 7, tzinfo=UTC)
END = datetime(2013, 2, 9, tzinfo=UTC)
#: Event-time seconds per wall second: the two days take ~17 s once the flow is running.
SPEED = 10_000
SNAPSHOT_S = 0.3
#: One interruption per seed; SIGTERM once (a clean stop), SIGKILL the rest.
SEEDS = (11, 23, 37, 41, 53, 67)
TERM_SEED = 37
STARTUP_TIMEOUT_S = 90.0


@dataclass(frozen=True, slots=True)
class Interruption:
    """One interrupted run: the signal, when it landed, and the history rows present right after."""

    signal_name: str
    after_s: float
    rows_after: int
    exit_code: int
    stop_s: float


def _command(recovery: Path) -> list[str]:
    return [
        sys.executable, "-m", "chainwatch.cli", "stream", "run", "--flow", VIEW,
        "--start", f"{START:%Y-%m-%d}", "--end", f"{END:%Y-%m-%d}",
        "--recovery-dir", str(recovery), "--snapshot-interval", str(SNAPSHOT_S), "--speed", str(SPEED),
    ]  # fmt: skip


def _environment(data_dir: Path) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items() if not name.startswith("CHAINWATCH_")}
    return {**keep, "CHAINWATCH_PROFILE": "local", "CHAINWATCH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def _start(data_dir: Path, recovery: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start ``stream run`` and return once the replay is running (its flow is being built)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            _command(recovery), cwd=ROOT, env=_environment(data_dir), stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while b"replaying" not in log.read_bytes():
        assert process.poll() is None, f"stream run ended before replaying:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "stream run did not start replaying in time"
        time.sleep(0.05)
    return process


def _history(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "feast" / "history" / f"{VIEW}.parquet"
    columns = [SPEC.key, TIMESTAMP_COLUMN, *SPEC.columns]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_parquet(path)[columns]
    frame[TIMESTAMP_COLUMN] = pd.to_datetime(frame[TIMESTAMP_COLUMN], utc=True)
    window = (frame[TIMESTAMP_COLUMN] > pd.Timestamp(START)) & (frame[TIMESTAMP_COLUMN] <= pd.Timestamp(END))
    return frame[window].sort_values([SPEC.key, TIMESTAMP_COLUMN], ignore_index=True)


def _interrupt(data_dir: Path, recovery: Path, log: Path, seed: int) -> Interruption:
    rng = random.Random(seed)
    sig = signal.SIGTERM if seed == TERM_SEED else signal.SIGKILL
    after_s = rng.uniform(0.6, 2.2)
    process = _start(data_dir, recovery, log)
    time.sleep(after_s)
    assert process.poll() is None, f"the flow ended before the {sig.name} at {after_s:.2f} s (seed {seed})"
    os.kill(process.pid, sig)
    sent = time.monotonic()
    exit_code = process.wait(timeout=30)
    return Interruption(sig.name, after_s, len(_history(data_dir)), exit_code, time.monotonic() - sent)


def test_kill_9_and_restart_loses_and_doubles_nothing(tmp_path: Path) -> None:
    data_dir, recovery = tmp_path / "data", tmp_path / "recovery"
    data_dir.mkdir()
    lake = ROOT / "data" / "lake"
    if lake.exists():
        (data_dir / "lake").symlink_to(lake)  # else the first run builds the local store

    interruptions = [_interrupt(data_dir, recovery, tmp_path / f"run-{seed}.log", seed) for seed in SEEDS]
    final_log = tmp_path / "final.log"
    final = _start(data_dir, recovery, final_log)
    assert final.wait(timeout=120) == 0, final_log.read_text()[-3000:]

    expected = backfill_rows(read_local_store(data_dir / "lake"), VIEW, START, END, warmup=timedelta(0))
    assert len(expected) > 1_000
    for item in interruptions:
        # Each interruption landed mid-run: the process was alive (checked above) and the
        # history was incomplete right after it.
        assert item.rows_after < len(expected), item
        if item.signal_name == "SIGKILL":
            assert item.exit_code == -signal.SIGKILL, item
        else:
            assert item.exit_code == 0, item  # a clean stop
            assert item.stop_s < 5.0, item
    assert interruptions[-1].rows_after > 0, "the flow never wrote a row before being interrupted"
    # The last run resumed from a snapshot instead of starting over.
    written = re.search(rf"{VIEW}: {{'online': (\d+), 'history': (\d+)}}", final_log.read_text())
    assert written is not None, final_log.read_text()[-3000:]
    assert 0 < int(written.group(2)) < len(expected)

    history = _history(data_dir)
    assert not history.duplicated([SPEC.key, TIMESTAMP_COLUMN]).any()
    pd.testing.assert_frame_equal(history, expected, check_dtype=False)
