"""Feature rows from the dataflow over a week of real 2013 history equal an independent batch recomputation.

The batch side reads the same replayed events and recomputes the documented definitions with
pandas (none of the step functions), so a wrong window boundary, a lookback off by an hour or
a missed quiet-hour row shows up as a difference. The week includes the 8-9 Feb blizzard.
"""

from __future__ import annotations

from typing import Any

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainwatch.datasets import FlightsDataset, load_nycflights, read_local_store
from streaming.features.backfill import SCHEDULE_WARMUP, backfill_rows, replay_for, rows_frame, run_rows

START = datetime(2013, 2, 4, tzinfo=UTC)
END = datetime(2013, 2, 11, tzinfo=UTC)
H = pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def flights() -> FlightsDataset:
    lake = Path(__file__).resolve().parents[2] / "data" / "lake"
    return read_local_store(lake) if lake.exists() else load_nycflights()


def events_of(flights: FlightsDataset, view: str, lookback: timedelta) -> pd.DataFrame:
    """The replayed events the flow reads, as a table (decoded with json, not the step code)."""
    records = replay_for(flights, view, START - lookback - SCHEDULE_WARMUP, END)
    frame = pd.DataFrame([json.loads(r.payload) for r in records])
    for column in [c for c in frame.columns if c == "event_time" or c.startswith(("scheduled_", "actual_"))]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def candidate_hours(times: pd.Series, lookback_h: int) -> list[pd.Timestamp]:
    """Hour ends with an event in the lookback, up to the key's last active hour."""
    ends = sorted(set((times.dt.floor("h") + H).tolist()))
    hours = {end + k * H for end in ends for k in range(lookback_h)}
    return sorted(h for h in hours if h <= ends[-1])


def in_window(frame: pd.DataFrame, end: pd.Timestamp, hours: int) -> pd.DataFrame:
    return frame[(frame["event_time"] >= end - hours * H) & (frame["event_time"] < end)]


def latest(frame: pd.DataFrame, column: str) -> float | None:
    present = frame.dropna(subset=[column]).sort_values(["event_time", "event_id"])
    return None if present.empty else float(present[column].iloc[-1])


