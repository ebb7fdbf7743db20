"""FeatureRowSink: batching, idempotent writes, the history retry buffer and freshness metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
import pandas as pd
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main
from prometheus_client import REGISTRY

from chainwatch.errors import DependencyUnavailableError
from chainwatch.settings import Profile, Settings
from streaming.features.offline import ParquetHistory
from streaming.features.rolling import Row
from streaming.features.schema import VIEWS
from streaming.features.sinks import FeatureRowSink, HistoryBuffer, HistoryBufferFullError

VIEW = "facility_weather"
SPEC = VIEWS[VIEW]
T0 = datetime(2013, 2, 8, 12, tzinfo=UTC)


def row(key: str, hour: int, value: float = 1.0) -> Row:
    """A facility_weather row of ``key`` stamped ``hour`` hours after T0."""
    values: dict[str, Any] = {c: (int(value) if kind == "int" else value) for c, kind in SPEC.columns.items()}
    return {"facility_id": key, "event_timestamp": T0 + timedelta(hours=hour), **values}


class RecordingWriter:
    """Keeps every write; ``down`` makes it raise DependencyUnavailableError like a dead store."""

    def __init__(self) -> None:
        self.calls: list[list[Row]] = []
        self.stored: dict[tuple[str, datetime], Row] = {}
        self.down = False
        self.failures = 0

    def write(self, view: str, rows: Sequence[Mapping[str, Any]]) -> int:
        assert view == VIEW
        if self.down:
            self.failures += 1
            msg = "store down (test)"
            raise DependencyUnavailableError(msg)
        self.calls.append([dict(item) for item in rows])
        for item in rows:
            self.stored[(item["facility_id"], item["event_timestamp"])] = dict(item)
        return len(rows)


def sink_of(history: Any, online: Any, **options: Any) -> FeatureRowSink:
    defaults: dict[str, Any] = {"history_attempts": 1, "retry_interval_s": 0.0}
    return FeatureRowSink(VIEW, history=lambda: history, online=lambda: online, **{**defaults, **options})


def run_rows(sink: FeatureRowSink, batches: list[list[Row]]) -> None:
    flow = Dataflow("sink_test")
    items = op.input("inp", flow, TestingSource([item for batch in batches for item in batch], batch_size=3))
    op.output("out", items, sink)
    run_main(flow)  # type: ignore[no-untyped-call]


def keys(writer: RecordingWriter) -> set[tuple[str, datetime]]:
    return set(writer.stored)


def test_rows_are_written_online_and_to_history_in_bounded_chunks() -> None:
    # given a sink writing at most 2 rows per call and 7 rows in the flow
    history, online = RecordingWriter(), RecordingWriter()
    sink = sink_of(history, online, max_batch_rows=2)
    rows = [row("JFK", hour) for hour in range(7)]
    # when the flow runs
    run_rows(sink, [rows])
    # then every row reached both stores once, no call was larger than 2 rows
    assert keys(history) == keys(online) == {(r["facility_id"], r["event_timestamp"]) for r in rows}
    assert max(len(call) for call in history.calls + online.calls) <= 2
    assert sum(len(call) for call in history.calls) == 7
    assert sink.written == {"online": 7, "history": 7}


def test_rows_are_held_until_the_minimum_batch_and_filtered_by_keep() -> None:
    # given a sink holding 100 rows and keeping odd hours only
    history, online = RecordingWriter(), RecordingWriter()
    sink = sink_of(history, online, min_batch_rows=100, keep=lambda r: r["event_timestamp"].hour % 2 == 1)
    # when 10 rows flow through (fewer than the minimum)
    run_rows(sink, [[row("EWR", hour) for hour in range(10)]])
    # then they were written once, in one call, at the end, without the filtered rows
    assert len(history.calls) == 1
    assert sorted(r["event_timestamp"].hour for r in history.calls[0]) == [13, 15, 17, 19, 21]


def test_history_down_online_goes_on_and_buffered_rows_land_once_it_recovers() -> None:
    # given a partition whose history store is down
    history, online = RecordingWriter(), RecordingWriter()
    partition = sink_of(history, online).build("out", 0, 1)
    history.down = True
    # when batches arrive while it is down
    partition.write_batch([row("JFK", 0), row("JFK", 1)])
    partition.write_batch([row("LGA", 0)])
    # then online writes went on and the history rows are buffered, none written
    assert len(online.stored) == 3
    assert history.stored == {}
    assert history.failures >= 1
    # when the store comes back and the next batch arrives
    history.down = False
    partition.write_batch([row("EWR", 0)])
    partition.close()
    # then every row is in history exactly once, the buffered ones first
    assert keys(history) == keys(online)
    assert [r["facility_id"] for call in history.calls for r in call] == ["JFK", "JFK", "LGA", "EWR"]


def test_buffered_rows_spill_to_disk_and_a_restarted_sink_writes_them(tmp_path: Path) -> None:
    # given a sink keeping at most 2 buffered rows in memory, history down
    history, online = RecordingWriter(), RecordingWriter()
    partition = sink_of(history, online, spool=tmp_path, memory_rows=2, retry_interval_s=3600).build("out", 0, 1)
    history.down = True
    partition.write_batch([row("JFK", hour, 2.5) for hour in range(5)])
    # when the flow ends while the store is still down
    partition.close()
    # then the rows wait on disk, not lost
    files = list((tmp_path / VIEW).glob("*.parquet"))
    assert files
    assert sum(len(pd.read_parquet(path)) for path in files) == 5
    # when a new sink starts with the store back
    history.down = False
    restarted = sink_of(history, online, spool=tmp_path).build("out", 0, 1)
    restarted.write_batch([row("LGA", 0)])
    # then the spilled rows were written (values intact) and their files removed
    assert len(history.stored) == 6
    assert history.stored[("JFK", T0 + timedelta(hours=4))]["temperature_c"] == 2.5
    assert history.stored[("JFK", T0 + timedelta(hours=4))]["hazard_snow"] == 2
    assert not list((tmp_path / VIEW).glob("*.parquet"))


def test_a_full_buffer_stops_the_flow_after_saving_the_rows_to_disk(tmp_path: Path) -> None:
    # given a buffer of at most 3 rows
    buffer = HistoryBuffer(VIEW, tmp_path, memory_rows=10, max_rows=3)
    buffer.add([row("JFK", 0), row("JFK", 1)])
    # when more rows arrive than it may hold
    with pytest.raises(HistoryBufferFullError):
        buffer.add([row("JFK", 2), row("JFK", 3)])
    # then all four are on disk
    assert sum(len(pd.read_parquet(path)) for path in (tmp_path / VIEW).glob("*.parquet")) == 4
    assert len(HistoryBuffer(VIEW, tmp_path)) == 4


def test_the_real_local_history_writer_receives_the_rows(tmp_path: Path) -> None:
    # given the local profile's parquet history behind the sink
    settings = Settings(profile=Profile.LOCAL, data_dir=tmp_path)
    history, online = ParquetHistory(settings), RecordingWriter()
    sink = FeatureRowSink(VIEW, history=lambda: history, online=lambda: online, min_batch_rows=4)
    rows = [row(key, hour, float(hour)) for key in ("JFK", "EWR") for hour in range(3)]
    # when the flow runs twice over the same rows (a replay after a crash)
    run_rows(sink, [rows])
    run_rows(sink, [rows])
    # then the history holds each (key, timestamp) once
    frame = pd.read_parquet(history.path(VIEW))
    assert len(frame) == 6
    assert sorted(frame["temperature_c"].tolist()) == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]


def _sample(name: str, view: str) -> float:
    return REGISTRY.get_sample_value(name, {"view": view}) or 0.0


def test_freshness_is_observed_only_for_live_flows() -> None:
    # given rows whose hour closed long ago
    history, online = RecordingWriter(), RecordingWriter()
    before = _sample("chainwatch_feature_freshness_seconds_count", VIEW)
    # when a replay (not live) writes them
    sink_of(history, online, live=False).build("out", 0, 1).write_batch([row("JFK", 0)])
    # then no freshness was observed, but the last update was set
    assert _sample("chainwatch_feature_freshness_seconds_count", VIEW) == before
    assert _sample("chainwatch_feature_last_update_timestamp_seconds", VIEW) > 0
    # when a live flow writes two rows
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    live_rows = [{**row("JFK", 0), "event_timestamp": now}, {**row("EWR", 0), "event_timestamp": now}]
    sink_of(history, online, live=True).build("out", 0, 1).write_batch(live_rows)
    # then two observations of at most an hour were made
    assert _sample("chainwatch_feature_freshness_seconds_count", VIEW) == before + 2
    assert REGISTRY.get_sample_value("chainwatch_feature_freshness_seconds_bucket", {"view": VIEW, "le": "3600.0"})
