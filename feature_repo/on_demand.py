"""On-demand features computed at request time from :data:`feature_repo.data_sources.shipment_request`.

Calendar features use UTC (the contract's time base); a model that needs the facility's local
hour should get a local-time request field added here.
"""

# No `from __future__ import annotations`: Feast re-reads the UDF's type hints after
# unpickling it, where a string "pd.DataFrame" no longer resolves.

import pandas as pd
from feast import Field
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, Int64

from feature_repo.common import OWNER, tags
from feature_repo.data_sources import shipment_request

ON_DEMAND_DESCRIPTIONS = {
    "scheduled_hour_utc": "Hour of day (0-23, UTC) of the scheduled departure.",
    "scheduled_weekday": "Day of week (0 = Monday, UTC) of the scheduled departure.",
    "scheduled_month": "Month (1-12, UTC) of the scheduled departure.",
    "route_distance_km": "Great-circle distance of the shipment's route, km.",
    "prediction_horizon_hours": "Hours between the prediction and the scheduled departure.",
}
"""Meaning of each on-demand feature."""


@on_demand_feature_view(  # type: ignore[untyped-decorator]
    sources=[shipment_request],
    # Field descriptions would make Feast 0.67's schema inference reject the view (it compares
    # whole Field objects with the inferred, description-less ones): meanings live in
    # ON_DEMAND_DESCRIPTIONS and docs/features.md instead.
    schema=[
        Field(name="scheduled_hour_utc", dtype=Int64),
        Field(name="scheduled_weekday", dtype=Int64),
        Field(name="scheduled_month", dtype=Int64),
        Field(name="route_distance_km", dtype=Float64),
        Field(name="prediction_horizon_hours", dtype=Float64),
    ],
    mode="pandas",
    description="Calendar and route inputs of one prediction request.",
    owner=OWNER,
    tags=tags(kind="on_demand"),
)
def shipment_context(inputs: pd.DataFrame) -> pd.DataFrame:
    """Calendar features of the scheduled departure, plus distance and horizon passed through."""
    import pandas as pd  # Feast ships the function's source to the server: keep it self-contained

    departure = pd.to_datetime(inputs["scheduled_departure"], utc=True)
    out = pd.DataFrame(index=inputs.index)
    out["scheduled_hour_utc"] = departure.dt.hour.astype("int64")
    out["scheduled_weekday"] = departure.dt.weekday.astype("int64")
    out["scheduled_month"] = departure.dt.month.astype("int64")
    out["route_distance_km"] = inputs["distance_km"].astype("float64")
    out["prediction_horizon_hours"] = inputs["horizon_hours"].astype("float64")
    return out