def batch_weather(events: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for facility, obs in events.groupby("facility_id"):
        for end in candidate_hours(obs["event_time"], 3):
            w3, w1 = in_window(obs, end, 3), in_window(obs, end, 1)
            gust = w3["wind_gust_ms"].fillna(w3["wind_speed_ms"])
            hourly_precip = [latest(in_window(obs, end - k * H, 1), "precipitation_mm") for k in range(3)]
            hourly_precip = [p for p in hourly_precip if p is not None]
            pressure = w3.dropna(subset=["pressure_hpa"]).sort_values(["event_time", "event_id"])["pressure_hpa"]
            condition = w3["condition"].fillna("").str.lower()
            rows.append({
                "facility_id": facility, "event_timestamp": end,
                "temperature_c": latest(w3, "temperature_c"), "wind_speed_ms": latest(w3, "wind_speed_ms"),
                "wind_gust_max_ms_3h": gust.max(), "precipitation_mm_1h": latest(w1, "precipitation_mm"),
                "precipitation_mm_3h": sum(hourly_precip) if hourly_precip else None,  # type: ignore[arg-type]
                "visibility_min_m_3h": w3["visibility_m"].min(),
                "pressure_change_hpa_3h": pressure.iloc[-1] - pressure.iloc[0] if len(pressure) > 1 else None,
                "hazard_snow": int(condition.str.contains("snow").any()),
                "hazard_fog": int(((condition == "fog") | (w3["visibility_m"] < 1000)).any()),
                "hazard_wind": int(((w3["wind_speed_ms"] >= 12) | (w3["wind_gust_ms"] >= 18)).any()),
                "observations_3h": len(w3),
            })  # fmt: skip
    return rows_frame("facility_weather", rows)


def batch_ops(events: pd.DataFrame) -> pd.DataFrame:
    events = events.assign(
        key=np.where(events["event_type"] == "arrived", events["destination_id"], events["origin_id"]),
        dep_delay=(events["actual_departure"] - events["scheduled_departure"]).dt.total_seconds().clip(upper=10800),
        arr_delay=(events["actual_arrival"] - events["scheduled_arrival"]).dt.total_seconds(),
    )
    rows = []
    for facility, mine in events.groupby("key"):
        schedules = mine[mine["event_type"] == "scheduled"]
        resolved = mine[mine["event_type"].isin(["departed", "cancelled"])].groupby("shipment_id")["event_time"].min()
        for end in candidate_hours(mine["event_time"], 3):
            w3, w1 = in_window(mine, end, 3), in_window(mine, end, 1)
            d3, d1 = w3[w3["event_type"] == "departed"], w1[w1["event_type"] == "departed"]
            a3 = w3[w3["event_type"] == "arrived"]
            known = schedules[(schedules["event_time"] < end) & (schedules["scheduled_departure"] < end)]
            done = known["shipment_id"].map(resolved)
            rows.append({
                "facility_id": facility, "event_timestamp": end,
                "departures_1h": len(d1), "departures_3h": len(d3),
                "delayed_share_1h": (d1["dep_delay"] >= 900).mean() if len(d1) else None,
                "delayed_share_3h": (d3["dep_delay"] >= 900).mean() if len(d3) else None,
                "mean_dep_delay_min_3h": d3["dep_delay"].mean() / 60 if len(d3) else None,
                "cancellations_1h": int((w1["event_type"] == "cancelled").sum()),
                "cancellations_3h": int((w3["event_type"] == "cancelled").sum()),
                "backlog": int((done.isna() | (done >= end)).sum()),
                "arrivals_delayed_share_3h": (a3["arr_delay"] >= 900).mean() if len(a3) else None,
            })  # fmt: skip
    return rows_frame("facility_ops", rows)


def window_of(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = frame["event_timestamp"]
    return frame[(stamps > pd.Timestamp(START)) & (stamps <= pd.Timestamp(END))].reset_index(drop=True)


@pytest.mark.parametrize(("view", "batch"), [("facility_weather", batch_weather), ("facility_ops", batch_ops)])
def test_flow_rows_equal_batch_recomputation(flights, view, batch):
    # given the replayed events of the week
    events = events_of(flights, view, timedelta(hours=3))
    # when the flow runs over them, and the batch recomputes the definitions
    streamed = backfill_rows(flights, view, START, END)
    expected = window_of(batch(events))
    # then both give the same rows, hour by hour, key by key
    assert len(streamed) > 100
    pd.testing.assert_frame_equal(streamed, expected, check_exact=False, rtol=1e-9)


def test_blizzard_is_visible(flights):
    rows = backfill_rows(flights, "facility_ops", START, END).set_index(["facility_id", "event_timestamp"])
    peak = rows.loc["JFK"]["cancellations_3h"].idxmax()
    assert pd.Timestamp("2013-02-08 12:00", tz="UTC") <= peak <= pd.Timestamp("2013-02-09 06:00", tz="UTC")  # type: ignore[operator]
    weather = backfill_rows(flights, "facility_weather", START, END).set_index(["facility_id", "event_timestamp"])
    assert weather.loc["JFK", pd.Timestamp("2013-02-08 23:00", tz="UTC")]["hazard_snow"] == 1  # type: ignore[index]


def shuffled_within(records, minutes: int, seed: int):
    """Records delivered out of order, but never more than ``minutes`` behind the newest."""
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    block: list[Any] = []
    block_start = None
    for record in records:
        if block_start is None or record.event_time - block_start >= timedelta(minutes=minutes):
            rng.shuffle(block)
            out.extend(block)
            block, block_start = [], record.event_time
        block.append(record)
    rng.shuffle(block)
    return out + block


@pytest.mark.parametrize(
    "view", ["facility_weather", "facility_ops", "carrier_ops", "route_history", "vehicle_status", "facility_text"]
)
def test_stream_and_backfill_give_identical_rows(flights, view):
    # given a day of events (the blizzard), delivered in different chunkings and out of order within 5 min
    start, end = datetime(2013, 2, 8, tzinfo=UTC), datetime(2013, 2, 9, tzinfo=UTC)
    records = replay_for(flights, view, start, end)
    results = [
        run_rows(view, records, now=end, batch=1_000),
        run_rows(view, records, now=end, batch=7),
        run_rows(view, shuffled_within(records, 5, seed=1), now=end, batch=13),
    ]
    runs = [rows for rows, _letters in results]
    assert all(letters == [] for _rows, letters in results)
    # then every run gives exactly the same rows, and nothing was late
    frames = [rows_frame(view, rows) for rows in runs]
    assert len(frames[0]) > 50
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other, check_exact=True)
