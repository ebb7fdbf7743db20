"""Every object of the repository for one profile, built from the contract.

Only the batch sources differ between profiles (Postgres tables or parquet files); entities,
views, on-demand views and services are the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feast import Entity, FeatureService, FeatureView
from feast.data_source import DataSource
from feast.on_demand_feature_view import OnDemandFeatureView

from chainwatch.settings import Profile
from feature_repo.data_sources import file_source, postgres_source
from feature_repo.entities import ENTITIES
from feature_repo.feature_services import feature_services
from feature_repo.feature_views import feature_views
from feature_repo.on_demand import shipment_context
from streaming.features.schema import VIEWS


@dataclass(frozen=True)
class RepoDefinition:
    """The Feast objects of one profile."""

    entities: dict[str, Entity]
    batch_sources: dict[str, DataSource]
    feature_views: dict[str, FeatureView]
    on_demand_feature_views: dict[str, OnDemandFeatureView]
    feature_services: dict[str, FeatureService]

    def objects(self) -> list[Any]:
        """Everything to hand to ``FeatureStore.apply`` (sources are applied with their views)."""
        return [
            *self.entities.values(),
            *self.feature_views.values(),
            *self.on_demand_feature_views.values(),
            *self.feature_services.values(),
        ]


def build_repo(profile: Profile, history_dir: Path | None = None) -> RepoDefinition:
    """The repository's objects for ``profile``; ``history_dir`` is required for ``local``."""
    if profile is Profile.SERVICES:
        sources: dict[str, DataSource] = {name: postgres_source(spec) for name, spec in VIEWS.items()}
    else:
        if history_dir is None:
            msg = "the local profile's feature repo needs the parquet history folder"
            raise ValueError(msg)
        sources = {name: file_source(spec, history_dir) for name, spec in VIEWS.items()}
    views = feature_views(sources)
    return RepoDefinition(
        entities=dict(ENTITIES),
        batch_sources=sources,
        feature_views=views,
        on_demand_feature_views={shipment_context.name: shipment_context},
        feature_services=feature_services(views, shipment_context),
    )
