"""Feature views generated from :data:`streaming.features.schema.VIEWS`, so they cannot drift.

Column types map ``float`` to Float64 and ``int`` to Int64; every field carries its meaning
from :mod:`feature_repo.catalog`. ``ttl`` is the contract's TTL (Feast enforces it offline
only; online staleness is bounded by Redis key TTLs and checked on ``event_timestamp``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from feast import FeatureView, Field
from feast.data_source import DataSource
from feast.types import Float64, Int64, PrimitiveFeastType

from feature_repo.catalog import COLUMN_DESCRIPTIONS, window_of
from feature_repo.common import OWNER, tags
from feature_repo.data_sources import push_source
from feature_repo.entities import ENTITIES
from streaming.features.schema import VIEWS, ColumnType, ViewSpec

FEAST_TYPES: Mapping[ColumnType, PrimitiveFeastType] = {"float": Float64, "int": Int64}
"""Contract column type to Feast type."""


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def fields_of(spec: ViewSpec) -> list[Field]:
    """The Feast fields of ``spec``, in contract order, each with description and window tag."""
    return [
        Field(
            name=column,
            dtype=FEAST_TYPES[kind],
            description=COLUMN_DESCRIPTIONS[(spec.name, column)],
            tags={"window": window_of(column, _hours(spec.lookback))},
        )
        for column, kind in spec.columns.items()
    ]


def feature_view(spec: ViewSpec, batch_source: DataSource) -> FeatureView:
    """The feature view of ``spec`` reading history from ``batch_source`` (through a push source)."""
    return FeatureView(
        name=spec.name,
        entities=[ENTITIES[spec.entity]],
        ttl=spec.ttl,
        schema=fields_of(spec),
        source=push_source(spec, batch_source),
        online=True,
        description=spec.description,
        owner=OWNER,
        tags=tags(
            view=spec.name,
            entity=spec.entity,
            lookback_hours=f"{_hours(spec.lookback):g}",
            freshness="hourly, at the close of each hour",
        ),
    )


def feature_views(batch_sources: Mapping[str, DataSource]) -> dict[str, FeatureView]:
    """One feature view per contract view, each over ``batch_sources[view]``."""
    return {name: feature_view(spec, batch_sources[name]) for name, spec in VIEWS.items()}
