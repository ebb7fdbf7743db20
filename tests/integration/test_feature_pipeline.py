"""The feature pipeline against real Postgres and Redis: flows -> stores, materialize, Postgres down.

Each test uses its own Feast project (``cw_test_<random>``) and removes it (registry entries and
its Redis keys) afterwards. The history tables are shared: the replay tests write the
deterministic rows of the real airports (identical in every run), the outage test uses entity
keys no other test uses.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
import pandas as pd
import psycopg2
import pytest
import redis
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource
from feast import FeatureStore

from chainwatch.cli import main
from chainwatch.datasets import FlightsDataset, load_nycflights, read_local_store
from chainwatch.services.manager import ServiceManager
from chainwatch.settings import Settings
from streaming.features.backfill import SCHEDULE_WARMUP, backfill_rows
from streaming.features.pipeline import replay_sources, row_sink, run_features, run_flow
from streaming.features.schema import TIMESTAMP_COLUMN, VIEWS
from streaming.features.store import apply, feature_store
from streaming.flows.features_common import fixed_clock
from streaming.sources import Message

VIEW = "facility_weather"
SPEC = VIEWS[VIEW]
START = datetime(2013, 2, 8, tzinfo=UTC)
END = datetime(2013, 2, 9, tzinfo=UTC)
AIRPORTS = ["EWR", "JFK", "LGA"]
FEATURES = [f"{VIEW}:{column}" for column in SPEC.columns]


@pytest.fixture(scope="module")
def flights() -> FlightsDataset:
    lake = Path(__file__).resolve().parents[2] / "data" / "lake"
    return read_local_store(lake) if lake.exists() else load_nycflights()


@pytest.fixture(scope="module")
def expected(flights: FlightsDataset) -> pd.DataFrame:
    """What the backfill path computes for the window: the reference rows."""
    return backfill_rows(flights, VIEW, START, END)


@pytest.fixture
def settings(services_settings: Settings, tmp_path: Path) -> Settings:
    """The services profile with its local folders (retry spool, backfill markers) in tmp_path."""
    return services_settings.model_copy(update={"data_dir": tmp_path})


def _redis(settings: Settings) -> redis.Redis:
    return redis.Redis(host=settings.redis.host, port=settings.redis.port, db=settings.redis.db)


def _project_keys(settings: Settings, store: FeatureStore) -> list[bytes]:
    return list(_redis(settings).scan_iter(match=b"*" + store.project.encode(), count=10_000))


@pytest.fixture
def store(settings: Settings) -> Iterator[FeatureStore]:
    store = apply(settings, feature_store(settings, project=f"cw_test_{uuid.uuid4().hex[:10]}"))
    yield store
    for key in _project_keys(settings, store):
        _redis(settings).unlink(key)
    store.registry.delete_project(store.project, commit=True)


def _online(store: FeatureStore, keys: list[str]) -> pd.DataFrame:
    result: dict[str, Any] = store.get_online_features(
        features=FEATURES, entity_rows=[{"facility_id": key} for key in keys]
    ).to_dict(include_event_timestamps=True)
    return pd.DataFrame(result)


def _history(settings: Settings, keys: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    pg = settings.postgres
    password = pg.password.get_secret_value() if pg.password else None
    names = [SPEC.key, TIMESTAMP_COLUMN, *SPEC.columns]
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, password=password, dbname=pg.database)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(names)} FROM {SPEC.history_table} WHERE {SPEC.key} = ANY(%s) "
                f"AND {TIMESTAMP_COLUMN} > %s AND {TIMESTAMP_COLUMN} <= %s ORDER BY 1, 2",
                (keys, start, end),
            )
            frame = pd.DataFrame(cursor.fetchall(), columns=names)
    finally:
        conn.close()
    frame[TIMESTAMP_COLUMN] = pd.to_datetime(frame[TIMESTAMP_COLUMN], utc=True)
    return frame


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(TIMESTAMP_COLUMN).groupby(SPEC.key).tail(1).set_index(SPEC.key).sort_index()


def _assert_online_equals(online: pd.DataFrame, latest: pd.DataFrame) -> None:
    online = online.set_index("facility_id").sort_index()
    assert online.index.tolist() == latest.index.tolist()
    for column in SPEC.columns:
        assert online[column].astype(float).tolist() == pytest.approx(
            latest[column].astype(float).tolist(), nan_ok=True
        )
        stamps = [int(ts.timestamp()) for ts in latest[TIMESTAMP_COLUMN]]
        assert online[f"{column}__ts"].tolist() == stamps


def _run_replay(settings: Settings, store: FeatureStore, flights: FlightsDataset) -> None:
    lead = SPEC.lookback + SCHEDULE_WARMUP
    run_features(
        settings,
        views=[VIEW],
        source_factory=replay_sources(flights, START - lead, END),
        live=False,
        now=fixed_clock(END),
        store=store,
    )


def test_a_flow_over_the_replay_fills_both_stores_with_the_backfill_rows(
    settings: Settings, store: FeatureStore, flights: FlightsDataset, expected: pd.DataFrame
) -> None:
    # given the replay of a day of the blizzard
    # when the facility_weather flow runs over it into the stores
    _run_replay(settings, store, flights)
    # then the history table holds exactly the backfill path's rows
    history = _history(settings, AIRPORTS, START, END)
    pd.testing.assert_frame_equal(history, expected, check_dtype=False)
    # and Feast's online read returns each airport's newest row
    _assert_online_equals(_online(store, AIRPORTS), _latest(expected))


def test_materialize_restores_the_online_store_after_redis_lost_it(
    settings: Settings, store: FeatureStore, flights: FlightsDataset, expected: pd.DataFrame
) -> None:
    # given the flow's rows in both stores, then the project's Redis keys deleted
    _run_replay(settings, store, flights)
    _redis(settings).unlink(*_project_keys(settings, store))
    assert _online(store, AIRPORTS)["temperature_c"].isna().all()
    # when the CLI materializes the window
    code = main(
        ["features", "materialize", "--start", "2013-02-08", "--end", "2013-02-09", "--view", VIEW,
         "--project", store.project]
    )  # fmt: skip
    # then the online store is back
    assert code == 0
    _assert_online_equals(_online(store, AIRPORTS), _latest(expected))


def _rows(keys: list[str], hour: int) -> list[dict[str, Any]]:
    stamp = START + timedelta(hours=hour)
    values = {column: (hour if kind == "int" else float(hour)) for column, kind in SPEC.columns.items()}
    return [{SPEC.key: key, TIMESTAMP_COLUMN: stamp, **values} for key in keys]


def _wait_for(condition: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_postgres_down_online_pushes_go_on_and_no_history_row_is_lost(settings: Settings, store: FeatureStore) -> None:
    # given a flow pushing rows of fresh keys in three phases, the source waiting between them
    keys = [f"T{uuid.uuid4().hex[:8].upper()}" for _ in range(4)]
    phases = [_rows(keys, hour) for hour in (1, 2, 3)]
    go = [threading.Event(), threading.Event()]

    def items() -> Iterator[dict[str, Any]]:
        yield from phases[0]
        go[0].wait(120)
        yield from phases[1]
        go[1].wait(120)
        yield from phases[2]

    sink = row_sink(settings, VIEW, store, live=True, history_attempts=2, retry_interval_s=0.2)
    flow = Dataflow("outage_test")
    op.output("out", op.input("inp", flow, TestingSource(items(), batch_size=len(keys))), sink)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_flow(flow)
        except BaseException as err:  # noqa: BLE001 - reported by the test thread
            errors.append(err)

    worker = threading.Thread(target=run, daemon=True)
    manager = ServiceManager(settings)
    worker.start()
    try:
        _wait_for(lambda: sink.written["history"] == 4, "phase 1 in history")
        # when Postgres goes down while the flow keeps pushing
        manager.down(["postgres"])
        go[0].set()
        _wait_for(lambda: sink.written["online"] == 8, "phase 2 online")
        # then online pushes went on while history waits
        assert sink.written["history"] == 4
        online = _online(store, keys)
        assert (online["temperature_c"] == 2.0).all()
    finally:
        manager.up(["postgres"])
        go[0].set()
        go[1].set()
    # when Postgres is back and the flow ends
    worker.join(120)
    assert not worker.is_alive()
    assert not errors
    # then every history row of every phase is there, once
    history = _history(settings, keys, START, END)
    assert len(history) == 12
    assert sorted(history.groupby(TIMESTAMP_COLUMN).size().tolist()) == [4, 4, 4]
    assert (_online(store, keys)["temperature_c"] == 3.0).all()


def test_the_raw_archive_lands_in_the_s3_lake_bucket(settings: Settings, unique_name: str) -> None:
    # given messages of a topic no other test uses
    from bytewax.connectors.kafka import KafkaSourceMessage

    from streaming.features.archive import RawArchiveSink, archive_location
    from streaming.flows.archive import build_flow

    payload = b'{"event_time": "2013-02-08T22:00:00Z", "facility_id": "JFK"}'
    messages: list[Message] = [
        KafkaSourceMessage(b"JFK", payload, topic=unique_name, partition=1, offset=n) for n in range(3)
    ]
    # when the archive flow runs in the services profile
    run_flow(build_flow(settings, source=TestingSource(messages), sink=RawArchiveSink(settings)))
    # then one parquet file holds them under the bucket's raw/ prefix
    filesystem, root = archive_location(settings)
    assert root == settings.s3.lake_bucket
    files = filesystem.glob(f"{root}/raw/topic={unique_name}/date=2013-02-08/part-000-*.parquet")
    try:
        assert len(files) == 1
        with filesystem.open(files[0], "rb") as handle:
            table = pd.read_parquet(handle)
        assert table["offset"].tolist() == [0, 1, 2]
        assert table["value"].tolist() == [payload] * 3
    finally:
        filesystem.rm(f"{root}/raw/topic={unique_name}", recursive=True)
