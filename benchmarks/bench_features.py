"""Feature pipeline benchmarks against the real local services (run ``make up`` first).

``features.backfill_s``: the whole of 2013 (real history, synthetic text and simulated IoT)
through every feature flow into the Postgres history tables, then ``materialize`` into Redis —
the work ``chainwatch features backfill --force`` does, timed end to end in one process.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from benchmarks.harness import Benchmark
from chainwatch.datasets import load_nycflights
from chainwatch.settings import load_settings
from streaming.features.pipeline import backfill


def backfill_s() -> float:
    """Seconds for the full 2013 backfill of every view, materialize included."""
    settings = load_settings()
    dataset = load_nycflights()
    started = time.perf_counter()
    run = backfill(
        settings,
        start=datetime(2013, 1, 1, tzinfo=UTC),
        end=datetime(2014, 1, 1, tzinfo=UTC),
        force=True,
        dataset=dataset,
        on_view=lambda result: print(f"  {result.view}: {result.rows} rows in {result.seconds} s", flush=True),
    )
    elapsed = time.perf_counter() - started
    if not run.views:
        msg = "the backfill ran no view"
        raise RuntimeError(msg)
    return elapsed


BENCHMARKS = [
    Benchmark(
        "features.backfill_s",
        "<= 300",
        "s",
        backfill_s,
        "make up && deploy/local/with-env.sh .venv/bin/python -m benchmarks.run features.backfill",
    ),
]
