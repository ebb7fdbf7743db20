"""Feast data sources: where each view's history lives, per profile, plus push and request sources.

* services: a :class:`PostgreSQLSource` reading the history table ``features.<view>``
  (written by :mod:`streaming.features.offline`).
* local: a :class:`FileSource` over ``<history_dir>/<view>.parquet`` (same columns).

Each view also gets a :class:`PushSource` (``<view>_push``) so other teams can push rows with
Feast's own ``push`` API or ``feast serve``'s ``/push``. Request-time inputs of the disruption
model arrive through :data:`shipment_request`.
"""

from __future__ import annotations

from pathlib import Path

from feast import FileSource, PushSource, RequestSource
from feast.data_source import DataSource
from feast.field import Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource
from feast.types import Float64, UnixTimestamp

from feature_repo.common import OWNER, tags
from streaming.features.schema import TIMESTAMP_COLUMN, ViewSpec


def postgres_source(spec: ViewSpec) -> PostgreSQLSource:
    """The services profile's batch source of ``spec``: its Postgres history table."""
    return PostgreSQLSource(
        name=f"{spec.name}_history",
        table=spec.history_table,
        timestamp_field=TIMESTAMP_COLUMN,
        description=f"History of {spec.name}: one row per {spec.key} and closed hour (Postgres).",
        owner=OWNER,
        tags=tags(view=spec.name, profile="services"),
    )


def file_source(spec: ViewSpec, history_dir: Path) -> FileSource:
    """The local profile's batch source of ``spec``: ``<history_dir>/<view>.parquet``."""
    return FileSource(
        name=f"{spec.name}_history",
        path=str(history_dir.resolve() / f"{spec.name}.parquet"),
        timestamp_field=TIMESTAMP_COLUMN,
        description=f"History of {spec.name}: one row per {spec.key} and closed hour (parquet).",
        owner=OWNER,
        tags=tags(view=spec.name, profile="local"),
    )


def push_source(spec: ViewSpec, batch_source: DataSource) -> PushSource:
    """A push source for ``spec`` backed by ``batch_source`` (online pushes only on Postgres)."""
    return PushSource(
        name=f"{spec.name}_push",
        batch_source=batch_source,
        description=f"Push endpoint of {spec.name} (online only: Feast's Postgres store takes no offline push).",
        owner=OWNER,
        tags=tags(view=spec.name),
    )


shipment_request = RequestSource(
    name="shipment_request",
    schema=[
        Field(name="scheduled_departure", dtype=UnixTimestamp, description="Scheduled departure, UTC."),
        Field(name="distance_km", dtype=Float64, description="Great-circle distance of the route, km."),
        Field(name="horizon_hours", dtype=Float64, description="Hours between prediction and departure."),
    ],
    description="Inputs known when a prediction is requested for one shipment.",
    owner=OWNER,
    tags=tags(kind="request"),
)
