"""The contract between the feature dataflows and the feature store: views, keys, columns.

Every feature row is a mapping with the view's entity key, ``event_timestamp`` (UTC, the end
of the hour the row describes: when its values became knowable) and the view's columns.
The dataflows produce exactly these columns; ``feature_repo/`` declares exactly these fields;
the history tables have exactly these columns. A test keeps the three in step.

See docs/decisions/0006-feature-tables.md for how rows are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Literal

ColumnType = Literal["float", "int"]
TIMESTAMP_COLUMN = "event_timestamp"


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """One feature view: its entity key, the longest window it looks back, and its columns."""

    name: str
    entity: str
    key: str
    lookback: timedelta
    ttl: timedelta
    columns: MappingProxyType[str, ColumnType]
    description: str

    @property
    def history_table(self) -> str:
        """The offline table (schema-qualified in Postgres) that holds the view's history."""
        return f"features.{self.name}"


def _columns(**columns: ColumnType) -> MappingProxyType[str, ColumnType]:
    return MappingProxyType(columns)


VIEWS: MappingProxyType[str, ViewSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            ViewSpec(
                "facility_weather",
                "facility",
                "facility_id",
                timedelta(hours=3),
                timedelta(hours=6),
                _columns(
                    temperature_c="float",
                    wind_speed_ms="float",
                    wind_gust_max_ms_3h="float",
                    precipitation_mm_1h="float",
                    precipitation_mm_3h="float",
                    visibility_min_m_3h="float",
                    pressure_change_hpa_3h="float",
                    hazard_snow="int",
                    hazard_fog="int",
                    hazard_wind="int",
                    observations_3h="int",
                ),
                "Weather at a facility over the last hours, from hourly observations.",
            ),
            ViewSpec(
                "facility_ops",
                "facility",
                "facility_id",
                timedelta(hours=3),
                timedelta(hours=6),
                _columns(
                    departures_1h="int",
                    departures_3h="int",
                    delayed_share_1h="float",
                    delayed_share_3h="float",
                    mean_dep_delay_min_3h="float",
                    cancellations_1h="int",
                    cancellations_3h="int",
                    backlog="int",
                    arrivals_delayed_share_3h="float",
                ),
                "Congestion and delay propagation at a facility, from shipment events.",
            ),
            ViewSpec(
                "carrier_ops",
                "carrier",
                "carrier_id",
                timedelta(hours=3),
                timedelta(hours=6),
                _columns(
                    departures_3h="int",
                    delayed_share_3h="float",
                    cancellations_3h="int",
                    mean_dep_delay_min_3h="float",
                ),
                "A carrier's recent operations across all facilities.",
            ),
            ViewSpec(
                "route_history",
                "route",
                "route_id",
                timedelta(days=28),
                timedelta(days=30),
                _columns(
                    flights_28d="int",
                    disrupted_rate_28d="float",
                    mean_arr_delay_min_28d="float",
                    cancelled_rate_28d="float",
                ),
                "A route's trailing four-week record of disruption.",
            ),
            ViewSpec(
                "vehicle_status",
                "vehicle",
                "vehicle_id",
                timedelta(hours=24),
                timedelta(hours=48),
                _columns(
                    prev_arrival_delay_min="float",
                    hours_since_last_arrival="float",
                    iot_last_seen_age_min="float",
                    speed_anomaly_6h="int",
                    cargo_temp_excursions_24h="int",
                ),
                "A vehicle's previous leg and its IoT telemetry.",
            ),
            ViewSpec(
                "facility_text",
                "facility",
                "facility_id",
                timedelta(hours=24),
                timedelta(hours=48),
                _columns(
                    social_sentiment_mean_6h="float",
                    social_sentiment_min_6h="float",
                    negative_posts_6h="int",
                    negative_posts_24h="int",
                    news_weather_24h="int",
                    news_labour_24h="int",
                    news_unrest_24h="int",
                    news_closure_24h="int",
                    news_accident_24h="int",
                    news_total_6h="int",
                ),
                "Social sentiment and news events about a facility.",
            ),
        )
    }
)

#: Entity name to its join key.
ENTITY_KEYS = MappingProxyType(
    {"facility": "facility_id", "route": "route_id", "carrier": "carrier_id", "vehicle": "vehicle_id"}
)
