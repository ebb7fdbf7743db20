"""What every feature column means: the schema-adjacent data the registry and docs carry.

Keys are ``(view, column)`` of :data:`streaming.features.schema.VIEWS`; a unit test keeps the
two in step. Windows end at the row's ``event_timestamp`` (the close of the hour it describes).
"""

from __future__ import annotations

from types import MappingProxyType

COLUMN_DESCRIPTIONS: MappingProxyType[tuple[str, str], str] = MappingProxyType(
    {
        ("facility_weather", "temperature_c"): "Air temperature of the latest observation, degrees Celsius.",
        ("facility_weather", "wind_speed_ms"): "Wind speed of the latest observation, m/s.",
        ("facility_weather", "wind_gust_max_ms_3h"): "Highest wind gust over the last 3 h, m/s.",
        ("facility_weather", "precipitation_mm_1h"): "Precipitation over the last hour, mm.",
        ("facility_weather", "precipitation_mm_3h"): "Precipitation over the last 3 h, mm.",
        ("facility_weather", "visibility_min_m_3h"): "Lowest visibility over the last 3 h, metres.",
        ("facility_weather", "pressure_change_hpa_3h"): "Sea-level pressure change over the last 3 h, hPa.",
        ("facility_weather", "hazard_snow"): "1 if snow was observed in the last 3 h, else 0.",
        ("facility_weather", "hazard_fog"): "1 if fog (low visibility) was observed in the last 3 h, else 0.",
        ("facility_weather", "hazard_wind"): "1 if damaging wind was observed in the last 3 h, else 0.",
        ("facility_weather", "observations_3h"): "Weather observations received over the last 3 h.",
        ("facility_ops", "departures_1h"): "Shipments that departed the facility in the last hour.",
        ("facility_ops", "departures_3h"): "Shipments that departed the facility in the last 3 h.",
        ("facility_ops", "delayed_share_1h"): "Share of last-hour departures delayed 15 min or more.",
        ("facility_ops", "delayed_share_3h"): "Share of last-3 h departures delayed 15 min or more.",
        ("facility_ops", "mean_dep_delay_min_3h"): "Mean departure delay over the last 3 h, minutes, capped at 180.",
        ("facility_ops", "cancellations_1h"): "Shipments cancelled at the facility in the last hour.",
        ("facility_ops", "cancellations_3h"): "Shipments cancelled at the facility in the last 3 h.",
        ("facility_ops", "backlog"): "Shipments scheduled before the hour's end, not departed, not cancelled.",
        (
            "facility_ops",
            "arrivals_delayed_share_3h",
        ): "Share of last-3 h arrivals at the facility 15 min or more late.",
        ("carrier_ops", "departures_3h"): "The carrier's departures over the last 3 h, all facilities.",
        ("carrier_ops", "delayed_share_3h"): "Share of the carrier's last-3 h departures delayed 15 min or more.",
        ("carrier_ops", "cancellations_3h"): "The carrier's cancellations over the last 3 h.",
        ("carrier_ops", "mean_dep_delay_min_3h"): "The carrier's mean departure delay over the last 3 h, minutes.",
        ("route_history", "flights_28d"): "Shipments flown on the route over the last 28 days.",
        ("route_history", "disrupted_rate_28d"): "Share of the route's last-28-day shipments that were disrupted.",
        ("route_history", "mean_arr_delay_min_28d"): "Mean arrival delay on the route over 28 days, minutes, capped.",
        ("route_history", "cancelled_rate_28d"): "Share of the route's last-28-day shipments that were cancelled.",
        ("vehicle_status", "prev_arrival_delay_min"): "Arrival delay of the vehicle's previous leg, minutes.",
        ("vehicle_status", "hours_since_last_arrival"): "Hours between the vehicle's last arrival and the hour's end.",
        ("vehicle_status", "iot_last_seen_age_min"): "Minutes since the vehicle's last IoT telemetry message.",
        ("vehicle_status", "speed_anomaly_6h"): "IoT speed anomalies of the vehicle over the last 6 h.",
        ("vehicle_status", "cargo_temp_excursions_24h"): "Cargo temperature excursions over the last 24 h.",
        (
            "facility_text",
            "social_sentiment_mean_6h",
        ): "Mean sentiment (-1..1) of social posts about the facility, 6 h.",
        (
            "facility_text",
            "social_sentiment_min_6h",
        ): "Most negative sentiment of social posts about the facility, 6 h.",
        ("facility_text", "negative_posts_6h"): "Negative social posts about the facility over the last 6 h.",
        ("facility_text", "negative_posts_24h"): "Negative social posts about the facility over the last 24 h.",
        ("facility_text", "news_weather_24h"): "News articles about weather at the facility, last 24 h.",
        ("facility_text", "news_labour_24h"): "News articles about labour action at the facility, last 24 h.",
        ("facility_text", "news_unrest_24h"): "News articles about civil unrest near the facility, last 24 h.",
        ("facility_text", "news_closure_24h"): "News articles about closures of the facility, last 24 h.",
        ("facility_text", "news_accident_24h"): "News articles about accidents at the facility, last 24 h.",
        ("facility_text", "news_total_6h"): "All news articles about the facility over the last 6 h.",
    }
)

ENTITY_DESCRIPTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "facility": "A facility (airport), keyed by its FAA/IATA code, e.g. JFK.",
        "carrier": "A carrier (airline), keyed by its two-character IATA code, e.g. UA.",
        "route": "A lane between two facilities, keyed '<origin>-<destination>', e.g. JFK-LAX.",
        "vehicle": "A vehicle (aircraft), keyed by its tail number, e.g. N14228.",
    }
)


def window_of(column: str, lookback_hours: float) -> str:
    """The look-back window a column summarises, from its suffix (``_3h``, ``_28d``) or the view's."""
    for suffix in ("_1h", "_3h", "_6h", "_24h", "_28d"):
        if column.endswith(suffix):
            return suffix[1:]
    hours = int(lookback_hours)
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 48 else f"{hours}h"
