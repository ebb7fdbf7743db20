"""The full 2013 replay: every record valid, counts match the dataset, order is event time."""

from __future__ import annotations

import pandas as pd
import pytest

from chainwatch.datasets.schema import FlightsDataset
from chainwatch.schemas.decode import Decoded, decode_event
from chainwatch.schemas.topics import topic_spec
from streaming.replay import ALL_TOPICS, SHIPMENTS_TOPIC, WEATHER_TOPIC, ReplayConfig, build_replay


@pytest.fixture(scope="module")
def replay(dataset: FlightsDataset) -> pd.DataFrame:
    return build_replay(dataset, ReplayConfig())


def test_every_record_validates_against_its_topic_model(replay: pd.DataFrame) -> None:
    invalid = []
    for topic, payload in zip(replay["topic"], replay["payload"], strict=True):
        result = decode_event(topic_spec(topic), payload.encode(), source="test")
        if not isinstance(result, Decoded):
            invalid.append(result.detail)
    assert invalid == []


def test_counts_match_the_dataset(replay: pd.DataFrame, dataset: FlightsDataset) -> None:
    shipments = dataset.shipments
    flown = int(shipments["actual_departure"].notna().sum())
    landed = int(shipments["actual_arrival"].notna().sum())
    cancelled = int(shipments["cancelled"].sum())
    kinds = replay.loc[replay["topic"] == SHIPMENTS_TOPIC, "payload"].str.extract(r'"event_type":"(\w+)"')[0]

    assert kinds.value_counts().to_dict() == {
        "scheduled": len(shipments),
        "departed": flown,
        "arrived": landed,
        "cancelled": cancelled,
    }
    assert int((replay["topic"] == WEATHER_TOPIC).sum()) == len(dataset.weather)
    assert replay["payload"].str.extract(r'"event_id":"([^"]+)"')[0].is_unique


def test_records_are_in_event_time_order(replay: pd.DataFrame) -> None:
    assert replay["event_time"].is_monotonic_increasing


def test_a_date_range_is_exactly_the_full_replay_cut_by_event_time(
    dataset: FlightsDataset, replay: pd.DataFrame
) -> None:
    start, end = pd.Timestamp("2013-02-08", tz="UTC"), pd.Timestamp("2013-02-10", tz="UTC")

    window = build_replay(dataset, ReplayConfig(start=start.to_pydatetime(), end=end.to_pydatetime()))

    expected = replay[(replay["event_time"] >= start) & (replay["event_time"] < end)]
    assert window["payload"].tolist() == expected["payload"].tolist()
    assert len(window) > 1000


def test_synthetic_text_joins_the_replay_labelled_and_in_range(dataset: FlightsDataset) -> None:
    start, end = pd.Timestamp("2013-02-08", tz="UTC"), pd.Timestamp("2013-02-10", tz="UTC")

    window = build_replay(dataset, ReplayConfig(start=start.to_pydatetime(), end=end.to_pydatetime(), topics=ALL_TOPICS))

    text = window[window["topic"].isin(["social.posts.v1", "news.articles.v1"])]
    assert set(text["topic"]) == {"social.posts.v1", "news.articles.v1"}
    assert text["payload"].str.contains('"source":"synthetic:').all()
    assert window["event_time"].is_monotonic_increasing
    assert (window["event_time"] >= start).all()
    assert (window["event_time"] < end).all()
    for topic, payload in zip(text["topic"], text["payload"], strict=True):
        assert isinstance(decode_event(topic_spec(topic), payload.encode(), source="test"), Decoded)
