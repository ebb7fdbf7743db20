"""Feast entities: one per join key of :data:`streaming.features.schema.ENTITY_KEYS`."""

from __future__ import annotations

from types import MappingProxyType

from feast import Entity, ValueType

from feature_repo.catalog import ENTITY_DESCRIPTIONS
from feature_repo.common import OWNER, tags
from streaming.features.schema import ENTITY_KEYS


def _entity(name: str) -> Entity:
    return Entity(
        name=name,
        join_keys=[ENTITY_KEYS[name]],
        value_type=ValueType.STRING,
        description=ENTITY_DESCRIPTIONS[name],
        owner=OWNER,
        tags=tags(entity=name),
    )


facility = _entity("facility")
carrier = _entity("carrier")
route = _entity("route")
vehicle = _entity("vehicle")

ENTITIES: MappingProxyType[str, Entity] = MappingProxyType(
    {"facility": facility, "carrier": carrier, "route": route, "vehicle": vehicle}
)
"""Every entity by name (the same objects as the module attributes)."""
