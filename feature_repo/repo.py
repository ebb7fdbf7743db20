"""What ``feast plan`` / ``feast apply`` register from this folder (services profile).

Run the Feast CLI from ``feature_repo/`` with the project root on ``PYTHONPATH`` and the
environment of :func:`streaming.features.store.feast_env` (see docs/features.md). Python code
uses :func:`streaming.features.store.apply` instead, which applies the same objects.
A unit test checks that this module exposes exactly the objects of ``build_repo``.
"""

from __future__ import annotations

from chainwatch.settings import Profile
from feature_repo.definitions import build_repo
from feature_repo.entities import carrier, facility, route, vehicle
from feature_repo.on_demand import shipment_context

_SERVICES = build_repo(Profile.SERVICES)

facility_weather = _SERVICES.feature_views["facility_weather"]
facility_ops = _SERVICES.feature_views["facility_ops"]
carrier_ops = _SERVICES.feature_views["carrier_ops"]
route_history = _SERVICES.feature_views["route_history"]
vehicle_status = _SERVICES.feature_views["vehicle_status"]
facility_text = _SERVICES.feature_views["facility_text"]
disruption_model_v1 = _SERVICES.feature_services["disruption_model_v1"]

__all__ = [
    "carrier",
    "carrier_ops",
    "disruption_model_v1",
    "facility",
    "facility_ops",
    "facility_text",
    "facility_weather",
    "route",
    "route_history",
    "shipment_context",
    "vehicle",
    "vehicle_status",
]
