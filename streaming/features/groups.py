"""Every feature group by view name: the single registry the flows and the backfill use."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from streaming.features import ops, route, text, vehicle, weather
from streaming.features.rolling import FeatureGroup

GROUPS: MappingProxyType[str, FeatureGroup[Any, Any, Any]] = MappingProxyType(
    {
        group.view.name: group
        for group in (
            weather.GROUP,
            ops.FACILITY_GROUP,
            ops.CARRIER_GROUP,
            route.GROUP,
            vehicle.GROUP,
            text.GROUP,
        )
    }
)
