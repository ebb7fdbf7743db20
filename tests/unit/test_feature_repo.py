"""The Feast repository against the contract: metadata, views, yaml, encodings, retries."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from feast import Entity, FeatureService, FeatureView
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from google.protobuf.timestamp_pb2 import Timestamp  # type: ignore[import-untyped]

from chainwatch.errors import ConfigError, DependencyUnavailableError, InvalidInputError
from chainwatch.settings import Profile, Settings
from feature_repo import repo as cli_repo
from feature_repo.catalog import COLUMN_DESCRIPTIONS
from feature_repo.common import OWNER
from feature_repo.definitions import RepoDefinition, build_repo
from streaming.features.offline import RetryingHistoryWriter, normalise_rows, partition_ddl, table_ddl, upsert_sql
from streaming.features.online import encode_timestamp, encode_value, entity_ttl
from streaming.features.schema import ENTITY_KEYS, VIEWS
from streaming.features.store import REPO_DIR, feast_env, render_config, yaml_path

FEAST_TYPE_NAMES = {"float": "Float64", "int": "Int64"}


@pytest.fixture(params=[Profile.SERVICES, Profile.LOCAL], ids=["services", "local"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> RepoDefinition:
    return build_repo(request.param, tmp_path)


def _all_objects(repo: RepoDefinition) -> list[Any]:
    views = list(repo.feature_views.values())
    return [
        *repo.entities.values(),
        *repo.batch_sources.values(),
        *(view.stream_source for view in views),
        *views,
        *repo.on_demand_feature_views.values(),
        *repo.feature_services.values(),
        *(source for odfv in repo.on_demand_feature_views.values() for source in odfv.source_request_sources.values()),
    ]


def test_every_object_has_description_owner_and_tags(repo: RepoDefinition) -> None:
    # given every Feast object of the repository
    objects = _all_objects(repo)
    # then each is documented, owned and tagged
    assert len(objects) >= 4 + 6 + 6 + 6 + 1 + 1 + 1
    for item in objects:
        assert item.description, item.name
        assert item.owner == OWNER, item.name
        assert item.tags.get("team") == "ml-platform", item.name


def test_views_match_the_contract(repo: RepoDefinition) -> None:
    # given the contract and the generated views
    assert set(repo.feature_views) == set(VIEWS)
    for name, spec in VIEWS.items():
        view: Any = repo.feature_views[name]
        # then names, keys, ttl and typed columns are the contract's
        assert view.entities == [spec.entity]
        assert view.ttl == spec.ttl
        assert {f.name: str(f.dtype) for f in view.features} == {
            column: FEAST_TYPE_NAMES[kind] for column, kind in spec.columns.items()
        }
        assert all(field.description for field in view.features)
        assert view.batch_source.timestamp_field == "event_timestamp"


def test_entities_use_the_contract_join_keys(repo: RepoDefinition) -> None:
    assert {name: entity.join_key for name, entity in repo.entities.items()} == dict(ENTITY_KEYS)


def test_services_sources_read_the_history_tables() -> None:
    services = build_repo(Profile.SERVICES)
    for name, source in services.batch_sources.items():
        assert source.get_table_query_string() == f"features.{name}"


def test_local_sources_are_parquet_files_under_the_history_dir(tmp_path: Path) -> None:
    local = build_repo(Profile.LOCAL, tmp_path)
    for name, source in local.batch_sources.items():
        assert getattr(source, "path", None) == str(tmp_path.resolve() / f"{name}.parquet")


def test_local_profile_needs_a_history_dir() -> None:
    with pytest.raises(ValueError, match="history"):
        build_repo(Profile.LOCAL)


def test_catalog_describes_exactly_the_contract_columns() -> None:
    expected = {(name, column) for name, spec in VIEWS.items() for column in spec.columns}
    assert set(COLUMN_DESCRIPTIONS) == expected


def test_feature_service_v1_selects_every_view_and_the_request_features() -> None:
    # given the services repo
    service = build_repo(Profile.SERVICES).feature_services["disruption_model_v1"]
    # when listing its projections
    projections: list[Any] = service.feature_view_projections
    names = {projection.name_to_use(): projection for projection in projections}
    # then facility views appear once per role, joined on the shipment's facility columns
    for name, spec in VIEWS.items():
        if spec.entity == "facility":
            assert names[f"origin_{name}"].join_key_map == {"facility_id": "origin_id"}
            assert names[f"destination_{name}"].join_key_map == {"facility_id": "destination_id"}
        else:
            assert name in names
        assert all(len(p.features) == len(spec.columns) for n, p in names.items() if n.endswith(name))
    assert "shipment_context" in names
    assert isinstance(service, FeatureService)


def test_cli_module_exposes_exactly_the_services_objects() -> None:
    # given what `feast apply` finds in repo.py (module attributes, as Feast's parse_repo scans)
    found = [getattr(cli_repo, name) for name in dir(cli_repo)]
    views = {item.name for item in found if isinstance(item, FeatureView)}
    entities = {item.name for item in found if isinstance(item, Entity)}
    services = {item.name for item in found if isinstance(item, FeatureService)}
    # then it is the whole repository: no view of the contract is missing
    expected = build_repo(Profile.SERVICES)
    assert views == set(expected.feature_views)
    assert entities == set(expected.entities)
    assert services == set(expected.feature_services)


def test_feastignore_leaves_only_the_cli_module() -> None:
    from feast.repo_operations import get_repo_files

    assert [path.name for path in get_repo_files(REPO_DIR)] == ["repo.py"]


@pytest.mark.parametrize("profile", list(Profile))
def test_yaml_placeholders_are_all_provided_by_feast_env(profile: Profile) -> None:
    # given the profile's yaml and settings
    settings = Settings(profile=profile, postgres={"password": "p@ss word"}, s3={"secret_access_key": "x"})
    text = yaml_path(profile).read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    # when rendering it
    env = feast_env(settings)
    config = render_config(text, env)
    # then every placeholder has a value and nothing is left unrendered
    assert placeholders
    assert placeholders <= set(env)
    assert "${" not in yaml.safe_dump(config)


def test_services_yaml_targets_redis_postgres_and_the_sql_registry() -> None:
    settings = Settings(profile=Profile.SERVICES, postgres={"password": "p@ss"}, s3={"secret_access_key": "x"})
    config = render_config(yaml_path(Profile.SERVICES).read_text(encoding="utf-8"), feast_env(settings))
    assert config["online_store"]["type"] == "redis"
    assert config["online_store"]["key_ttl_seconds"] >= max(s.ttl for s in VIEWS.values()).total_seconds()
    assert config["offline_store"] == config["offline_store"] | {"type": "postgres", "sslmode": "disable"}
    assert config["registry"]["registry_type"] == "sql"
    assert config["registry"]["path"].startswith("postgresql+psycopg://chainwatch:p%40ss@")


def test_local_yaml_is_sqlite_file_store_and_file_registry(tmp_path: Path) -> None:
    settings = Settings(profile=Profile.LOCAL, data_dir=tmp_path)
    config = render_config(yaml_path(Profile.LOCAL).read_text(encoding="utf-8"), feast_env(settings))
    assert config["online_store"] == {"type": "sqlite", "path": f"{tmp_path.resolve()}/feast/online.db"}
    assert config["offline_store"] == {"type": "file"}
    assert config["registry"]["path"].endswith("feast/registry.db")


def test_a_missing_placeholder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CW_NOPE"):
        render_config("path: ${CW_NOPE}\n", {})


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, -3.25, 1e300, 5e-324, float("inf")])
def test_float_values_encode_like_feast(value: float) -> None:
    assert encode_value("float", value) == ValueProto(double_val=value).SerializeToString()


@pytest.mark.parametrize("value", [0, 1, 127, 128, 4095, 4096, 300_000, -1, -(2**63), 2**63 - 1])
def test_int_values_encode_like_feast(value: int) -> None:
    assert encode_value("int", value) == ValueProto(int64_val=value).SerializeToString()


@pytest.mark.parametrize("value", [None, math.nan])
def test_missing_values_encode_as_an_empty_value(value: Any) -> None:
    assert encode_value("float", value) == b""
    assert encode_value("int", None) == b""


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2013, 1, 1, 10, tzinfo=UTC),
        datetime(2013, 6, 1, 0, 0, 0, 123456, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
    ],
)
def test_timestamps_encode_like_feast(stamp: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(stamp)
    seconds, nanos, encoded = encode_timestamp(stamp)
    assert (seconds, nanos, encoded) == (expected.seconds, expected.nanos, expected.SerializeToString())


def test_entity_ttl_is_the_longest_view_ttl_sharing_the_hash() -> None:
    assert entity_ttl("facility") == timedelta(hours=48)
    assert entity_ttl("route") == timedelta(days=30)


def _ops_row(key: str, hour: int, **changes: Any) -> dict[str, Any]:
    spec = VIEWS["facility_ops"]
    row: dict[str, Any] = {"facility_id": key, "event_timestamp": datetime(2013, 1, 1, hour, tzinfo=UTC)}
    row.update({column: 1 for column in spec.columns})
    return row | changes


def test_normalise_rows_keeps_the_last_row_per_key_and_time() -> None:
    spec = VIEWS["facility_ops"]
    rows = [_ops_row("JFK", 1, backlog=1), _ops_row("JFK", 1, backlog=9), _ops_row("JFK", 2, delayed_share_1h=math.nan)]
    out = normalise_rows(spec, rows)
    assert len(out) == 2
    assert out[0][2 + list(spec.columns).index("backlog")] == 9
    assert out[1][2 + list(spec.columns).index("delayed_share_1h")] is None


@pytest.mark.parametrize(
    "row",
    [
        {k: v for k, v in _ops_row("JFK", 1).items() if k != "backlog"},
        _ops_row("JFK", 1, extra=1),
        _ops_row("JFK", 1, event_timestamp=datetime(2013, 1, 1)),  # noqa: DTZ001 - the naive case under test
    ],
)
def test_rows_off_contract_are_rejected(row: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        normalise_rows(VIEWS["facility_ops"], [row])


def test_history_ddl_is_partitioned_keyed_and_upserting() -> None:
    spec = VIEWS["route_history"]
    create = table_ddl(spec)[1]
    assert "PARTITION BY RANGE (event_timestamp)" in create
    assert "PRIMARY KEY (route_id, event_timestamp)" in create
    assert "('2013-12-01 00:00:00+00') TO ('2014-01-01 00:00:00+00')" in partition_ddl(spec, 2013, 12)
    assert "ON CONFLICT (route_id, event_timestamp) DO UPDATE SET flights_28d = EXCLUDED.flights_28d" in upsert_sql(
        spec
    )


class _Flaky:
    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def write(self, view: str, rows: Any) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise DependencyUnavailableError("postgres down")
        return len(rows)


def test_retrying_writer_retries_until_the_store_is_back() -> None:
    inner = _Flaky(failures=2)
    assert RetryingHistoryWriter(inner, attempts=3, initial_wait_s=0.001).write("facility_ops", [{}, {}]) == 2
    assert inner.calls == 3


def test_retrying_writer_gives_up_with_the_error() -> None:
    inner = _Flaky(failures=5)
    with pytest.raises(DependencyUnavailableError):
        RetryingHistoryWriter(inner, attempts=2, initial_wait_s=0.001).write("facility_ops", [{}])
    assert inner.calls == 2
