"""The feature store against real Postgres and Redis (and the local profile's files).

Each test applies the repository into its own Feast project (``cw_test_<random>``) and uses
entity keys no other test uses; history tables are shared, keys are not.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import redis
from feast import FeatureStore

from chainwatch.errors import DependencyUnavailableError
from chainwatch.settings import Profile, Settings
from streaming.features.offline import PostgresHistory, history_writer
from streaming.features.online import FeastOnlineWriter, RedisOnlineWriter
from streaming.features.schema import VIEWS
from streaming.features.store import REPO_DIR, apply, feast_env, feature_store, historical_features, yaml_path

T0 = datetime(2013, 3, 1, 10, tzinfo=UTC)
OPS = VIEWS["facility_ops"]
FEATURES = ["facility_ops:departures_1h", "facility_ops:delayed_share_1h"]


def _project() -> str:
    return f"cw_test_{uuid.uuid4().hex[:10]}"


def _key() -> str:
    return f"T{uuid.uuid4().hex[:8].upper()}"


def ops_row(key: str, at: datetime, value: float) -> dict[str, Any]:
    """A facility_ops row whose every column derives from ``value`` (ints: ``int(value)``)."""
    row: dict[str, Any] = {"facility_id": key, "event_timestamp": at}
    row.update({c: (int(value) if kind == "int" else value) for c, kind in OPS.columns.items()})
    return row


def _drop_project(settings: Settings, store: FeatureStore) -> None:
    client = redis.Redis(host=settings.redis.host, port=settings.redis.port, db=settings.redis.db)
    for key in client.scan_iter(match=b"*" + store.project.encode(), count=10_000):
        client.unlink(key)
    store.registry.delete_project(store.project, commit=True)


@pytest.fixture
def services_store(services_settings: Settings) -> Iterator[FeatureStore]:
    store = apply(services_settings, feature_store(services_settings, project=_project()))
    yield store
    _drop_project(services_settings, store)


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(profile=Profile.LOCAL, data_dir=tmp_path)


@pytest.fixture(params=["services", "local"])
def profile_store(request: pytest.FixtureRequest) -> tuple[Settings, FeatureStore]:
    if request.param == "services":
        settings = request.getfixturevalue("services_settings")
        return settings, request.getfixturevalue("services_store")
    settings = request.getfixturevalue("local_settings")
    return settings, apply(settings, feature_store(settings, project=_project()))


def _online(store: FeatureStore, keys: list[str], features: list[str] = FEATURES) -> dict[str, Any]:
    rows = [{"facility_id": key} for key in keys]
    result: dict[str, Any] = store.get_online_features(features=features, entity_rows=rows).to_dict(
        include_event_timestamps=True
    )
    return result


# --------------------------------------------------------------------------- point in time


def test_historical_features_are_point_in_time_correct_and_keep_every_row(
    profile_store: tuple[Settings, FeatureStore],
) -> None:
    settings, store = profile_store
    a, b, unknown = _key(), _key(), _key()
    # given history for A at 10:00, 12:00 and 14:00 (after most as-of times), and B at 09:00
    history_writer(settings).write(
        "facility_ops",
        [
            ops_row(a, T0, 1.0),
            ops_row(a, T0 + timedelta(hours=2), 2.0),
            ops_row(a, T0 + timedelta(hours=4), 3.0),
            ops_row(b, T0 - timedelta(hours=1), 5.0),
        ],
    )
    entity_rows = pd.DataFrame(
        [
            (a, T0 + timedelta(hours=1, minutes=30), 1.0),  # only the 10:00 row is known
            (a, T0 + timedelta(hours=2), 2.0),  # a row stamped at the as-of time is known
            (a, T0 + timedelta(hours=3, minutes=59), 2.0),  # 14:00 lies in the future
            (b, T0 + timedelta(hours=4), 5.0),  # 5 h old, within the 6 h TTL
            (b, T0 + timedelta(hours=6, minutes=1), math.nan),  # older than the TTL
            (unknown, T0 + timedelta(hours=2), math.nan),  # never seen
            (a, T0 + timedelta(hours=10, minutes=30), math.nan),  # newest row is 6.5 h old
        ],
        columns=["facility_id", "event_timestamp", "expected"],
    )
    # when retrieving point-in-time features
    result = historical_features(store, entity_rows, FEATURES)
    # then every entity row is kept, in order, and no value comes from after its as-of time
    assert len(result) == len(entity_rows)
    assert result["facility_id"].tolist() == entity_rows["facility_id"].tolist()
    assert result["event_timestamp"].tolist() == entity_rows["event_timestamp"].tolist()
    got = result["facility_ops__delayed_share_1h"].astype(float).tolist()
    expected = entity_rows["expected"].tolist()
    assert [None if math.isnan(x) else x for x in got] == [None if math.isnan(x) else x for x in expected]


def test_historical_features_of_the_feature_service_cover_a_shipment(
    services_settings: Settings, services_store: FeatureStore
) -> None:
    origin, destination = _key(), _key()
    PostgresHistory(services_settings).write("facility_ops", [ops_row(origin, T0, 1.0), ops_row(destination, T0, 7.0)])
    shipment = pd.DataFrame(
        {
            "origin_id": [origin],
            "destination_id": [destination],
            "carrier_id": ["ZZ"],
            "route_id": [f"{origin}-{destination}"],
            "vehicle_id": [_key()],
            "event_timestamp": [T0 + timedelta(minutes=30)],
            "scheduled_departure": [T0 + timedelta(hours=1, minutes=30)],
            "distance_km": [1234.5],
            "horizon_hours": [1.0],
        }
    )
    result = historical_features(services_store, shipment, services_store.get_feature_service("disruption_model_v1"))
    row = result.iloc[0]
    assert row["origin_facility_ops__delayed_share_1h"] == 1.0
    assert row["destination_facility_ops__delayed_share_1h"] == 7.0
    assert math.isnan(row["carrier_ops__delayed_share_3h"])
    assert row["shipment_context__scheduled_hour_utc"] == 11
    assert row["shipment_context__route_distance_km"] == 1234.5


# --------------------------------------------------------------------------- online


def test_online_writes_read_back_through_feast(services_settings: Settings, services_store: FeatureStore) -> None:
    a, b = _key(), _key()
    # given rows for two facilities, one with a missing value, and an older row sent later
    writer = RedisOnlineWriter(services_settings, services_store)
    row_b = ops_row(b, T0, 4.0) | {"delayed_share_1h": math.nan}
    writer.write("facility_ops", [ops_row(a, T0, 1.0), ops_row(a, T0 + timedelta(hours=1), 2.0), row_b])
    writer.write("facility_ops", [ops_row(a, T0 - timedelta(hours=5), 9.0)])
    # when reading through Feast
    got = _online(services_store, [a, b])
    # then the newest row per key is served, missing stays missing, timestamps are the rows'
    assert got["departures_1h"] == [2, 4]
    assert got["delayed_share_1h"] == [2.0, None]
    assert got["departures_1h__ts"] == [int((T0 + timedelta(hours=1)).timestamp()), int(T0.timestamp())]


def test_fast_writer_equals_feasts_writer(services_settings: Settings, services_store: FeatureStore) -> None:
    ours, theirs = _key(), _key()
    rows = [
        (T0 + timedelta(hours=2), 2.5),
        (T0, 1.5),  # older than the first: both writers must keep the 12:00 row
        (T0 + timedelta(hours=3, microseconds=250), 3.5),
    ]
    fast, reference = RedisOnlineWriter(services_settings, services_store), FeastOnlineWriter(services_store)
    # given the same rows (incl. one out of order) written by each writer, one call per row
    for at, value in rows:
        fast.write("facility_ops", [ops_row(ours, at, value) | {"backlog": None}])
        reference.write("facility_ops", [ops_row(theirs, at, value) | {"backlog": None}])
    # when reading both back with every feature and the event timestamps
    features = [f"facility_ops:{column}" for column in OPS.columns]
    got = services_store.get_online_features(
        features=features, entity_rows=[{"facility_id": ours}, {"facility_id": theirs}]
    ).to_df(include_event_timestamps=True)
    # then values and timestamps are identical
    first, second = got.drop(columns="facility_id").to_dict("records")
    assert first == second
    assert first["departures_1h"] == 3
    assert first["backlog"] is None or pd.isna(first["backlog"])
    assert first["departures_1h__ts"] == int((T0 + timedelta(hours=3)).timestamp())
    # and the stored hashes are byte-identical, sub-second timestamp included
    client: Any = redis.Redis(host=services_settings.redis.host, port=services_settings.redis.port)
    hashes = [client.hgetall(fast.redis_key(OPS, key)) for key in (ours, theirs)]
    assert hashes[0] == hashes[1]
    assert len(hashes[0]) == len(OPS.columns) + 1


def test_keys_expire_after_the_entity_ttl(services_settings: Settings, services_store: FeatureStore) -> None:
    key = _key()
    writer = RedisOnlineWriter(services_settings, services_store)
    writer.write("facility_ops", [ops_row(key, T0, 1.0)])
    client: Any = redis.Redis(host=services_settings.redis.host, port=services_settings.redis.port)
    ttl = client.ttl(writer.redis_key(OPS, key))
    assert 47 * 3600 < ttl <= 48 * 3600


def test_materialize_restores_a_flushed_online_store(services_settings: Settings, services_store: FeatureStore) -> None:
    a, b = _key(), _key()
    # given history in Postgres
    PostgresHistory(services_settings).write(
        "facility_ops", [ops_row(a, T0, 1.0), ops_row(a, T0 + timedelta(hours=1), 2.0), ops_row(b, T0, 3.0)]
    )
    services_store.materialize(T0 - timedelta(hours=1), T0 + timedelta(hours=2), feature_views=["facility_ops"])
    before = _online(services_store, [a, b])
    # when the project's online keys are flushed
    client = redis.Redis(host=services_settings.redis.host, port=services_settings.redis.port)
    for redis_key in client.scan_iter(match=b"*" + services_store.project.encode()):
        client.unlink(redis_key)
    assert _online(services_store, [a, b])["departures_1h"] == [None, None]
    # then materialising the time range restores them
    services_store.materialize(T0 - timedelta(hours=1), T0 + timedelta(hours=2), feature_views=["facility_ops"])
    assert _online(services_store, [a, b]) == before
    assert before["departures_1h"] == [2, 3]


# --------------------------------------------------------------------------- offline


def test_history_upserts_are_idempotent_and_create_partitions(services_settings: Settings) -> None:
    import psycopg2

    key, at = _key(), datetime(2015, 3, 7, 5, tzinfo=UTC)  # outside the pre-created months
    history = PostgresHistory(services_settings)
    # given the same row written twice, then corrected
    assert history.write("facility_ops", [ops_row(key, at, 1.0)]) == 1
    history.write("facility_ops", [ops_row(key, at, 1.0)])
    history.write("facility_ops", [ops_row(key, at, 4.0)])
    pg = services_settings.postgres
    password = pg.password.get_secret_value() if pg.password else None
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, password=password, dbname=pg.database)
    with conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT backlog, tableoid::regclass::text FROM features.facility_ops WHERE facility_id = %s", (key,)
        )
        rows = cursor.fetchall()
    conn.close()
    # then one row holds the latest values, in its month's partition
    assert rows == [(4, "features.facility_ops_y2015m03")]


def test_postgres_down_raises_dependency_unavailable(services_settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = services_settings.model_copy(
        update={"postgres": services_settings.postgres.model_copy(update={"port": closed_port})}
    )
    with pytest.raises(DependencyUnavailableError, match="postgres"):
        PostgresHistory(settings, connect_timeout_s=2).write("facility_ops", [ops_row(_key(), T0, 1.0)])


def test_local_history_merges_on_key_and_time(local_settings: Settings) -> None:
    writer = history_writer(local_settings)
    key = _key()
    writer.write("facility_ops", [ops_row(key, T0, 1.0), ops_row(key, T0 + timedelta(hours=1), 2.0)])
    writer.write("facility_ops", [ops_row(key, T0, 5.0)])
    frame = pd.read_parquet(writer.path("facility_ops"))  # type: ignore[union-attr]
    assert frame["delayed_share_1h"].tolist() == [5.0, 2.0]


# --------------------------------------------------------------------------- feast serve


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_feast_serve_answers_get_online_features(
    services_settings: Settings, services_store: FeatureStore, tmp_path: Path
) -> None:
    key = _key()
    RedisOnlineWriter(services_settings, services_store).write("facility_ops", [ops_row(key, T0, 6.0)])
    # given the CLI config with this test's project
    config = (
        yaml_path(Profile.SERVICES)
        .read_text(encoding="utf-8")
        .replace("project: chainwatch", f"project: {services_store.project}")
    )
    (tmp_path / "feature_store.yaml").write_text(config, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, **feast_env(services_settings), "PYTHONPATH": str(REPO_DIR.parent)}
    feast = str(Path(sys.executable).with_name("feast"))
    command = [feast, "-c", str(REPO_DIR), "-f", str(tmp_path / "feature_store.yaml"), "serve", "-h", "127.0.0.1"]
    server = subprocess.Popen([*command, "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "feast serve did not become ready"
            time.sleep(0.5)
        # when asking it over HTTP
        response = httpx.post(
            f"{url}/get-online-features",
            json={"features": FEATURES, "entities": {"facility_id": [key]}},
            timeout=10,
        )
        # then it serves what the fast writer wrote
        response.raise_for_status()
        body = response.json()
        names = body["metadata"]["feature_names"]
        values = {name: result["values"][0] for name, result in zip(names, body["results"], strict=True)}
        assert values["departures_1h"] == 6
        assert values["delayed_share_1h"] == 6.0
    finally:
        server.terminate()
        server.wait(timeout=20)
