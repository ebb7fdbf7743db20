"""The feature pipeline on the local profile over real 2013 history: backfill, cache, online reads, demo."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from chainwatch.cli import main
from chainwatch.datasets import FlightsDataset
from chainwatch.settings import Profile, Settings
from streaming.features.backfill import backfill_rows
from streaming.features.offline import history_dir
from streaming.features.pipeline import backfill
from streaming.features.schema import TIMESTAMP_COLUMN, VIEWS
from streaming.features.store import feature_store

START = datetime(2013, 2, 8, tzinfo=UTC)
END = datetime(2013, 2, 9, 6, tzinfo=UTC)
VIEWS_UNDER_TEST = ["facility_weather", "facility_ops"]
AIRPORTS = ["EWR", "JFK", "LGA"]
REPO_LAKE = Path(__file__).resolve().parents[2] / "data" / "lake"


def test_a_local_backfill_writes_the_flow_rows_serves_them_online_and_is_cached(
    tmp_path: Path, dataset: FlightsDataset
) -> None:
    # given an empty local feature store
    settings = Settings(profile=Profile.LOCAL, data_dir=tmp_path)
    # when backfilling two views over a day and a half of the blizzard
    run = backfill(settings, start=START, end=END, views=VIEWS_UNDER_TEST, dataset=dataset)
    # then each view's history equals the backfill path's rows for the range
    assert not run.cached
    for view in VIEWS_UNDER_TEST:
        spec = VIEWS[view]
        expected = backfill_rows(dataset, view, START, END)
        history = pd.read_parquet(history_dir(settings) / f"{view}.parquet")
        history = history.sort_values([spec.key, TIMESTAMP_COLUMN], ignore_index=True)
        pd.testing.assert_frame_equal(history, expected, check_dtype=False)
        assert {result.view: result.rows for result in run.views}[view] == len(expected)
        # and Feast's online read gives each airport's newest row
        newest = expected.sort_values(TIMESTAMP_COLUMN).groupby(spec.key).tail(1).set_index(spec.key)
        column = next(iter(spec.columns))
        online: dict[str, Any] = (
            feature_store(settings)
            .get_online_features(features=[f"{view}:{column}"], entity_rows=[{"facility_id": a} for a in AIRPORTS])
            .to_dict(include_event_timestamps=True)
        )
        stamps = pd.to_datetime(newest.loc[AIRPORTS, TIMESTAMP_COLUMN], utc=True)
        assert online[f"{column}__ts"] == [int(stamp.timestamp()) for stamp in stamps]
        assert online[column] == pytest.approx([newest.loc[a, column] for a in AIRPORTS], nan_ok=True)
    # when the same backfill is asked for again
    started = time.perf_counter()
    again = backfill(settings, start=START, end=END, views=list(reversed(VIEWS_UNDER_TEST)), dataset=dataset)
    # then it comes from the cache, at once, with the same counts
    assert again.cached
    assert time.perf_counter() - started < 2
    assert [r.rows for r in again.views] == [r.rows for r in run.views]
    # and --force runs it again
    assert not backfill(settings, start=START, end=END, views=VIEWS_UNDER_TEST, dataset=dataset, force=True).cached


def test_the_demo_shows_blizzard_features_online_and_caches_the_backfill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a data folder whose dataset store already exists (the dataset itself is tested elsewhere)
    monkeypatch.setenv("CHAINWATCH_PROFILE", "local")
    if REPO_LAKE.exists():
        (tmp_path / "lake").symlink_to(REPO_LAKE)
    # when the demo runs
    assert main(["--data-dir", str(tmp_path), "demo"]) == 0
    # then it prints online features of the three airports during the storm, and the store's place
    first = capsys.readouterr().out
    assert "online features (Feast get_online_features)" in first
    snow = next(line for line in first.splitlines() if "facility_weather:hazard_snow" in line)
    assert snow.split("│")[2:5] == [" 1       ", " 1       ", " 1       "]
    assert str((tmp_path / "feast").resolve()) in first.replace("\n", "")
    # when it runs again, then the backfill comes from the cache
    started = time.perf_counter()
    assert main(["--data-dir", str(tmp_path), "demo"]) == 0
    assert "cached from an earlier run" in capsys.readouterr().out
    assert time.perf_counter() - started < 30
