"""Versioned feature services: the exact feature sets models are trained and served with.

A shipment touches two facilities, so facility views enter twice, projected onto the entity
row's ``origin_id`` and ``destination_id`` (``origin_<view>`` / ``destination_<view>``).
Retrieve with ``full_feature_names=True``: several views share column names.
"""

from __future__ import annotations

from collections.abc import Mapping

from feast import FeatureService, FeatureView
from feast.on_demand_feature_view import OnDemandFeatureView

from feature_repo.common import OWNER, tags
from streaming.features.schema import ENTITY_KEYS, VIEWS

#: Entity-row columns of a shipment that facility views are joined on.
FACILITY_ROLES = {"origin": "origin_id", "destination": "destination_id"}


def shipment_projections(views: Mapping[str, FeatureView]) -> list[FeatureView]:
    """Every view projected onto a shipment's entity row (facility views once per role)."""
    projections: list[FeatureView] = []
    for name, spec in VIEWS.items():
        view = views[name]
        if spec.entity != "facility":
            projections.append(view)
            continue
        for role, column in FACILITY_ROLES.items():
            projections.append(view.with_name(f"{role}_{name}").with_join_key_map({ENTITY_KEYS["facility"]: column}))
    return projections


def disruption_model_v1(views: Mapping[str, FeatureView], shipment_context: OnDemandFeatureView) -> FeatureService:
    """Features of the shipment disruption model, version 1: all views plus request context."""
    return FeatureService(
        name="disruption_model_v1",
        features=[*shipment_projections(views), shipment_context],
        description=(
            "Shipment disruption model v1: weather, operations and text signals at origin and destination, "
            "carrier and route record, vehicle status, and request-time calendar features."
        ),
        owner=OWNER,
        tags=tags(model="disruption", version="1"),
    )


def feature_services(
    views: Mapping[str, FeatureView], shipment_context: OnDemandFeatureView
) -> dict[str, FeatureService]:
    """Every feature service of the repository by name."""
    service = disruption_model_v1(views, shipment_context)
    return {service.name: service}
