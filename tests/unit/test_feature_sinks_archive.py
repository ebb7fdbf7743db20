"""The raw archive sink: partition layout, columns, event time parsing, batching."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import fsspec  # type: ignore[import-untyped]
import pyarrow.parquet as pq
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSource, run_main

from chainwatch.settings import Profile, Settings
from streaming.features.archive import RawArchiveSink, event_time_of
from streaming.flows.archive import build_flow
from streaming.sources import Message

WEATHER = "weather.observations.v1"
SOCIAL = "social.posts.v1"


def message(topic: str, value: bytes, *, offset: int | None = None, timestamp_ms: int | None = None) -> Message:
    stamp = (1, timestamp_ms) if timestamp_ms is not None else None
    return KafkaSourceMessage(b"JFK", value, topic=topic, partition=0, offset=offset, timestamp=stamp)


def payload(when: str) -> bytes:
    return f'{{"event_id": "x", "event_time": "{when}", "facility_id": "JFK"}}'.encode()


def test_event_time_comes_from_the_payload_then_the_kafka_timestamp() -> None:
    # given a payload with an event time, one without (bad input) and one with nothing at all
    good = message(WEATHER, payload("2013-02-08T23:00:00Z"))
    bad = message(WEATHER, b"not json", timestamp_ms=1_360_368_000_000)
    bare = message(WEATHER, b"")
    # when reading their event times, then each falls back in order
    assert event_time_of(good) == datetime(2013, 2, 8, 23, tzinfo=UTC)
    assert event_time_of(bad) == datetime(2013, 2, 9, tzinfo=UTC)
    assert event_time_of(bare, now=lambda: 0.0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_messages_land_partitioned_by_topic_and_date_with_every_column(tmp_path: Path) -> None:
    # given messages of two topics across two days, plus one unparseable message
    settings = Settings(profile=Profile.LOCAL, data_dir=tmp_path)
    messages = [
        message(WEATHER, payload("2013-02-08T22:00:00+00:00"), offset=1),
        message(WEATHER, payload("2013-02-09T01:00:00+00:00"), offset=2),
        message(SOCIAL, payload("2013-02-08T22:30:00+00:00"), offset=3),
        message(SOCIAL, b"{broken", offset=4, timestamp_ms=1_360_363_000_000),
    ]
    # when the archive flow runs over them
    run_main(build_flow(settings, source=TestingSource(messages), sink=RawArchiveSink(settings)))  # type: ignore[no-untyped-call]
    # then each (topic, date) has its own file with the raw bytes and the columns
    files = sorted(path.relative_to(settings.lake_dir).as_posix() for path in settings.lake_dir.rglob("*.parquet"))
    assert [path.rsplit("/", 1)[0] for path in files] == [
        f"raw/topic={SOCIAL}/date=2013-02-08",
        f"raw/topic={WEATHER}/date=2013-02-08",
        f"raw/topic={WEATHER}/date=2013-02-09",
    ]
    assert all(path.rsplit("/", 1)[1].startswith("part-000-") for path in files)
    social = pq.read_table(settings.lake_dir / files[0]).to_pylist()
    assert [item["value"] for item in social] == [payload("2013-02-08T22:30:00+00:00"), b"{broken"]
    assert [item["offset"] for item in social] == [3, 4]
    assert {item["topic"] for item in social} == {SOCIAL}
    assert social[0]["key"] == b"JFK"
    assert social[0]["event_time"] == datetime(2013, 2, 8, 22, 30, tzinfo=UTC)


def test_a_worker_writes_when_its_batch_is_full_and_never_reuses_a_file_name(tmp_path: Path) -> None:
    # given a sink that writes every 2 messages, on a clock that stands still
    sink = RawArchiveSink(
        Settings(profile=Profile.LOCAL, data_dir=tmp_path),
        max_rows=2,
        location=(fsspec.filesystem("file"), str(tmp_path)),
        clock=lambda: 1_000.0,
    )
    partition = sink.build("out", 3, 4)
    # when 5 messages of one day arrive one by one
    for offset in range(5):
        partition.write_batch([message(WEATHER, payload("2013-02-08T10:00:00Z"), offset=offset)])
    # then two files were written before the end, a third at close, with distinct names
    folder = tmp_path / "raw" / f"topic={WEATHER}" / "date=2013-02-08"
    assert len(list(folder.glob("part-003-*.parquet"))) == 2
    partition.close()
    names = sorted(path.name for path in folder.glob("*.parquet"))
    assert len(names) == 3
    assert sum(pq.read_metadata(folder / name).num_rows for name in names) == 5
