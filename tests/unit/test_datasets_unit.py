"""Pure conversion logic of chainwatch.datasets on tiny hand-made frames."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from chainwatch.datasets import (
    LABEL_COLUMN,
    SHIPMENT_FEATURE_COLUMNS,
    FlightsDataset,
    feature_columns_are_safe,
    read_local_store,
    summarize,
    validate,
    write_local_store,
)
from chainwatch.datasets.nycflights import RawTables, build_dataset
from chainwatch.datasets.timezones import hhmm_to_minutes, local_dates, local_to_utc, next_instant_at
from chainwatch.datasets.weather import build_weather, clean_weather, to_metric
from chainwatch.entities import shipment_id
from chainwatch.errors import DataQualityError, NotFoundError

NY = "America/New_York"


def naive(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps)))


def utc(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), utc=True)).astype("datetime64[ns, UTC]")


# --- clock readings and dates ---------------------------------------------------------------


def test_hhmm_readings_become_minutes_after_midnight() -> None:
    readings = pd.Series([0, 545, 2359, 2400, None], dtype="Float64", name="dep_time")
    assert hhmm_to_minutes(readings).tolist() == [0, 345, 1439, 1440, pd.NA]


@pytest.mark.parametrize("bad", [1260, 2401, -5])
def test_impossible_hhmm_readings_are_rejected(bad: int) -> None:
    with pytest.raises(DataQualityError, match="invalid hhmm"):
        hhmm_to_minutes(pd.Series([100, bad], name="sched_dep_time"))


def test_calendar_columns_become_local_midnights() -> None:
    dates = local_dates(pd.Series([2013, 2012]), pd.Series([12, 2]), pd.Series([31, 29]))
    assert dates.tolist() == [pd.Timestamp("2013-12-31"), pd.Timestamp("2012-02-29")]


def test_non_dates_are_rejected() -> None:
    with pytest.raises(DataQualityError, match="out of range"):
        local_dates(pd.Series([2013]), pd.Series([2]), pd.Series([29]))


# --- local wall clock to UTC, DST included --------------------------------------------------


def test_spring_forward_readings_use_the_offset_in_force() -> None:
    # given readings around 2013-03-10 02:00 EST -> 03:00 EDT in New York
    local = naive("2013-03-10 01:30", "2013-03-10 02:30", "2013-03-10 03:30")
    # when converted with the default fold 0
    result = local_to_utc(local, NY)
    # then 02:30 (nonexistent) reads with the pre-transition offset, like 01:30 EST
    assert result.tolist() == utc("2013-03-10 06:30", "2013-03-10 07:30", "2013-03-10 07:30").tolist()


def test_fall_back_readings_pick_the_occurrence_by_fold() -> None:
    # given 01:30 on 2013-11-03, which New York clocks show twice
    local = naive("2013-11-03 01:30", "2013-11-03 01:30", "2013-11-03 00:30", "2013-11-03 02:30")
    # when the second reading is marked as the repeat
    result = local_to_utc(local, NY, fold=[False, True, False, False])
    # then the first is daylight time (EDT) and the repeat standard time (EST)
    expected = utc("2013-11-03 05:30", "2013-11-03 06:30", "2013-11-03 04:30", "2013-11-03 07:30")
    assert result.tolist() == expected.tolist()


@pytest.mark.parametrize("zone", [NY, "America/Los_Angeles", "America/Puerto_Rico", "Pacific/Honolulu"])
@pytest.mark.parametrize("day", [date(2013, 3, 10), date(2013, 11, 3), date(2013, 7, 1)])
@pytest.mark.parametrize("fold", [0, 1])
def test_conversion_agrees_with_zoneinfo_every_quarter_hour(zone: str, day: date, fold: int) -> None:
    # given every quarter hour of a day in a zone
    stamps = pd.date_range(pd.Timestamp(day), periods=96, freq="15min")
    # when converted
    result = local_to_utc(pd.Series(stamps), zone, fold=[bool(fold)] * 96)
    # then each equals Python's own PEP 495 conversion
    expected = [stamp.to_pydatetime().replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC) for stamp in stamps]
    assert [value.to_pydatetime() for value in result] == expected


def test_per_row_zones_and_missing_readings() -> None:
    local = naive("2013-07-01 12:00", "2013-07-01 12:00", "NaT")
    zones = pd.Series(["America/Chicago", "America/St_Thomas", NY])
    result = local_to_utc(local, zones)
    assert result.iloc[:2].tolist() == utc("2013-07-01 17:00", "2013-07-01 16:00").tolist()
    assert pd.isna(result.iloc[2])
    assert str(result.dtype) == "datetime64[ns, UTC]"


def test_unknown_or_missing_zones_are_rejected() -> None:
    local = naive("2013-07-01 12:00")
    with pytest.raises(DataQualityError, match="unknown time zone"):
        local_to_utc(local, "Mars/Olympus_Mons")
    with pytest.raises(DataQualityError, match="no time zone"):
        local_to_utc(local, pd.Series([None], dtype="string"))


# --- scheduled arrival: the first instant after departure at the arrival reading ------------


def test_arrival_reading_before_departure_reading_is_next_day() -> None:
    # given a 21:00 EDT departure from New York arriving 00:15 in Los Angeles
    departure = utc("2013-06-01 01:00")  # 21:00 EDT on 31 May
    arrival, offset = next_instant_at(departure, naive("2013-05-31"), pd.Series([15]), "America/Los_Angeles")
    # then the arrival is 00:15 PDT on 1 June, an overnight arrival
    assert arrival.tolist() == utc("2013-06-01 07:15").tolist()
    assert offset.tolist() == [1]


def test_earlier_reading_in_a_zone_behind_is_the_same_day() -> None:
    # given 10:00 EDT from New York, arriving at 09:50 Chicago time (a 50-minute hop)
    arrival, offset = next_instant_at(utc("2013-06-01 14:00"), naive("2013-06-01"), pd.Series([590]), "America/Chicago")
    # then "earlier" on the clock is still the same day, not 24 h later
    assert arrival.tolist() == utc("2013-06-01 14:50").tolist()
    assert offset.tolist() == [0]


def test_overnight_arrival_into_the_spring_forward_gap() -> None:
    # given 23:00 EST on 9 March arriving at 02:30 local on 10 March, which clocks skip
    arrival, offset = next_instant_at(utc("2013-03-10 04:00"), naive("2013-03-09"), pd.Series([150]), NY)
    # then it is read with the pre-transition offset: 07:30 UTC (03:30 EDT)
    assert arrival.tolist() == utc("2013-03-10 07:30").tolist()
    assert offset.tolist() == [1]


# --- weather: units, cleaning, observation times --------------------------------------------


def _raw_weather(**overrides: list[float]) -> pd.DataFrame:
    columns: dict[str, list[float]] = {
        "temp": [32.0, 212.0],
        "dewp": [14.0, 50.0],
        "humid": [50.0, 60.0],
        "wind_dir": [0.0, 360.0],
        "wind_speed": [10.0, 0.0],
        "wind_gust": [20.0, float("nan")],
        "precip": [1.0, 0.0],
        "pressure": [1013.25, float("nan")],
        "visib": [10.0, 0.5],
    }
    return pd.DataFrame(columns | overrides)


def test_weather_is_converted_to_metric_units() -> None:
    metric = to_metric(_raw_weather())
    assert metric.loc[0, "temperature_c"] == pytest.approx(0.0)
    assert metric.loc[1, "temperature_c"] == pytest.approx(100.0)
    assert metric.loc[0, "dew_point_c"] == pytest.approx(-10.0)
    assert metric.loc[0, "wind_speed_ms"] == pytest.approx(4.4704)
    assert metric.loc[0, "wind_gust_ms"] == pytest.approx(8.9408)
    assert metric.loc[0, "precipitation_mm"] == pytest.approx(25.4)
    assert metric.loc[0, "pressure_hpa"] == pytest.approx(1013.25)
    assert metric.loc[0, "visibility_m"] == pytest.approx(16_093.44)
    assert metric.loc[1, "wind_direction_deg"] == 360.0
    assert metric["wind_gust_ms"].isna().iloc[1]
    assert set(metric.dtypes.astype(str)) == {"Float64"}


def test_impossible_weather_values_become_missing_and_are_counted() -> None:
    # given the known 1048 mph wind speed, a humidity of 101 % and a dew point above the air
    raw = _raw_weather(wind_speed=[1048.36058, 5.0], humid=[101.0, 60.0], temp=[32.0, 50.0], dewp=[14.0, 55.0])
    # when cleaned
    cleaned, counts = clean_weather(to_metric(raw))
    # then exactly those values are missing, counted per rule
    assert cleaned["wind_speed_ms"].isna().iloc[0]
    assert cleaned["humidity_pct"].isna().iloc[0]
    assert cleaned["dew_point_c"].isna().iloc[1]
    assert counts["weather.wind_speed_ms.out_of_range"] == 1
    assert counts["weather.humidity_pct.out_of_range"] == 1
    assert counts["weather.dew_point_c.above_temperature"] == 1
    # and valid or already-missing values are untouched and not counted
    assert cleaned.loc[1, "wind_speed_ms"] == pytest.approx(5 * 0.44704)
    assert counts["weather.pressure_hpa.out_of_range"] == 0


def test_weather_repeated_local_hour_is_standard_time_and_duplicates_are_dropped() -> None:
    # given EWR hours around the fall-back, the repeated 01:00 listed twice, then once more
    hours = [0, 1, 1, 1, 2]
    raw = (
        pd.concat([_raw_weather()] * 3, ignore_index=True)
        .iloc[:5]
        .assign(origin="EWR", year=2013, month=11, day=3, hour=hours)
    )
    # when built
    weather, counts = build_weather(raw, NY)
    # then the repeat is the standard-time hour and the third copy collides and is dropped
    assert (
        weather["observed_at"].tolist()
        == utc("2013-11-03 04:00", "2013-11-03 05:00", "2013-11-03 06:00", "2013-11-03 07:00").tolist()
    )
    assert counts["weather.duplicates_dropped"] == 1
    assert weather["facility_id"].tolist() == ["EWR"] * 4


# --- feature guard --------------------------------------------------------------------------


def test_feature_guard_names_every_post_departure_column() -> None:
    with pytest.raises(DataQualityError, match="arrival_delay_min, cancelled") as caught:
        feature_columns_are_safe(["distance_km", "cancelled", "arrival_delay_min"])
    assert "distance_km" not in str(caught.value)


def test_feature_guard_refuses_raw_outcome_names_and_accepts_schedule_columns() -> None:
    with pytest.raises(DataQualityError, match="dep_delay"):
        feature_columns_are_safe(["dep_delay"])
    feature_columns_are_safe(SHIPMENT_FEATURE_COLUMNS)


# --- whole build on a tiny raw dataset ------------------------------------------------------


@pytest.fixture
def tiny_raw() -> RawTables:
    nan = float("nan")
    flights = pd.DataFrame(
        {
            "year": [2013] * 4,
            "month": [3, 3, 3, 3],
            "day": [9, 9, 9, 10],
            "dep_time": [2300.0, 1000.0, nan, 900.0],
            "sched_dep_time": [2300, 955, 1200, 900],
            "dep_delay": [0.0, 5.0, nan, 0.0],
            "arr_time": [235.0, 1410.0, nan, nan],
            "sched_arr_time": [210, 1400, 1640, 1300],
            "arr_delay": [25.0, 10.0, nan, nan],
            "carrier": ["B6", "UA", "UA", "B6"],
            "flight": [1, 1545, 1546, 7],
            "tailnum": ["N1", "N14228", None, "N2"],
            "origin": ["JFK", "EWR", "EWR", "JFK"],
            "dest": ["PBI", "SJU", "SJU", "PBI"],
            "air_time": [150.0, 200.0, nan, nan],
            "distance": [1028, 1608, 1608, 1028],
            "hour": [23, 9, 12, 9],
            "minute": [0, 55, 0, 0],
            "time_hour": [
                "2013-03-10T04:00:00Z",
                "2013-03-09T14:00:00Z",
                "2013-03-09T17:00:00Z",
                "2013-03-10T13:00:00Z",
            ],
        }
    )
    airports = pd.DataFrame(
        {
            "faa": ["JFK", "EWR", "PBI"],
            "name": ["John F Kennedy Intl", "Newark Liberty Intl", "Palm Beach Intl"],
            "lat": [40.64, 40.69, 26.68],
            "lon": [-73.78, -74.17, -80.10],
            "alt": [13, 18, 19],
            "tz": [-5, -5, -5],
            "dst": ["A"] * 3,
            "tzone": [NY] * 3,
        }
    )
    planes = pd.DataFrame(
        {
            "tailnum": ["N14228"],
            "year": [1999.0],
            "type": ["Fixed wing multi engine"],
            "manufacturer": ["BOEING"],
            "model": ["737-824"],
            "engines": [2],
            "seats": [149],
            "speed": [nan],
            "engine": ["Turbo-fan"],
        }
    )
    airlines = pd.DataFrame({"carrier": ["B6", "UA"], "name": ["JetBlue Airways", "United Air Lines Inc."]})
    weather = _raw_weather().assign(origin="JFK", year=2013, month=3, day=10, hour=[1, 3])
    return RawTables(flights=flights, weather=weather, airports=airports, planes=planes, airlines=airlines)


@pytest.fixture
def tiny(tiny_raw: RawTables) -> FlightsDataset:
    return build_dataset(tiny_raw)


def test_tiny_build_times_and_labels_each_flight(tiny: FlightsDataset) -> None:
    shipments = tiny.shipments.set_index("shipment_id")
    red_eye = shipments.loc[shipment_id("B6", 1, date(2013, 3, 9), "JFK")]
    on_time = shipments.loc[shipment_id("UA", 1545, date(2013, 3, 9), "EWR")]
    # the 23:00 EST red-eye is due 02:10 on 10 March, a reading clocks skip: read as EST
    assert red_eye["scheduled_departure"] == pd.Timestamp("2013-03-10 04:00", tz="UTC")
    assert red_eye["scheduled_arrival"] == pd.Timestamp("2013-03-10 07:10", tz="UTC")
    assert red_eye["actual_arrival"] == pd.Timestamp("2013-03-10 07:35", tz="UTC")
    assert red_eye["arrival_delay_min"] == 25
    assert bool(red_eye[LABEL_COLUMN])
    # the Newark-San Juan flight: SJU is absent from the raw airports, the supplement resolves
    # it (Atlantic time, UTC-4); 10 minutes late is on time; miles become kilometres
    assert on_time["scheduled_departure"] == pd.Timestamp("2013-03-09 14:55", tz="UTC")
    assert on_time["actual_departure"] == pd.Timestamp("2013-03-09 15:00", tz="UTC")
    assert on_time["scheduled_arrival"] == pd.Timestamp("2013-03-09 18:00", tz="UTC")
    assert not bool(on_time[LABEL_COLUMN])
    assert on_time["distance_km"] == pytest.approx(1608 * 1.609344)
    assert on_time["route_id"] == "EWR-SJU"


def test_tiny_build_flags_cancelled_and_diverted(tiny: FlightsDataset) -> None:
    shipments = tiny.shipments.set_index("shipment_id")
    cancelled = shipments.loc[shipment_id("UA", 1546, date(2013, 3, 9), "EWR")]
    diverted = shipments.loc[shipment_id("B6", 7, date(2013, 3, 10), "JFK")]
    # no dep_time: cancelled, no vehicle, no actual times, disrupted
    assert bool(cancelled["cancelled"])
    assert not bool(cancelled["diverted"])
    assert pd.isna(cancelled["vehicle_id"])
    assert pd.isna(cancelled["actual_departure"])
    assert bool(cancelled[LABEL_COLUMN])
    # departed, no arrival delay: diverted, no actual arrival, disrupted
    assert bool(diverted["diverted"])
    assert not bool(diverted["cancelled"])
    assert pd.notna(diverted["actual_departure"])
    assert pd.isna(diverted["actual_arrival"])
    assert bool(diverted[LABEL_COLUMN])
    # and unregistered tail numbers still become vehicles
    vehicles = tiny.vehicles.set_index("vehicle_id")
    assert vehicles["registered"].to_dict() == {"N1": False, "N14228": True, "N2": False}
    assert vehicles.loc["N14228", "year_built"] == 1999


def test_tiny_dataset_is_valid(tiny: FlightsDataset) -> None:
    validate(tiny)


def test_validate_lists_every_failed_expectation(tiny: FlightsDataset) -> None:
    # given a duplicated shipment, an impossible latitude and a wrong label
    shipments = pd.concat([tiny.shipments, tiny.shipments.iloc[[0]]], ignore_index=True)
    shipments["disrupted"] = shipments["disrupted"].mask(shipments.index == 1, ~shipments["disrupted"])
    facilities = tiny.facilities.assign(lat=tiny.facilities["lat"].mask(tiny.facilities["facility_id"] == "PBI", 95.0))
    broken = FlightsDataset(shipments, tiny.weather, facilities, tiny.carriers, tiny.vehicles)
    # when validated
    with pytest.raises(DataQualityError) as caught:
        validate(broken)
    # then one error lists all three, with counts and example keys
    message = str(caught.value)
    assert "3 dataset expectations failed" in message
    assert "shipments key ['shipment_id'] is unique: 2 rows" in message
    assert "facilities.lat within [-90, 90]: 1 rows (e.g. PBI)" in message
    wrong_label = str(shipments.loc[1, "shipment_id"])
    assert f"disrupted = cancelled | diverted | arrival_delay_min >= 15: 1 rows (e.g. {wrong_label})" in message


def test_validate_refuses_naive_timestamps(tiny: FlightsDataset) -> None:
    weather = tiny.weather.assign(observed_at=tiny.weather["observed_at"].dt.tz_localize(None))
    broken = FlightsDataset(tiny.shipments, weather, tiny.facilities, tiny.carriers, tiny.vehicles)
    with pytest.raises(DataQualityError, match=r"weather.observed_at is datetime64\[ns, UTC\]"):
        validate(broken)


def test_tiny_store_round_trip_and_summary(tiny: FlightsDataset, tmp_path: Path) -> None:
    written = write_local_store(tiny, tmp_path)
    assert written["manifest"].is_file()
    back = read_local_store(tmp_path)
    for name, frame in tiny.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], frame, check_exact=True)
    summary = summarize(back)
    assert summary.row_counts == {"shipments": 4, "weather": 2, "facilities": 7, "carriers": 2, "vehicles": 3}
    assert summary.label_prevalence == pytest.approx(3 / 4)
    assert summary.per_origin == {"EWR": 2, "JFK": 2}


def test_reading_a_missing_store_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"shipments\.parquet"):
        read_local_store(tmp_path)


def test_flights_to_an_unknown_airport_are_refused(tiny_raw: RawTables) -> None:
    # given a flight to an airport in neither the airports table nor the supplement
    flights = tiny_raw.flights.assign(dest=["PBI", "SJU", "SJU", "XYZ"])
    raw = RawTables(flights, tiny_raw.weather, tiny_raw.airports, tiny_raw.planes, tiny_raw.airlines)
    # then the build names it instead of failing later on a missing time zone
    with pytest.raises(DataQualityError, match="not facilities: XYZ"):
        build_dataset(raw)


def test_malformed_codes_are_refused_as_data_quality_errors(tiny_raw: RawTables) -> None:
    flights = tiny_raw.flights.assign(carrier=["B6", "U!", "UA", "B6"])
    raw = RawTables(flights, tiny_raw.weather, tiny_raw.airports, tiny_raw.planes, tiny_raw.airlines)
    with pytest.raises(DataQualityError, match="invalid carrier id 'U!'"):
        build_dataset(raw)


def test_fractional_clock_readings_are_refused() -> None:
    with pytest.raises(DataQualityError, match="invalid hhmm"):
        hhmm_to_minutes(pd.Series([545.5], name="dep_time"))


def test_broken_airport_rows_are_corrected_and_caribbean_ones_added(tiny_raw: RawTables) -> None:
    # given the source row of Keene, NH with latitude and longitude swapped and no zone
    keene = pd.DataFrame(
        {
            "faa": ["EEN"],
            "name": ["Dillant Hopkins Airport"],
            "lat": [72.270833],
            "lon": [42.898333],
            "alt": [149],
            "tz": [-5],
            "dst": ["A"],
            "tzone": [None],
        }
    )
    airports = pd.concat([tiny_raw.airports, keene], ignore_index=True)
    raw = RawTables(tiny_raw.flights, tiny_raw.weather, airports, tiny_raw.planes, tiny_raw.airlines)
    # when built
    dataset = build_dataset(raw)
    # then Keene sits in New Hampshire with a zone, and the four Caribbean airports exist
    facilities = dataset.facilities.set_index("facility_id")
    assert [facilities.at["EEN", column] for column in ("lat", "lon", "tzone")] == [
        42.8983,
        -72.2708,
        "America/New_York",
    ]
    assert facilities.loc["EEN", "altitude_m"] == pytest.approx(149 * 0.3048)
    assert {"BQN", "PSE", "SJU", "STT"} <= set(facilities.index)
    assert dataset.quality["facilities.corrected"] == 1
    assert dataset.quality["facilities.supplemented"] == 4
